package zone

import (
	"path/filepath"
	"testing"
)

func TestFileLimitSettings(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "etc", "mxdns.yaml")
	for _, tc := range []struct {
		yaml       string
		stateDir   string
		size       int64
		maxRecords int
	}{
		{"", "", 64 << 20, 2_000_000},
		{"state_dir: /var/lib/mxdns\n", "/var/lib/mxdns", 64 << 20, 2_000_000},
		{"state_dir: /var/lib/mxdns/\n", "/var/lib/mxdns", 64 << 20, 2_000_000},
		{"state_dir: state\n", filepath.Join(dir, "etc", "state"), 64 << 20, 2_000_000},
		{"state_dir: ../state\n", filepath.Join(dir, "state"), 64 << 20, 2_000_000},
		{"state_dir: \"\"\n", "", 64 << 20, 2_000_000},
		{"state_dir:\n", "", 64 << 20, 2_000_000},
		{"max_file_size: 1000\n", "", 1000, 2_000_000},
		{"max_file_size: 1\n", "", 1, 2_000_000},
		{"max_file_size: 512KiB\n", "", 512 << 10, 2_000_000},
		{"max_file_size: 512 KiB\n", "", 512 << 10, 2_000_000},
		{"max_file_size: 16MiB\n", "", 16 << 20, 2_000_000},
		{"max_file_size: 2GiB\n", "", 2 << 30, 2_000_000},
		{"max_file_size: 3K\n", "", 3 << 10, 2_000_000},
		{"max_file_size: 3M\n", "", 3 << 20, 2_000_000},
		{"max_file_size: 3G\n", "", 3 << 30, 2_000_000},
		{"max_records_per_file: 10\n", "", 64 << 20, 10},
		{"max_records_per_file: 1\n", "", 64 << 20, 1},
	} {
		s, diags := FromYAML(config, []byte(tc.yaml), nil)
		if s == nil {
			t.Errorf("%q: %v", tc.yaml, diags)
			continue
		}
		got := s.Settings()
		if got.StateDir != tc.stateDir || got.MaxFileSize != tc.size || got.MaxRecordsPerFile != tc.maxRecords {
			t.Errorf("%q: state dir %q, max file size %d, max records %d; want %q, %d, %d",
				tc.yaml, got.StateDir, got.MaxFileSize, got.MaxRecordsPerFile, tc.stateDir, tc.size, tc.maxRecords)
		}
	}
}

func TestFileLimitSettingErrors(t *testing.T) {
	const sizeWant = "want a size in bytes above 0, e.g. 67108864, or with a unit: 512KiB, 64MiB, 1GiB"
	for _, tc := range []struct{ yaml, want string }{
		{"max_file_size: 0\n", `c.yaml:1:16: max_file_size "0": ` + sizeWant},
		{"max_file_size: -5\n", `c.yaml:1:16: max_file_size "-5": ` + sizeWant},
		{"max_file_size: 64MB\n", `c.yaml:1:16: max_file_size "64MB": ` + sizeWant},
		{"max_file_size: MiB\n", `c.yaml:1:16: max_file_size "MiB": ` + sizeWant},
		{"max_file_size: 1.5MiB\n", `c.yaml:1:16: max_file_size "1.5MiB": ` + sizeWant},
		{"max_file_size: 9999999999999GiB\n", `c.yaml:1:16: max_file_size "9999999999999GiB": ` + sizeWant},
		{"max_file_size: [1]\n", "c.yaml:1:16: max_file_size: want a value, got a list"},
		{"max_records_per_file: 0\n", `c.yaml:1:23: max_records_per_file "0": want a whole number from 1 to 1000000000`},
		{"max_records_per_file: lots\n", `c.yaml:1:23: max_records_per_file "lots": want a whole number from 1 to 1000000000`},
		{"state_dir: [a, b]\n", "c.yaml:1:12: state_dir (a directory path): want a value, got a list"},
	} {
		wantOneError(t, tc.yaml, tc.want)
	}
}
