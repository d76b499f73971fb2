package e2e

import (
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// Issue #13, failure 7: YAML syntax errors pointed at the wrong place, a
// bad indent on line 6 at 2:1 (or 4:1), an unclosed [ on line 3 at 2:1,
// and the column was always 1. `mxdns check` must name the line of the
// offending character and a column on it; none of these is in column 1.
func TestYAMLErrorPositions(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		line       int
	}{
		{"bad indent on line 6", "zones:\n  bad.test:\n    ns: [ns1.bad.test.]\n    records:\n      ns1: {a: 192.0.2.1}\n       www: {a: 192.0.2.2}\n", 6},
		{"unclosed [ on line 3", "zones:\n  bad.test:\n    ns: [ns1.bad.test.\n    records:\n      ns1: {a: 192.0.2.1}\n", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, map[string]string{"zones/bad.yaml": tc.text})
			s.writeInPlace("config.yaml", s.config(5353, 8053))
			cmd := exec.Command(bin, "check", "-config", "config.yaml")
			cmd.Dir = s.dir
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("mxdns check passed a file with a %s:\n%s", tc.name, out)
			}
			m := regexp.MustCompile(`bad\.yaml:(\d+):(\d+):`).FindSubmatch(out)
			if m == nil {
				t.Fatalf("failure 7 (%s): no bad.yaml:line:col in:\n%s", tc.name, out)
			}
			line, _ := strconv.Atoi(string(m[1]))
			col, _ := strconv.Atoi(string(m[2]))
			if line != tc.line || col <= 1 {
				t.Fatalf("failure 7 (%s): reported at %d:%d, want line %d and the column of the offending character (not 1):\n%s", tc.name, line, col, tc.line, out)
			}
		})
	}
}
