package main

import (
	"maps"
	"os"
	"testing"
)

// The statistics of a real dnsperf 2.10 run, with three rcodes.
func TestParsePerf(t *testing.T) {
	out, err := os.ReadFile("testdata/dnsperf-rcodes.txt")
	if err != nil {
		t.Fatal(err)
	}
	r, err := parsePerf(string(out))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"NOERROR": 999, "NXDOMAIN": 999, "REFUSED": 999}
	if r.sent != 2997 || r.completed != 2997 || r.lost != 0 || r.seconds != 1.000381 || !maps.Equal(r.rcodes, want) {
		t.Fatalf("parsePerf: %+v", r)
	}
	if n := r.notNoerror(); n != 1998 {
		t.Errorf("notNoerror: %d, want 1998", n)
	}
	if _, err := parsePerf("dnsperf: could not open query file\n"); err == nil {
		t.Error("parsePerf accepted output without statistics")
	}
}
