package zone

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestLimitSettings(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		rrl        RRL
		tcp        int
	}{
		{"defaults", "", RRL{ResponsesPerSecond: 200, Slip: 2, Window: 15 * time.Second}, 150},
		{"off", "rrl: off\n", RRL{}, 150},
		{"set", "rrl: {responses_per_second: 10, slip: 0, window: 5s, exempt: [192.0.2.0/24, 2001:db8::1]}\ntcp_max_conns: 7\n",
			RRL{ResponsesPerSecond: 10, Slip: 0, Window: 5 * time.Second,
				Exempt: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::1/128")}}, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, diags := FromYAML("c.yaml", []byte(tc.yaml), nil)
			if err := diags.Err(); err != nil {
				t.Fatal(err)
			}
			set := snap.Settings()
			if set.TCPMaxConns != tc.tcp || set.RRL.ResponsesPerSecond != tc.rrl.ResponsesPerSecond ||
				set.RRL.Slip != tc.rrl.Slip || set.RRL.Window != tc.rrl.Window || len(set.RRL.Exempt) != len(tc.rrl.Exempt) {
				t.Fatalf("got %+v tcp %d, want %+v tcp %d", set.RRL, set.TCPMaxConns, tc.rrl, tc.tcp)
			}
			for i, p := range tc.rrl.Exempt {
				if set.RRL.Exempt[i] != p {
					t.Errorf("exempt[%d] = %v, want %v", i, set.RRL.Exempt[i], p)
				}
			}
		})
	}
}

func TestLimitSettingErrors(t *testing.T) {
	for yaml, want := range map[string]string{
		"rrl: maybe\n":                     `c.yaml:1:6: rrl "maybe": want one of off, on`,
		"rrl: {slip: 11}\n":                `c.yaml:1:13: rrl slip "11": want a whole number from 0 to 10`,
		"rrl: {window: 100ms}\n":           `c.yaml:1:15: rrl window "100ms": want a duration from 1s to 1h`,
		"rrl: {exempt: [nope]}\n":          `c.yaml:1:16: rrl exempt "nope": want an address or CIDR prefix`,
		"rrl: {responses_per_second: 0}\n": `c.yaml:1:29: rrl responses_per_second "0": want a whole number from 1`,
		"rrl: {burst: 3}\n":                `c.yaml:1:7: rrl: unknown key "burst"`,
		"tcp_max_conns: 0\n":               `c.yaml:1:16: tcp_max_conns "0": want a whole number from 1 to 65535`,
	} {
		_, diags := FromYAML("c.yaml", []byte(yaml), nil)
		err := diags.Err()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", yaml, err, want)
		}
	}
}

// TestParsePrefixUnmaps: clients are compared unmapped, so an IPv4-mapped
// address or prefix written in rrl exempt or transfer allow must come out
// in its IPv4 form, or it never matches.
func TestParsePrefixUnmaps(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":               "192.0.2.1/32",
		"192.0.2.1/24":            "192.0.2.0/24",
		"2001:db8::1":             "2001:db8::1/128",
		"::ffff:192.0.2.1":        "192.0.2.1/32",
		"::ffff:192.0.2.1/128":    "192.0.2.1/32",
		"::ffff:198.51.100.0/120": "198.51.100.0/24",
		"::ffff:0:0/96":           "0.0.0.0/0",
	} {
		got, ok := parsePrefix(in)
		if !ok || got != netip.MustParsePrefix(want) {
			t.Errorf("parsePrefix(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"nope", "192.0.2.1/33", ""} {
		if p, ok := parsePrefix(in); ok {
			t.Errorf("parsePrefix(%q) = %v, want an error", in, p)
		}
	}
	snap, diags := FromYAML("c.yaml", []byte("rrl: {exempt: [\"::ffff:192.0.2.1\", \"::ffff:198.51.100.0/120\"]}\n"), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	for _, client := range []string{"192.0.2.1", "198.51.100.7"} {
		found := false
		for _, p := range snap.Settings().RRL.Exempt {
			found = found || p.Contains(netip.MustParseAddr(client))
		}
		if !found {
			t.Errorf("client %s is not exempt: %v", client, snap.Settings().RRL.Exempt)
		}
	}
}

func TestTCPMaxConnsPerSourceSetting(t *testing.T) {
	for yaml, want := range map[string]int{"": 16, "tcp_max_conns_per_source: 3\n": 3} {
		snap, diags := FromYAML("c.yaml", []byte(yaml), nil)
		if err := diags.Err(); err != nil {
			t.Fatal(err)
		}
		if got := snap.Settings().TCPMaxConnsPerSource; got != want {
			t.Errorf("%q: tcp_max_conns_per_source %d, want %d", yaml, got, want)
		}
	}
	_, diags := FromYAML("c.yaml", []byte("tcp_max_conns_per_source: 0\n"), nil)
	want := `c.yaml:1:27: tcp_max_conns_per_source "0": want a whole number from 1 to 65535`
	if err := diags.Err(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}
