// Package harness runs the real mxdns binary the way users do: from its own
// working directory, with relative paths, on free loopback ports. The
// end-to-end tests (internal/e2e) and the chaos driver (cmd/mxdns-chaos)
// share it.
package harness

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
)

// Build compiles ./cmd/mxdns of the module at root into out.
func Build(root, out string) error {
	cmd := exec.Command("go", "build", "-o", out, "./cmd/mxdns")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/mxdns: %w\n%s", err, b)
	}
	return nil
}

// HasFlag reports whether `mxdns serve -h` lists the flag, so that callers
// can tell a binary from before a flag existed from one that rejects it.
func HasFlag(bin, name string) bool {
	var out bytes.Buffer
	cmd := exec.Command(bin, "serve", "-h")
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run() // -h may exit 0 or 2; only the listing matters
	return strings.Contains(out.String(), "-"+name+" ") || strings.Contains(out.String(), "-"+name+"\n")
}
