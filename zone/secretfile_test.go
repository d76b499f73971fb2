package zone

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const secretFileConfig = `tsig_keys:
  xfr-key: {algorithm: hmac-sha256, secret_file: %s}
zones:
  example.com: {ns: [ns1.example.net.]}
`

// TestSecretFile: a TSIG secret may live in a file of its own, relative
// to the config's directory, read again at every load.
func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	secret := filepath.Join(dir, "xfr.key")
	if err := os.WriteFile(cfg, []byte(strings.Replace(secretFileConfig, "%s", "xfr.key", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func(want string) {
		t.Helper()
		snap, diags := Load(cfg, nil)
		if err := diags.Err(); err != nil {
			t.Fatal(err)
		}
		if got := snap.Settings().TSIGKeys["xfr-key."].Secret; got != want {
			t.Errorf("secret %q, want %q", got, want)
		}
	}
	os.WriteFile(secret, []byte("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=\n"), 0o600)
	load("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=")
	os.WriteFile(secret, []byte("b3RoZXItb3RoZXI=\n"), 0o600)
	load("b3RoZXItb3RoZXI=")
}

// TestSecretFileErrors: each problem is an error at the secret_file
// value (or the second of secret and secret_file), saying what is wrong.
func TestSecretFileErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.key"), []byte("not base64!\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "good.key"), []byte("c2VjcmV0\n"), 0o600)
	fifo := filepath.Join(dir, "fifo.key")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, value, want string }{
		{"missing", "nope.key", ":2:50: tsig key xfr-key secret_file: " + filepath.Join(dir, "nope.key") + ": no such file or directory"},
		{"bad base64", "bad.key", ":2:50: tsig key xfr-key secret_file " + filepath.Join(dir, "bad.key") + ": want base64"},
		{"not a regular file", "fifo.key", ":2:50: tsig key xfr-key secret_file: " + fifo + " is not a regular file"},
		{"both", `good.key, secret: "c2VjcmV0"`, ":2:68: tsig key xfr-key: want secret or secret_file, not both"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := filepath.Join(dir, "config.yaml")
			os.WriteFile(cfg, []byte(strings.Replace(secretFileConfig, "%s", tt.value, 1)), 0o644)
			_, diags := Load(cfg, nil)
			err := diags.Err()
			if err == nil || !strings.Contains(err.Error(), cfg+tt.want) {
				t.Errorf("got %v\nwant %s%s", err, cfg, tt.want)
			}
		})
	}
}
