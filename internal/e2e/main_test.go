package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mxdns/mxdns/internal/harness"
)

// bin is the mxdns binary under test, built once by TestMain.
var bin string

// hasStateDir: the binary takes -state-dir. One from before issue #13 does
// not; it is then started without it, so that each test fails on the
// behaviour it covers rather than on the unknown flag.
var hasStateDir bool

// TestMain builds ./cmd/mxdns into tmp/mxdns, unless MXDNS_BIN names a
// binary to test instead (an installed one, or another branch's).
func TestMain(m *testing.M) {
	var err error
	if bin = os.Getenv("MXDNS_BIN"); bin != "" {
		bin, err = filepath.Abs(bin)
	} else {
		var root string
		root, err = filepath.Abs(filepath.Join("..", ".."))
		if err == nil {
			bin = filepath.Join(root, "tmp", "mxdns")
			err = harness.Build(root, bin)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	hasStateDir = harness.HasFlag(bin, "state-dir")
	if !hasStateDir {
		fmt.Fprintln(os.Stderr, "e2e: this mxdns has no -state-dir flag (code before issue #13); starting it without one")
	}
	os.Exit(m.Run())
}
