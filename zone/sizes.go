package zone

import (
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxRecordsLimit bounds max_records_per_file itself: a count beyond it
// would not fit in memory anyway.
const maxRecordsLimit = 1_000_000_000

// sizeUnits are the units max_file_size accepts, all powers of 1024: a
// "K" or "M" written for a file size means the same as KiB or MiB.
var sizeUnits = []struct {
	suffix string
	shift  uint
}{
	{"KiB", 10}, {"MiB", 20}, {"GiB", 30},
	{"K", 10}, {"M", 20}, {"G", 30},
}

// byteSize parses a positive size in bytes: a whole number, or one
// followed by a unit (64MiB, 512 KiB, 1G).
func (r *reader) byteSize(n *yaml.Node, what string) (int64, bool) {
	s, ok := r.scalar(n, what)
	if !ok {
		return 0, false
	}
	v, ok := parseByteSize(s)
	if !ok {
		r.errorf(n, "%s %q: want a size in bytes above 0, e.g. 67108864, or with a unit: 512KiB, 64MiB, 1GiB (K, M, G are the same)", what, s)
		return 0, false
	}
	return v, true
}

func parseByteSize(s string) (int64, bool) {
	num, shift := strings.TrimSpace(s), uint(0)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, shift = strings.TrimRight(rest, " "), u.shift
			break
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v <= 0 || v > math.MaxInt64>>shift {
		return 0, false
	}
	return v << shift, true
}

// stateDir reads state_dir: a relative path is taken from the
// configuration's directory, as zone_files patterns are, so that the
// meaning of the file does not depend on where the server was started.
// Empty, written or not, means not set: the server then picks its default.
func (r *reader) stateDir(n *yaml.Node) string {
	if v := deref(n); v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || v.Value == "") {
		return ""
	}
	s, ok := r.scalar(n, "state_dir (a directory path)")
	if !ok {
		return ""
	}
	if !filepath.IsAbs(s) {
		s = filepath.Join(filepath.Dir(r.file), s)
		if abs, err := filepath.Abs(s); err == nil {
			s = abs
		}
	}
	return filepath.Clean(s)
}
