package zone

import (
	"strings"
	"testing"
)

func TestIXFRJournalSetting(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want IXFRJournal
	}{
		{"", IXFRJournal{Versions: 100, MaxSize: 64 << 20}},
		{"ixfr_journal: {versions: 5}\n", IXFRJournal{Versions: 5, MaxSize: 64 << 20}},
		{"ixfr_journal: {max_size: 512KiB}\n", IXFRJournal{Versions: 100, MaxSize: 512 << 10}},
		{"ixfr_journal: {versions: 0, max_size: 1M}\n", IXFRJournal{Versions: 0, MaxSize: 1 << 20}},
		{"ixfr_journal:\n  versions: 20\n  max_size: 4096\n", IXFRJournal{Versions: 20, MaxSize: 4096}},
	} {
		snap, diags := FromYAML("c.yaml", []byte(tc.yaml), nil)
		if err := diags.Err(); err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if got := snap.Settings().IXFRJournal; got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.yaml, got, tc.want)
		}
	}
}

func TestIXFRJournalSettingErrors(t *testing.T) {
	for yaml, want := range map[string]string{
		"ixfr_journal: {versions: -1}\n":     `c.yaml:1:26: ixfr_journal versions "-1": want a whole number from 0 to 100000`,
		"ixfr_journal: {versions: 100001}\n": `c.yaml:1:26: ixfr_journal versions "100001": want a whole number from 0 to 100000`,
		"ixfr_journal: {max_size: 0}\n":      `c.yaml:1:26: ixfr_journal max_size "0": want a size in bytes above 0`,
		"ixfr_journal: {max_size: 64 MB}\n":  `c.yaml:1:26: ixfr_journal max_size "64 MB": want a size in bytes above 0`,
		"ixfr_journal: {size: 1M}\n":         `c.yaml:1:16: ixfr_journal: unknown key "size"`,
		"ixfr_journal:\n  versions: lots\n":  `c.yaml:2:13: ixfr_journal versions "lots": want a whole number`,
	} {
		_, diags := FromYAML("c.yaml", []byte(yaml), nil)
		err := diags.Err()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", yaml, err, want)
		}
	}
}
