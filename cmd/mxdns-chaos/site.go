package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The served data: config.yaml holds cfg.chaos, zones/zN.yaml hold
// zN.chaos, and zones/t.yaml holds t.chaos, the zone whose file the
// scenarios break. Every name hK has one A record the checker knows.
const (
	zoneFiles    = 10
	namesPerZone = 40
	targetFile   = "zones/t.yaml"
)

// name is a served name and the address it must have.
type name struct {
	fqdn, addr string
}

// zoneText is a zone file for origin: namesPerZone names with addresses
// from prefix, and the apex TXT "gen N" that marks each good save of the
// target file.
func zoneText(origin, prefix string, gen int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "zones:\n  %s:\n    soa: {serial: auto}\n    ns: [ns1.%s.]\n    records:\n      \"@\": {txt: \"gen %d\"}\n      ns1: {a: %s.250}\n", origin, origin, gen, prefix)
	for k := range namesPerZone {
		fmt.Fprintf(&b, "      h%d: {a: %s.%d}\n", k, prefix, k)
	}
	return b.String()
}

func zoneNames(origin, prefix string) []name {
	out := make([]name, 0, namesPerZone)
	for k := range namesPerZone {
		out = append(out, name{fmt.Sprintf("h%d.%s.", k, origin), fmt.Sprintf("%s.%d", prefix, k)})
	}
	return out
}

// configText is config.yaml: rate limiting off (dnsperf from one address
// is a flood by its measure), the admin endpoint, the zone glob, and one
// zone of its own.
func configText(port, admin int) string {
	return fmt.Sprintf("listen: [\"127.0.0.1:%d\"]\nadmin: \"127.0.0.1:%d\"\nrrl: off\nzone_files: [\"zones/*.yaml\"]\n", port, admin) +
		zoneText("cfg.chaos", "10.250.0", 0)
}

// writeSite writes the configuration's zone files and returns every
// served name, and the origins.
func writeSite(dir string) ([]name, []string, error) {
	if err := os.MkdirAll(filepath.Join(dir, "zones"), 0o755); err != nil {
		return nil, nil, err
	}
	names := zoneNames("cfg.chaos", "10.250.0")
	origins := []string{"cfg.chaos."}
	for i := range zoneFiles {
		origin, prefix := fmt.Sprintf("z%d.chaos", i), fmt.Sprintf("10.%d.0", i)
		if err := os.WriteFile(filepath.Join(dir, "zones", fmt.Sprintf("z%d.yaml", i)), []byte(zoneText(origin, prefix, 0)), 0o644); err != nil {
			return nil, nil, err
		}
		names = append(names, zoneNames(origin, prefix)...)
		origins = append(origins, origin+".")
	}
	if err := os.WriteFile(filepath.Join(dir, targetFile), []byte(targetText(0)), 0o644); err != nil {
		return nil, nil, err
	}
	names = append(names, zoneNames("t.chaos", "10.200.0")...)
	origins = append(origins, "t.chaos.")
	return names, origins, nil
}

// targetText is good generation gen of the target file: the same names
// and addresses every time, a different apex TXT.
func targetText(gen int) string { return zoneText("t.chaos", "10.200.0", gen) }

// brokenTarget is a broken save of the target file, of one of five kinds.
func brokenTarget(kind, gen int) string {
	good := targetText(gen)
	switch kind % 5 {
	case 0: // YAML syntax error
		return strings.Replace(good, "ns: [ns1.t.chaos.]", "ns: [ns1.t.chaos.", 1)
	case 1: // empty
		return ""
	case 2: // truncated to its first line
		return "zones:\n"
	case 3: // a record error
		return strings.Replace(good, `{txt: "gen`, `{mx: ["10 mx1"], txt: "gen`, 1)
	default: // cut in the middle of a line
		return good[:len(good)/2]
	}
}
