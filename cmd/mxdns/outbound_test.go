package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxdns/mxdns/outbound"
)

// outboundSite is the loopback test site: 127.0.0.1 sends for wan1,
// 127.0.0.2 for wan2, as mail.example.test. example.test lists every
// link in its SPF; legacy.test lists wan1's address alone, so mail it
// sends over wan2 fails SPF and DMARC. other.test is not ours: our data
// answers REFUSED for it, and its SPF and DMARC are unknown.
const outboundSite = `listen: ["127.0.0.1:0"]
links:
  wan1:
    outbound: {ipv4: 127.0.0.1, helo: mail.example.test.}
  wan2:
    outbound: {ipv4: 127.0.0.2, helo: mail.example.test.}
zones:
  example.test:
    ns: [ns1]
    records:
      "@": {mx: "10;mail", spf: "mx links -all", dmarc: {p: reject}}
      ns1: {a: 192.0.2.53}
  legacy.test:
    ns: [ns1.example.test.]
    records:
      "@": {mx: "10;mail.example.test.", spf: "ip4:127.0.0.1 ~all", dmarc: {p: quarantine}}
  127.0.0.0/8:
    ns: [ns1.example.test.]
`

// TestOutboundGolden prints the report from our data and from the
// server serving it, as text and JSON, and compares them with testdata.
func TestOutboundGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	s := serveConfig(t, path, outboundSite)
	addr := s.Addrs()[0].UDP.String()
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"example.test.txt", []string{"example.test"}},
		{"legacy.test.txt", []string{"legacy.test"}},
		{"nodomain.txt", nil},
		{"other.test.txt", []string{"other.test"}},
		{"example.test.json", []string{"-json", "example.test"}},
		{"legacy.test.server.txt", []string{"legacy.test", "@" + addr}},
		{"legacy.test.server.json", []string{"@" + addr, "-json", "legacy.test"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, code := runArgs(t, append([]string{"outbound", "-config", path}, tc.args...)...)
			if code != 0 {
				t.Fatalf("status %d: %s", code, errOut)
			}
			out = strings.ReplaceAll(strings.ReplaceAll(out, path, "CONFIG"), addr, "SERVER")
			golden := filepath.Join("testdata", "outbound", tc.golden)
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/mxdns -run TestOutboundGolden -update)", err)
			}
			if out != string(want) {
				t.Errorf("differs from %s:\n got:\n%s\nwant:\n%s", golden, out, want)
			}
		})
	}
}

func TestOutboundUsage(t *testing.T) {
	path := writeConfig(t, "zones:\n  example.test: {ns: [ns1.example.net.]}\n")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"outbound", "-x"}, 2, "usage: mxdns outbound"},
		{[]string{"outbound", "a.test", "b.test"}, 2, "usage: mxdns outbound"},
		{[]string{"outbound", "-config"}, 2, "-config wants a file"},
	} {
		_, errOut, code := runArgs(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: status %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	err := run(context.Background(), []string{"outbound", "-config", path}, io.Discard, io.Discard)
	if !errors.Is(err, outbound.ErrNoIdentity) {
		t.Errorf("no outbound identity: %v", err)
	}
}
