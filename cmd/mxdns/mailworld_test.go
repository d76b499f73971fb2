package main

import (
	"encoding/json"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mxdns/mxdns/internal/harness"
	"github.com/mxdns/mxdns/internal/mailtest"
)

var updateWorld = flag.Bool("update-world", false, "rewrite testdata/mailworld/*.golden")

// The mail world (testdata/mailworld): five domains of a configuration
// and five of zone files a resolver serves, each with known problems;
// HTTPS for the MTA-STS policy and the BIMI logo, and SMTP on the MX
// hosts, are servers of the test.
const worldDir = "testdata/mailworld"

// newsPolicy is news.example's MTA-STS policy: it leaves out mx2.
const newsPolicy = "version: STSv1\nmode: enforce\nmx: mx.news.example\nmax_age: 604800\n"

// startMailWorld points the checks' network at the test's servers: the
// MTA-STS policy and the logo on 192.0.2.80 and .81, port 443; an SMTP
// responder for every MX host address, the one of mx.news.example
// without STARTTLS.
func startMailWorld(t *testing.T, policy string) {
	t.Helper()
	ca := mailtest.NewCA(t, "mail world CA", time.Now())
	pages := map[string]mailtest.Page{
		"mta-sts.news.example/.well-known/mta-sts.txt": {Type: "text/plain", Body: policy},
		"brand.example/logo.svg":                       {Type: "image/svg+xml", Body: `<svg xmlns="http://www.w3.org/2000/svg"><title>Brand</title></svg>`},
	}
	https := mailtest.StartHTTPS(t, ca.Valid(t, "mta-sts.news.example", "brand.example"), nil, pages)
	good := mailtest.StartSMTP(t, mailtest.SMTP{Cert: ca.Valid(t, "mx1.shop.example", "mx2.news.example")})
	clear := mailtest.StartSMTP(t, mailtest.SMTP{NoTLS: true})
	routes := map[string]string{"192.0.2.80:443": https, "192.0.2.81:443": https}
	for _, a := range []string{"192.0.2.10:25", "[2001:db8::10]:25", "192.0.2.21:25", "[2001:db8::21]:25"} {
		routes[a] = good
	}
	for _, a := range []string{"192.0.2.20:25", "[2001:db8::20]:25"} {
		routes[a] = clear
	}
	saved := mailNet
	mailNet.dial = mailtest.Dialer(routes, nil, nil)
	mailNet.roots = ca.Pool
	t.Cleanup(func() { mailNet = saved })
}

func worldZones(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(worldDir, "world", "*.zone"))
	if err != nil || len(files) != 5 {
		t.Fatalf("world zones: %v %v", files, err)
	}
	zones := map[string]string{}
	for _, f := range files {
		zones[strings.TrimSuffix(filepath.Base(f), ".zone")] = f
	}
	return zones
}

// checkWorld runs check -resolve -smtp on the world's configuration
// against resolver, in text and JSON, and holds both to the golden files:
// every resolver must give the same findings.
func checkWorld(t *testing.T, resolver, stateDir string) {
	t.Helper()
	config := filepath.Join(worldDir, "config.yaml")
	for _, format := range []string{"text", "json"} {
		args := []string{"check", "-resolve", "-smtp", "-resolver", resolver, "-state-dir", stateDir, "-format", format, config}
		out, errOut, code := runArgs(t, args...)
		if code != 1 || errOut != "" {
			t.Errorf("%s: status %d, stderr %q; want 1 (errors found), nothing on stderr", format, code, errOut)
		}
		worldGolden(t, "check-"+format+".golden", out)
	}
}

func worldGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(worldDir, name)
	if *updateWorld {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/mxdns -run World -update-world)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestCheckResolveWorld: the world served by the test's own resolver.
// Then news.example's policy changes under the same id: the state
// directory remembers the policy seen, and the check says so.
func TestCheckResolveWorld(t *testing.T) {
	startMailWorld(t, newsPolicy)
	var files []string
	for _, f := range worldZones(t) {
		files = append(files, f)
	}
	resolver := mailtest.StartResolver(t, files...).Addr
	state := t.TempDir()
	checkWorld(t, resolver, state)

	startMailWorld(t, newsPolicy+"mx: mx2.news.example\n")
	config := filepath.Join(worldDir, "config.yaml")
	out, _, _ := runArgs(t, "check", "-resolve", "-resolver", resolver, "-state-dir", state, config)
	want := "config.yaml:29:9: mta-sts: the policy changed since it was last checked, but its id 20260601 did not"
	if !strings.Contains(out, want) || strings.Contains(out, "mx2.news.example matches no mx") {
		t.Errorf("a policy changed under the same id; want %q, and mx2 matched:\n%s", want, out)
	}
	out, _, _ = runArgs(t, "check", "-resolve", "-resolver", resolver, config)
	if !strings.Contains(out, "config.yaml:29:9: note: mta-sts: no state directory") || !strings.Contains(out, "5 errors, 9 warnings, 1 note") {
		t.Errorf("without a state directory:\n%s", out)
	}
}

