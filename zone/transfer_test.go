package zone

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/miekg/dns"
)

func TestTransferSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte(`
tsig_keys:
  xfr-key: {algorithm: hmac-sha256, secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="}
  Other.Key.: {algorithm: HMAC-SHA512, secret: "c2VjcmV0"}
transfer:
  allow: ["192.0.2.1", "2001:db8::/32", "key:xfr-key"]
  notify: ["192.0.2.1", "[2001:db8::1]:5300"]
query_log: true
zones:
  example.com:
    ns: [ns1.example.net.]
  example.org:
    ns: [ns1.example.net.]
    transfer:
      allow: ["key:other.key"]
`), 0o644)
	snap, diags := Load(path, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	set := snap.Settings()
	if !set.QueryLog {
		t.Error("query_log not set")
	}
	if k := set.TSIGKeys["other.key."]; k.Algorithm != dns.HmacSHA512 || k.Name != "other.key." {
		t.Errorf("other.key: %+v", k)
	}
	want := Transfer{
		Allow:     []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("2001:db8::/32")},
		AllowKeys: []string{"xfr-key."},
		Notify:    []string{"192.0.2.1:53", "[2001:db8::1]:5300"},
	}
	if got, ok := snap.Transfer("EXAMPLE.com"); !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("example.com follows the top level: got %+v, want %+v", got, want)
	}
	got, _ := snap.Transfer("example.org.")
	if len(got.Allow) != 0 || len(got.Notify) != 0 || got.NotifyKey() != "other.key." {
		t.Errorf("example.org has its own: %+v", got)
	}
	if _, ok := snap.Transfer("example.net"); ok {
		t.Error("a zone not served has transfer settings")
	}
}
