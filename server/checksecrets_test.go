package server

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mxdns/mxdns/server/ops"
)

// TestCheckURLSecretsNeverShown: a health-check URL's password and token
// appear neither in the status (which mxdns status prints) nor in the
// probe results and logs, whether the check succeeds or fails.
func TestCheckURLSecretsNeverShown(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(web.Close)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := closed.Addr().String()
	closed.Close() // a port nothing listens on: the check fails

	const config = `listen: ["127.0.0.1:0"]
links:
  wan1:
    listen: ["127.0.0.2:0"]
    check: {http: "%s", interval: 5s, timeout: 5s, rise: 1, fall: 1}
  wan2:
    listen: ["127.0.0.3:0"]
    check: {http: "%s", interval: 5s, timeout: 5s, rise: 1, fall: 1}
zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: 203.0.113.53}
`
	up := strings.Replace(web.URL, "http://", "http://monitor:hunter2@", 1) + "/health?token=s3cr3t&x=1"
	fail := "http://monitor:hunter2@" + down + "/health?api_key=s3cr3t"
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	writeFile(t, path, fmt.Sprintf(config, up, fail))
	var logs syncBuffer
	s, err := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), ConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, s)

	deadline := time.Now().Add(20 * time.Second)
	var st ops.Status
	for {
		st = s.Status()
		if len(st.Links) == 2 && st.Links[0].LastCheck != nil && st.Links[1].LastCheck != nil && st.Links[1].State == "down" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("checks not run within 20s: %+v", st.Links)
		}
		time.Sleep(10 * time.Millisecond)
	}
	shown := fmt.Sprintf("%+v %+v %+v %+v\n%s", st.Links[0], *st.Links[0].LastCheck, st.Links[1], *st.Links[1].LastCheck, logs.String())
	for _, secret := range []string{"hunter2", "s3cr3t"} {
		if strings.Contains(shown, secret) {
			t.Errorf("%q shown:\n%s", secret, shown)
		}
	}
	if !strings.Contains(st.Links[0].Check, "monitor:xxxxx@") || !strings.Contains(st.Links[0].Check, "token=xxxxx") {
		t.Errorf("check shown as %q", st.Links[0].Check)
	}
	if !strings.Contains(logs.String(), "link down") {
		t.Errorf("the failing link was not logged down:\n%s", logs.String())
	}
}

// TestFileCheckContentNeverShown: what a file check's file holds, when it
// is neither up nor down, appears neither in the status nor in the logs:
// a check pointed at the wrong file must not publish it.
func TestFileCheckContentNeverShown(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "wan1.state")
	writeFile(t, state, "password=hunter2\n")
	path := filepath.Join(dir, "config.yaml")
	writeFile(t, path, `listen: ["127.0.0.1:0"]
links:
  wan1: {check: {file: `+state+`}}
zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: 203.0.113.53}
`)
	var logs syncBuffer
	s, err := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), ConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, s)
	deadline := time.Now().Add(20 * time.Second)
	var st ops.Status
	for {
		if st = s.Status(); st.Links[0].State == "down" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the link did not go down: %+v", st.Links)
		}
		time.Sleep(10 * time.Millisecond)
	}
	shown := fmt.Sprintf("%+v %+v\n%s", st.Links[0], *st.Links[0].LastCheck, logs.String())
	if strings.Contains(shown, "hunter2") {
		t.Errorf("the file's content was shown:\n%s", shown)
	}
	if want := "file " + state + ": want up or down, found something else (not shown)"; st.Links[0].Why != want {
		t.Errorf("why %q, want %q", st.Links[0].Why, want)
	}
}
