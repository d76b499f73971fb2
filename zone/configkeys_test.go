package zone

import (
	"slices"
	"strings"
	"testing"
)

func TestConfigKeysListsNestedKeys(t *testing.T) {
	keys := ConfigKeys()
	for _, want := range []string{
		"listen",
		"links.NAME.check.interval",
		"zones.NAME.soa.serial",
		"zones.NAME.records.NAME.mx",
		"zones.NAME.records.NAME.dkim.selector",
		"tsig_keys.NAME.secret",
		"zones.NAME.transfer.allow",
	} {
		if !slices.Contains(keys, want) {
			t.Errorf("ConfigKeys() lacks %q; got %q", want, keys)
		}
	}
	if !slices.IsSorted(keys) || len(slices.Compact(slices.Clone(keys))) != len(keys) {
		t.Errorf("ConfigKeys() is not sorted and unique: %q", keys)
	}
}

// The probe must offer, at each level, exactly the keys the parser names
// when it meets an unknown one: that message comes from the real walk of a
// real document, so the two cannot drift apart unnoticed.
func TestConfigKeysMatchWhatTheParserAccepts(t *testing.T) {
	keys := ConfigKeys()
	for _, tc := range []struct{ level, doc string }{
		{"", "zzz: 1\n"},
		{"links.NAME", "links: {wan1: {zzz: 1}}\n"},
		{"links.NAME.check", "links: {wan1: {check: {tcp: \"127.0.0.1:25\", zzz: 1}}}\n"},
		{"rrl", "rrl: {zzz: 1}\n"},
		{"tsig_keys.NAME", "tsig_keys: {k: {zzz: 1}}\n"},
		{"transfer", "transfer: {zzz: 1}\n"},
		{"zones.NAME", "zones: {example.com: {ns: [ns1.example.net.], zzz: 1}}\n"},
		{"zones.NAME.soa", "zones: {example.com: {ns: [ns1.example.net.], soa: {zzz: 1}}}\n"},
		{"zones.NAME.transfer", "zones: {example.com: {ns: [ns1.example.net.], transfer: {zzz: 1}}}\n"},
		{"zones.NAME.records.NAME", "zones: {example.com: {ns: [ns1.example.net.], records: {www: {zzz: 1}}}}\n"},
		{"zones.NAME.records.NAME.dkim", "zones: {example.com: {ns: [ns1.example.net.], records: {\"@\": {dkim: {zzz: 1}}}}}\n"},
		{"zones.NAME.records.NAME.mta_sts", "zones: {example.com: {ns: [ns1.example.net.], records: {\"@\": {mta_sts: {zzz: 1}}}}}\n"},
	} {
		_, diags := FromYAML("c.yaml", []byte(tc.doc), nil)
		var accepted []string
		for _, d := range diags {
			if _, list, ok := strings.Cut(d.Msg, `unknown key "zzz"; want one of `); ok {
				accepted = strings.Split(list, ", ")
			}
		}
		if accepted == nil {
			t.Errorf("%s: no unknown-key finding for %q; got %v", tc.level, tc.doc, diags)
			continue
		}
		var probed []string
		for _, k := range keys {
			rest, ok := strings.CutPrefix(k, tc.level)
			if tc.level != "" {
				rest, ok = strings.CutPrefix(rest, ".")
			}
			if strings.HasPrefix(k, tc.level) && ok && !strings.Contains(rest, ".") {
				probed = append(probed, rest)
			}
		}
		if !slices.Equal(probed, accepted) {
			t.Errorf("%s: ConfigKeys offers %q, the parser accepts %q", tc.level, probed, accepted)
		}
	}
}
