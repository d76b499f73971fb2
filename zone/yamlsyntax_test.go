package zone

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestYAMLSyntaxGolden reads each file under testdata/yamlsyntax, written
// wrong the ways people write YAML wrong by hand, both as a configuration
// and as a zone file: each must be reported the same way, at the line and
// column of the mistake, saying what was wanted; the .golden file holds
// what is said (go test ./zone -update rewrites it).
func TestYAMLSyntaxGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/yamlsyntax/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var asConfig, asZoneFile Diagnostics
			parseConfig(file, text, &asConfig)
			parseZoneFile(file, text, &asZoneFile)
			got := diagnosticLines(asConfig)
			if zf := diagnosticLines(asZoneFile); zf != got {
				t.Errorf("as a zone file:\n%s\nas a configuration:\n%s", zf, got)
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./zone -update)", err)
			}
			if got != string(want) {
				t.Errorf("diagnostics differ from %s:\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func diagnosticLines(ds Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}