// TestCheckResolveWorldUnbound: the same world through a real resolver,
// Debian's unbound serving the zone files itself, prints exactly the
// same. Skipped without unbound unless MXDNS_REQUIRE_UNBOUND is set.
func TestCheckResolveWorldUnbound(t *testing.T) {
	u := harness.StartUnbound(t, harness.UnboundConfig{AuthZones: worldZones(t)})
	startMailWorld(t, newsPolicy)
	checkWorld(t, u.Addr, t.TempDir())
}

// TestRouteCheckWorld: route -check adds the checks to the delivery plan,
// asking the resolver what the server (here, none) does not answer.
func TestRouteCheckWorld(t *testing.T) {
	startMailWorld(t, newsPolicy)
	var files []string
	for _, f := range worldZones(t) {
		files = append(files, f)
	}
	r := mailtest.StartResolver(t, files...)
	out, errOut, code := runArgs(t, "route", "-check", "-resolver", r.Addr, "bulk.example")
	if code != 1 || errOut != "" {
		t.Errorf("status %d, stderr %q; want 1 (+all is an error), nothing on stderr", code, errOut)
	}
	worldGolden(t, "route-bulk.golden", out)

	out, _, _ = runArgs(t, "route", "bulk.example", "-format", "json", "-check", "-resolver="+r.Addr)
	var plan struct {
		Status   string
		Findings []struct{ Name, Check, Severity, Message string }
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if plan.Status != "no-route" || len(plan.Findings) != 2 || plan.Findings[0].Name != "bulk.example" || plan.Findings[0].Check != "spf" || plan.Findings[0].Severity != "error" {
		t.Errorf("route -check -format json: %+v", plan)
	}
}

// The resolving flags go with -resolve (check) and -check (route); a
// configuration with errors is not resolved; without a resolver, the
// check says how to give one.
func TestMailCheckUsage(t *testing.T) {
	config := filepath.Join(worldDir, "config.yaml")
	for _, args := range [][]string{
		{"check", "-smtp", config},
		{"check", "-resolver", "127.0.0.1", config},
		{"route", "-smtp", "example.com"},
		{"route", "-resolver", "127.0.0.1", "example.com"},
		{"route", "-format", "yaml", "-check", "example.com"},
		{"route", "-timeout", "soon", "example.com"},
		{"route", "-check=yes", "example.com"},
	} {
		if _, errOut, code := runArgs(t, args...); code != 2 || errOut == "" {
			t.Errorf("%q: status %d, stderr %q; want 2 and why", args, code, errOut)
		}
	}
	broken := writeConfig(t, "zones:\n  example.com:\n    records:\n      mx1: {a: bad}\n")
	out, errOut, code := runArgs(t, "check", "-resolve", "-resolver", "127.0.0.1:9", broken)
	if code != 1 || !strings.Contains(errOut, "-resolve: not run, the configuration has errors") || strings.Contains(out, "mta-sts") {
		t.Errorf("broken configuration: status %d\n%s\n%s", code, out, errOut)
	}
	// A port nobody listens on: the resolver is said not to answer, once.
	ln, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.LocalAddr().String()
	ln.Close()
	if out, errOut, code := runArgs(t, "check", "-resolve", "-resolver", dead, config); code != 1 || out != "" || !strings.Contains(errOut, "does not answer") {
		t.Errorf("a dead resolver: status %d, stdout %q, stderr %q", code, out, errOut)
	}
	saved := mailNet.resolvConf
	t.Cleanup(func() { mailNet.resolvConf = saved })
	mailNet.resolvConf = filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(mailNet.resolvConf, []byte("search example.com\n"), 0o644)
	if _, errOut, code := runArgs(t, "check", "-resolve", config); code != 1 || !strings.Contains(errOut, "give a resolver with -resolver ADDR") {
		t.Errorf("no nameserver: status %d, stderr %q", code, errOut)
	}
}
