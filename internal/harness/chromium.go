package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Chromium is Debian's headless browser, reading pages as a person's
// browser does: the status page is tested in it (issue #21).
type Chromium struct {
	bin string
	dir string // a profile of its own, and HOME
}

// NeedChromium finds chromium, or skips the test (fails it under
// MXDNS_REQUIRE_CHROMIUM=1, as CI sets).
func NeedChromium(t testing.TB) *Chromium {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if bin, err := exec.LookPath(name); err == nil {
			return &Chromium{bin: bin, dir: t.TempDir()}
		}
	}
	if os.Getenv("MXDNS_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium is not installed (apt-get install chromium), and MXDNS_REQUIRE_CHROMIUM=1")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return nil
}

// run runs chromium headless on url with the given flags, with nothing
// of the network but url (no updates, sync or QUIC probes), and returns
// what it printed.
func (c *Chromium) run(ctx context.Context, url string, flags ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + c.dir}, flags...)
	cmd := exec.CommandContext(ctx, c.bin, append(args, url)...)
	cmd.Dir, cmd.Env = c.dir, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + c.dir}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("chromium %s: %w\n%s", url, err, errOut.Bytes())
	}
	return out.Bytes(), nil
}

// DumpDOM loads url and returns its DOM, serialized once the page has
// loaded.
func (c *Chromium) DumpDOM(ctx context.Context, url string) (string, error) {
	b, err := c.run(ctx, url, "--dump-dom")
	return string(b), err
}

// Screenshot loads url in a window of width × height and saves it as a
// PNG at path (absolute: chromium runs in a directory of its own).
func (c *Chromium) Screenshot(ctx context.Context, url, path string, width, height int) error {
	_, err := c.run(ctx, url, "--screenshot="+path, "--hide-scrollbars",
		"--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height))
	return err
}
