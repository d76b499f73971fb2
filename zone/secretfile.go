package zone

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxSecretFile bounds a secret_file: a TSIG secret is tens of octets.
const maxSecretFile = 64 << 10

// readSecretFile reads a tsig_keys secret_file: base64 text, surrounding
// white space ignored (echo and editors add a newline). A relative path
// is taken from the directory of the file that names it, so that a config
// and its secret can move together; systemd's LoadCredential= hands the
// secret over as $CREDENTIALS_DIRECTORY/NAME. It is read at every load.
func readSecretFile(name, relativeTo string) (secret, path string, err error) {
	defer func() {
		// "stat" or "open" says nothing to the reader of the config.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("%s: %w", pe.Path, pe.Err)
		}
	}()
	path = name
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(relativeTo), path)
	}
	// Only a regular file: opening a FIFO would stall every reload, so
	// its type is known before it is opened.
	if fi, err := os.Stat(path); err != nil {
		return "", path, err
	} else if !fi.Mode().IsRegular() {
		return "", path, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", path, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", path, err
	}
	if len(data) > maxSecretFile {
		return "", path, fmt.Errorf("%s is over %d KiB: not a TSIG secret", path, maxSecretFile>>10)
	}
	secret = strings.TrimSpace(string(data))
	if raw, err := base64.StdEncoding.DecodeString(secret); err != nil || len(raw) == 0 {
		return "", path, errBadSecret
	}
	return secret, path, nil
}

var errBadSecret = errors.New("want base64 such as the output of `openssl rand -base64 32`")
