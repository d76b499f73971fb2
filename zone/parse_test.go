package zone

import (
	"strings"
	"testing"
)

// TestOneMistakeOneFinding: a value written wrong is reported once, where
// it was written, not again as missing; a value really missing still is.
func TestOneMistakeOneFinding(t *testing.T) {
	const zone = "zones:\n  example.com:\n    ns: [ns1.example.net.]\n"
	const owner = zone + "    records:\n      \"@\": "
	for _, tc := range []struct{ yaml, want string }{
		{zone + "    soa: {serial: [1]}\n", "c.yaml:4:19: zone example.com soa serial (or auto): want a value, got a list"},
		{owner + "{dkim: {selector: [s1], key: AAAA}}\n", "c.yaml:5:30: dkim selector: want a value, got a list"},
		{owner + "{dkim: {selector: s1, key: [AAAA]}}\n", "c.yaml:5:39: dkim key: want a value, got a list"},
		{owner + "{dkim: {selector: s1, key: AAAA, k: dsa}}\n", `c.yaml:5:48: dkim k "dsa": want one of rsa, ed25519`},
		{owner + "{dkim: {key: AAAA}}\n", "c.yaml:5:13: dkim: want {selector: s1, key: <base64 public key>}"},
		{owner + "{mta_sts: {id: [1]}}\n", "c.yaml:5:27: mta_sts id: want a value, got a list"},
		{owner + "{mta_sts: [1]}\n", "c.yaml:5:22: mta_sts: want a mapping, got a list"},
		{owner + "{mta_sts: {}}\n", "c.yaml:5:13: mta_sts: want {id: ...}"},
		{owner + "{mta_sts: null}\n", "c.yaml:5:22: mta_sts: want a value, got nothing"},
		{owner + "{mta_sts: true}\n", `c.yaml:5:22: mta_sts: want the policy id, e.g. "20261123", got the yes/no value true`},
		{owner + "{mta_sts: {id: null}}\n", "c.yaml:5:27: mta_sts id: want a value, got nothing"},
		{owner + "{mta_sts: {id: false}}\n", `c.yaml:5:27: mta_sts id: want the policy id, e.g. "20261123", got the yes/no value false`},
		{"zones:\n  example.com:\n    ns: [\"bad name\"]\n", `c.yaml:3:10: ns "bad name": want a domain name`},
		{"zones:\n  example.com:\n    ns: .\n", `c.yaml:3:9: ns ".": want a host name, not the root`},
		{"zones:\n  example.com:\n", "c.yaml:2:15: zone example.com: want a mapping, got nothing"},
		{"zones:\n  example.com: {ttl: 5}\n", "c.yaml:2:3: zone example.com: ns: want at least one name server"},
		{"links:\n  wan1: {check: {tcp: nope}}\n", `c.yaml:2:23: link wan1 check tcp "nope": want host:port`},
		{"links:\n  wan1: {check: {http: ftp://x}}\n", `c.yaml:2:24: link wan1 check http "ftp://x": want an http:// or https:// URL`},
		{"links:\n  wan1: {check: nope}\n", `c.yaml:2:17: link wan1 check: want a mapping, got "nope"`},
		{"links:\n  wan1: {check: {rise: 3}}\n", "c.yaml:2:17: link wan1 check: want tcp: host:port, http: URL, smtp: host:port or file: PATH"},
	} {
		wantOneError(t, tc.yaml, tc.want)
	}
}

// wantOneError checks that config, read as c.yaml, gives exactly one error
// and that the error, with its position, begins with want.
func wantOneError(t *testing.T, config, want string) {
	t.Helper()
	_, diags := FromYAML("c.yaml", []byte(config), nil)
	if errs := diags.Errors(); len(errs) != 1 || !strings.HasPrefix(errs[0].String(), want) {
		t.Errorf("%q:\n got %d errors: %v\nwant one: %s", config, len(errs), errs, want)
	}
}
