package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mxdns/mxdns/server/ops"
)

func TestStatus(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	config := `listen: ["127.0.0.1:0"]
admin: "127.0.0.1:0"
links:
  wan1: {listen: ["127.0.0.2:0"], state: down}
  wan2: {}
zones:
  example.com:
    soa: {serial: 2026112301}
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;backup.example.net."]}
      mx1: {a: 192.0.2.25}
      ns1: {a: {wan1: 192.0.2.53, wan2: 198.51.100.53}}
`
	s := serveConfig(t, path, config)

	out, stderr, code := runArgs(t, "status", "-admin", s.AdminAddr().String())
	if code != 0 {
		t.Fatalf("status %d: %s", code, stderr)
	}
	for _, want := range []string{
		`(?m)^LINK +STATE +SET +SINCE +WHY +CHECK +LAST CHECK$`,
		`(?m)^wan1 +down +down +\d\d:\d\d:\d\d \(\d+s ago\) +state: down in config +- +-$`,
		`(?m)^wan2 +up +auto +\d\d:\d\d:\d\d \(\d+s ago\) +no health check +- +-$`,
		`(?m)^example\.com\. +2026112301 +` + regexp.QuoteMeta(path) + `$`,
		`(?m)^last reload: ok, \d\d:\d\d:\d\d \(\d+s ago\) \(0 reloads, 0 failed\)$`,
		`(?m)^1 warning:\n` + regexp.QuoteMeta(path) + `:11:\d+: backup mx backup\.example\.net\. is in another domain`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output does not match %s:\n%s", want, out)
		}
	}
}

func TestStatusUnreachable(t *testing.T) {
	err := run(context.Background(), []string{"status", "-admin", "127.0.0.1:1"}, new(strings.Builder), new(strings.Builder))
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), `admin: "127.0.0.1:1"`) {
		t.Errorf("err %v, want connection refused naming the admin setting", err)
	}
}

func TestStatusListsUpdatedRecords(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.Local)
	st := ops.Status{Zones: []ops.ZoneStatus{
		{Origin: "example.com.", Serial: 5, File: "config.yaml", Updated: []ops.UpdatedRecord{{
			Record: "_acme-challenge.mx1.example.com.\t60\tIN\tTXT\t\"token\"", Added: now.Add(-90 * time.Second),
			AgeSeconds: 90, Expires: now.Add(24 * time.Hour)}}},
		{Origin: "example.org.", Serial: 6, File: "config.yaml"},
	}}
	var b strings.Builder
	printStatus(&b, st, now)
	for _, want := range []string{
		`(?m)^UPDATED RECORD +ZONE +ADDED +EXPIRES$`,
		`(?m)^_acme-challenge\.mx1\.example\.com\. 60 IN TXT "token" +example\.com\. +11:58:30 \(1m30s ago\) +2030-01-02 12:00:00$`,
	} {
		if !regexp.MustCompile(want).MatchString(b.String()) {
			t.Errorf("output does not match %s:\n%s", want, b.String())
		}
	}
	b.Reset()
	st.Zones[0].Updated = nil
	printStatus(&b, st, now)
	if strings.Contains(b.String(), "UPDATED") {
		t.Errorf("a table of no updated records:\n%s", b.String())
	}
}
