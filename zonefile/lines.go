package zonefile

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// entry is one logical line of a master file: a record or a directive,
// with the line it starts on.
type entry struct {
	line      int
	directive string // "$ORIGIN", "$TTL", ... or "" for a record
}

// scanEntries finds where each logical line of a master file starts, so
// that records from dns.ZoneParser (which keeps no positions) can be
// reported as file:line. It follows RFC 1035 §5.1: ';' starts a comment,
// parentheses continue an entry over lines, and quotes and backslashes
// make either one literal.
func scanEntries(r io.Reader) ([]entry, error) {
	var out []entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	depth := 0
	quoted := false
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		started := depth > 0 || quoted
		content := false
	scan:
		for i := 0; i < len(text); i++ {
			c := text[i]
			switch {
			case c == '\\':
				i++
				content = true
			case quoted:
				if c == '"' {
					quoted = false
				}
			case c == '"':
				quoted = true
				content = true
			case c == ';':
				break scan
			case c == '(':
				depth++
			case c == ')':
				if depth == 0 {
					return nil, fmt.Errorf("line %d: ')' without '('", n)
				}
				depth--
			case c != ' ' && c != '\t' && c != '\r':
				content = true
			}
		}
		if started || !content {
			continue
		}
		e := entry{line: n}
		if strings.HasPrefix(text, "$") {
			e.directive = strings.ToUpper(strings.Fields(text)[0])
		}
		out = append(out, e)
	}
	return out, sc.Err()
}
