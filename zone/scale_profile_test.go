package zone

import (
	"os"
	"testing"
)

// TestLoadBig loads MXDNS_BIG (a mxdns-gen output) when set; for profiling.
func TestLoadBig(t *testing.T) {
	path := os.Getenv("MXDNS_BIG")
	if path == "" {
		t.Skip("MXDNS_BIG not set")
	}
	snap, diags := Load(path, nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d zones", len(snap.Zones()))
}
