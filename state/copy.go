package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mxdns/mxdns/zone"
)

// A copy is the file's text behind two comment lines that say whose copy
// it is: still YAML, so that a person can look at it or copy it back.
//
//	# mxdns last good copy of /etc/mxdns/zones/example.com.yaml
//	# mtime 1764800000 sha256 <hex digest of the text>
//
// The copy of a certificate file a zone file's TLSA records are made from
// says so with a last word, "certificate", on the second line; its text is
// PEM, which tools read past the comment lines.
const copyHeader = "# mxdns last good copy of "

const certMark = "certificate"

func encodeCopy(c zone.FileCopy) []byte {
	sum := sha256.Sum256(c.Text)
	mark := ""
	if c.Cert {
		mark = " " + certMark
	}
	head := fmt.Sprintf("%s%s\n# mtime %d sha256 %s%s\n", copyHeader, c.File, c.Mtime, hex.EncodeToString(sum[:]), mark)
	return append([]byte(head), c.Text...)
}

var errBadCopy = errors.New("not a last good copy, or damaged")

func readCopy(path string) (zone.FileCopy, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return zone.FileCopy{}, err
	}
	first, rest, ok := bytes.Cut(raw, []byte("\n"))
	second, text, ok2 := bytes.Cut(rest, []byte("\n"))
	file, ok3 := strings.CutPrefix(string(first), copyHeader)
	f := strings.Fields(string(second))
	cert := len(f) == 6 && f[5] == certMark
	if !ok || !ok2 || !ok3 || len(f) != 5 && !cert || f[0] != "#" || f[1] != "mtime" || f[3] != "sha256" {
		return zone.FileCopy{}, errBadCopy
	}
	mtime, err := strconv.ParseInt(f[2], 10, 64)
	sum := sha256.Sum256(text)
	if err != nil || hex.EncodeToString(sum[:]) != f[4] {
		return zone.FileCopy{}, errBadCopy
	}
	return zone.FileCopy{File: file, Text: text, Mtime: mtime, Cert: cert}, nil
}

// keepable: a path a copy's header can name.
func keepable(file string) bool {
	return filepath.IsAbs(file) && !strings.ContainsAny(file, "\n\r")
}

// copyName names a file's copy by a digest of its path: one copy per
// file, whatever characters its path holds, with its base name kept for
// whoever looks into the directory.
func copyName(file string) string {
	sum := sha256.Sum256([]byte(file))
	return hex.EncodeToString(sum[:8]) + "-" + filepath.Base(file)
}

func digest(text []byte) string {
	sum := sha256.Sum256(text)
	return hex.EncodeToString(sum[:])
}
