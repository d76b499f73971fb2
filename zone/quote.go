package zone

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// maxQuoted is how much of a value or line a diagnostic quotes: enough to
// find it in the file, too little to copy out a file that is not a
// configuration at all (a symlink to /etc/shadow among the zone files)
// into logs and the admin endpoint's /status.
const maxQuoted = 40

// clip shortens s to maxQuoted characters, marking the cut with an
// ellipsis.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxQuoted {
		return s
	}
	return string([]rune(s)[:maxQuoted]) + "…"
}

// clipQuoted clips every string argument that format quotes with %q: the
// verbs that echo file content into diagnostics. Other verbs (%s of key
// lists, names, positions) are the program's own text and stay whole.
func clipQuoted(format string, args []any) []any {
	out, arg := args, 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		// Flags, width and precision, then the verb.
		for i++; i < len(format) && strings.IndexByte("+-# 0123456789.", format[i]) >= 0; i++ {
		}
		if i >= len(format) {
			break
		}
		if format[i] == '%' {
			continue // a literal percent takes no argument
		}
		if format[i] == 'q' && arg < len(args) {
			if s, ok := args[arg].(string); ok && utf8.RuneCountInString(s) > maxQuoted {
				if &out[0] == &args[0] {
					out = slices.Clone(args) // the caller's slice is not ours to change
				}
				out[arg] = clip(s)
			}
		}
		arg++
	}
	return out
}
