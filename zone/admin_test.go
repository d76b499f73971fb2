package zone

import (
	"net/netip"
	"strings"
	"testing"
)

// TestAdminAllow: an admin endpoint off the loopback interface must say
// who may use it; on loopback it need not.
func TestAdminAllow(t *testing.T) {
	for _, ok := range []string{
		"admin: 127.0.0.1:9153\n",
		"admin: 127.0.0.5:9153\n",
		"admin: \"[::1]:9153\"\n",
		"admin: localhost:9153\n",
		"admin: 0.0.0.0:9153\nadmin_allow: [192.0.2.0/24, 2001:db8::1]\n",
	} {
		if _, diags := FromYAML("c.yaml", []byte(ok), nil); diags.Err() != nil {
			t.Errorf("%q: %v", ok, diags.Err())
		}
	}
	snap, _ := FromYAML("c.yaml", []byte("admin: 192.0.2.53:9153\nadmin_allow: [192.0.2.0/24, 2001:db8::1]\n"), nil)
	if got := snap.Settings().AdminAllow; len(got) != 2 || got[0] != netip.MustParsePrefix("192.0.2.0/24") ||
		got[1] != netip.MustParsePrefix("2001:db8::1/128") {
		t.Errorf("admin_allow %v", got)
	}
	for yaml, want := range map[string]string{
		"admin: 0.0.0.0:9153\n":                 `c.yaml:1:8: admin "0.0.0.0:9153" is not a loopback address: add admin_allow`,
		"admin: \":9153\"\n":                    `c.yaml:1:8: admin ":9153" is not a loopback address: add admin_allow`,
		"admin: mxdns.example:9153\n":           `c.yaml:1:8: admin "mxdns.example:9153" is not a loopback address`,
		"admin_allow: [everyone]\n":             `c.yaml:1:15: admin_allow "everyone": want an address or CIDR prefix`,
		"admin: \"[::]:9153\"\nx: 1\n":          `c.yaml:1:8: admin "[::]:9153" is not a loopback address`,
		"admin: 192.0.2.1:1\nadmin_allow: []\n": `admin "192.0.2.1:1" is not a loopback address`,
	} {
		_, diags := FromYAML("c.yaml", []byte(yaml), nil)
		if err := diags.Err(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", yaml, err, want)
		}
	}
}
