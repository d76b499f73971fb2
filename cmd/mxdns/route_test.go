package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestRouteCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	config := `listen: ["127.0.0.1:0"]
zones:
  example.com:
    ns: [ns1]
    records:
      "@": {mx: "10;mx1", spf: "mx -all"}
      mx1: {a: 192.0.2.25}
      ns1: {a: 192.0.2.1}
  192.0.2.0/24:
    ns: [ns1.example.com.]
`
	s := serveConfig(t, path, config)
	addr := s.Addrs()[0].UDP.String()

	out, errOut, code := runArgs(t, "route", "-json", "example.com", "@"+addr)
	if code != 0 {
		t.Fatalf("status %d: %s", code, errOut)
	}
	var plan struct {
		Status string
		Groups []struct {
			Hosts []struct {
				Name      string
				Addresses []struct{ IP string }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if plan.Status != "mx" || len(plan.Groups) != 1 || plan.Groups[0].Hosts[0].Name != "mx1.example.com." ||
		plan.Groups[0].Hosts[0].Addresses[0].IP != "192.0.2.25" {
		t.Errorf("plan %+v", plan)
	}

	out, _, code = runArgs(t, "route", "@"+addr, "example.com")
	if code != 0 || !strings.Contains(out, "192.0.2.25  PTR mx1.example.com") {
		t.Errorf("text route: status %d\n%s", code, out)
	}
}

func TestRouteUsage(t *testing.T) {
	for _, args := range [][]string{{"route"}, {"route", "a", "b"}, {"route", "-x", "a"}} {
		if _, errOut, code := runArgs(t, args...); code != 2 || !strings.Contains(errOut, "usage: mxdns route") {
			t.Errorf("%q: status %d, stderr %q", args, code, errOut)
		}
	}
	for in, want := range map[string]string{
		"127.0.0.1":      "127.0.0.1:53",
		"127.0.0.1:5353": "127.0.0.1:5353",
		"::1":            "[::1]:53",
		"[::1]:5353":     "[::1]:5353",
		"[::1]":          "[::1]:53",
	} {
		if got := serverAddr(in); got != want {
			t.Errorf("serverAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
