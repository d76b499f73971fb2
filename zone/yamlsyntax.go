package zone

import (
	"fmt"
	"strings"
)

// yaml.v3 reports a syntax error at the start of the block that holds it
// (its "context mark"), often lines above the mistake, and never says the
// column: a bad indent on line 6 came out as line 2. pinpointYAML is a
// second, much smaller reader of the text, run only after yaml.v3 has
// refused it, that finds the offending character and says what was
// expected there. It knows the mistakes people make editing by hand: a
// tab in the indentation, an indent that lines up with no enclosing
// block, a bracket or quote left open, a ": " inside a plain value, an
// alias to no anchor. When it finds nothing, yaml.v3's own line is used.
//
// It must never find a mistake where there is none: it is only consulted
// about a file yaml.v3 refused, but a false finding earlier in the file
// would hide the real one. FuzzPinpointYAML holds it to that.

// syntaxFinding is a mistake at a 1-based line and column (in characters,
// as yaml.v3 counts them).
type syntaxFinding struct {
	line, col int
	msg       string
}

// blockLevel is an open block mapping or sequence.
type blockLevel struct {
	indent int // column, from 0, of its keys or dashes
	seq    bool
	line   int    // line of its latest key or item
	key    string // its latest key, for messages
	open   bool   // the latest key or item has no value yet
	plain  bool   // its latest value is a plain scalar, which may go on below
}

// opener is where a bracket or quote was opened.
type opener struct {
	ch        rune
	line, col int // 1-based
	indent    int // indentation of its line
}

type yamlScan struct {
	lines   [][]rune
	levels  []blockLevel
	anchors map[string]bool
	// Within a flow collection or quoted scalar that spans lines.
	flows []opener
	quote *opener
	// multi is the outermost construct that spans lines, and dedent the
	// first line inside it indented no more than the line it opened on.
	multi  *opener
	dedent int
	// Within a block scalar's content: parent is the indentation it must
	// exceed, indent its own once known (0 before).
	block          bool
	parent, indent int
	// unsure: the text uses something this reader does not follow
	// (explicit "? " keys, a scalar document): the rest of the document
	// is left to yaml.v3.
	unsure bool
	found  *syntaxFinding
}

// pinpointYAML returns the first mistake it finds in text, in the order
// the text is read; false when it finds none.
func pinpointYAML(text []byte) (syntaxFinding, bool) {
	s := &yamlScan{anchors: make(map[string]bool)}
	src := strings.TrimPrefix(string(text), "\uFEFF")
	// yaml.v3 counts any of YAML's line breaks as one.
	src = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n").Replace(src)
	for _, l := range strings.Split(src, "\n") {
		s.lines = append(s.lines, []rune(l))
	}
	for i := range s.lines {
		s.line(i)
		if s.found != nil {
			return *s.found, true
		}
	}
	switch {
	case s.quote != nil:
		return s.unclosed(*s.quote), true
	case len(s.flows) > 0:
		return s.unclosed(s.flows[0]), true
	}
	return syntaxFinding{}, false
}

func (s *yamlScan) fail(i, col int, format string, args ...any) {
	if s.found == nil {
		s.found = &syntaxFinding{line: i + 1, col: col + 1, msg: fmt.Sprintf(format, args...)}
	}
}

func (s *yamlScan) unclosed(o opener) syntaxFinding {
	closer, what := "]", "list"
	if o.ch == '{' {
		closer, what = "}", "mapping"
	}
	where := "before the end of the file"
	if s.multi != nil && s.multi.line == o.line && s.multi.col == o.col && s.dedent > 0 {
		where = fmt.Sprintf("before line %d", s.dedent)
	}
	if o.ch == '\'' || o.ch == '"' {
		return syntaxFinding{o.line, o.col, fmt.Sprintf("%s opens a value that is not closed; want a closing %c %s", quoteName(o.ch), o.ch, where)}
	}
	return syntaxFinding{o.line, o.col, fmt.Sprintf("%q opens a %s that is not closed; want %q %s", string(o.ch), what, closer, where)}
}

func quoteName(q rune) string {
	if q == '"' {
		return `the double quote "`
	}
	return "the single quote '"
}

func isBlank(r rune) bool { return r == ' ' || r == '\t' }

// at is the character at col of line i, or 0 past its end.
func (s *yamlScan) at(i, col int) rune {
	if col < len(s.lines[i]) {
		return s.lines[i][col]
	}
	return 0
}

// blankAt: col is past the end of the line or a blank.
func (s *yamlScan) blankAt(i, col int) bool { r := s.at(i, col); return r == 0 || isBlank(r) }

func (s *yamlScan) skipBlanks(i, col int) int {
	for isBlank(s.at(i, col)) {
		col++
	}
	return col
}

// endOfLine: nothing but blanks and perhaps a comment from col on.
func (s *yamlScan) endOfLine(i, col int) bool {
	col = s.skipBlanks(i, col)
	return s.at(i, col) == 0 || s.at(i, col) == '#'
}

func (s *yamlScan) line(i int) {
	l := s.lines[i]
	if s.block {
		k := 0
		for k < len(l) && l[k] == ' ' {
			k++
		}
		if strings.TrimSpace(string(l)) == "" {
			return
		}
		if k > s.parent && (s.indent == 0 || k >= s.indent) {
			if s.indent == 0 {
				s.indent = k
			}
			return
		}
		s.block = false
	}
	if s.quote != nil || len(s.flows) > 0 {
		if s.dedent == 0 && s.multi != nil && strings.TrimSpace(string(l)) != "" {
			if k := len(l) - len(strings.TrimLeft(string(l), " ")); k <= s.multi.indent {
				s.dedent = i + 1
			}
		}
		s.inline(i, 0)
		return
	}
	// A document marker starts afresh; a directive is left to yaml.v3.
	if len(l) >= 3 && (string(l[:3]) == "---" || string(l[:3]) == "...") && s.blankAt(i, 3) {
		s.levels, s.unsure = nil, false
		s.anchors = make(map[string]bool)
		if !s.endOfLine(i, 3) {
			s.unsure = true
		}
		return
	}
	if len(l) > 0 && l[0] == '%' || s.unsure {
		return
	}
	k := 0
	for k < len(l) && isBlank(l[k]) {
		if l[k] == '\t' {
			s.fail(i, k, "a tab in the indentation; want spaces: YAML indents with spaces only")
			return
		}
		k++
	}
	if k == len(l) || l[k] == '#' {
		return
	}
	s.structure(i, k)
}

// structure places a line indented k among the open blocks, then reads it.
func (s *yamlScan) structure(i, k int) {
	dash := s.at(i, k) == '-' && s.blankAt(i, k+1)
	if s.at(i, k) == '?' && s.blankAt(i, k+1) {
		s.unsure = true
		return
	}
	var inner *blockLevel // the nearest level closed by this line
	for len(s.levels) > 0 && s.levels[len(s.levels)-1].indent > k {
		last := s.levels[len(s.levels)-1]
		if inner == nil {
			inner = &last
		}
		s.levels = s.levels[:len(s.levels)-1]
	}
	if n := len(s.levels); n > 0 && s.levels[n-1].indent == k && s.levels[n-1].seq && !dash {
		// A list written at its key's indentation ends at the next key.
		if n > 1 && s.levels[n-2].indent == k {
			s.levels = s.levels[:n-1]
		} else {
			top := s.levels[n-1]
			s.fail(i, k, "this line is indented like the list items above (line %d); want %q to add an item, or less indentation for a key", top.line, "- ")
			return
		}
	}
	if len(s.levels) == 0 {
		if inner != nil {
			s.badIndent(i, k, inner, nil)
			return
		}
		if r := s.at(i, k); r == '[' || r == '{' {
			s.multi = &opener{ch: r, line: i + 1, col: k + 1, indent: k}
			s.dedent = 0
			s.inline(i, k)
			return
		}
		if !dash && !s.isKey(i, k) {
			s.unsure = true // a scalar document
			return
		}
		s.levels = append(s.levels, blockLevel{indent: k, seq: dash, line: i + 1})
		s.node(i, k, &s.levels[0], true)
		return
	}
	top := &s.levels[len(s.levels)-1]
	switch {
	case top.indent == k:
		if dash != top.seq {
			if !dash || !top.open {
				if dash {
					s.fail(i, k, "a list item among the keys of the mapping at line %d; want \"key: value\", or the list under a key with nothing after its ':'", top.line)
				} else {
					s.fail(i, k, "a key among the items of the list at line %d; want \"- \" to start an item", top.line)
				}
				return
			}
			// key:\n- item: a list at its key's indentation.
			top.open = false
			s.levels = append(s.levels, blockLevel{indent: k, seq: true})
			top = &s.levels[len(s.levels)-1]
		}
		top.line = i + 1
		s.node(i, k, top, true)
	case inner != nil:
		s.badIndent(i, k, inner, top)
	case top.open:
		top.open = false
		if dash || s.isKey(i, k) {
			s.levels = append(s.levels, blockLevel{indent: k, seq: dash, line: i + 1})
			s.node(i, k, &s.levels[len(s.levels)-1], true)
			return
		}
		// key:\n  value: the value on a line of its own.
		s.node(i, k, top, false)
	case top.plain && !s.isKey(i, k):
		s.plain(i, k, top, true) // a plain value going on
	default:
		name := fmt.Sprintf("the item at line %d", top.line)
		want := fmt.Sprintf("%q at indentation %d to add an item", "- ", top.indent)
		if !top.seq {
			name = fmt.Sprintf("%q (line %d)", top.key, top.line)
			want = fmt.Sprintf("indentation %d to add a key beside it", top.indent)
		}
		s.fail(i, k, "this line is indented more than %s, which already has a value; want %s", name, want)
	}
}

func (s *yamlScan) badIndent(i, k int, inner, outer *blockLevel) {
	var want []string
	describe := func(l *blockLevel) string {
		if l.seq {
			return fmt.Sprintf("%d to line up with the list item at line %d", l.indent, l.line)
		}
		return fmt.Sprintf("%d to line up with %q (line %d)", l.indent, l.key, l.line)
	}
	want = append(want, describe(inner))
	if inner.open {
		want = append(want, fmt.Sprintf("more than %d to go under it", inner.indent))
	}
	if outer != nil {
		want = append(want, describe(outer))
	}
	spaces := "spaces"
	if k == 1 {
		spaces = "space"
	}
	s.fail(i, k, "this line is indented %d %s, which lines up with no block above; want %s", k, spaces, orList(want))
}

func orList(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// isKey says whether the line holds an implicit key at col: a plain or
// quoted scalar on this line followed by ':' and a blank.
func (s *yamlScan) isKey(i, col int) bool {
	l := s.lines[i]
	switch r := s.at(i, col); r {
	case '\'', '"':
		for j := col + 1; j < len(l); j++ {
			if l[j] == '\\' && r == '"' {
				j++
				continue
			}
			if l[j] == r {
				if r == '\'' && s.at(i, j+1) == '\'' {
					j++
					continue
				}
				j = s.skipBlanks(i, j+1)
				return s.at(i, j) == ':' && s.blankAt(i, j+1)
			}
		}
		return false
	case '[', '{', '*', '&', '!', '|', '>', '#', 0:
		return false
	}
	_, colon := s.plainEnd(i, col)
	return colon
}

// plainEnd is where a plain scalar in block context starting at col ends
// on its line, and whether a ':' and a blank end it.
func (s *yamlScan) plainEnd(i, col int) (int, bool) {
	l := s.lines[i]
	for j := col; j < len(l); j++ {
		switch {
		case l[j] == ':' && s.blankAt(i, j+1):
			return j, true
		case l[j] == '#' && j > col && isBlank(l[j-1]):
			return j, false
		}
	}
	return len(l), false
}

// node reads what a block line holds from col: items, a key and its
// value, or a value alone (asKey false: the line is the value of the
// key above).
func (s *yamlScan) node(i, col int, lv *blockLevel, asKey bool) {
	for s.at(i, col) == '-' && s.blankAt(i, col+1) && lv.seq {
		col++
		for isBlank(s.at(i, col)) {
			if s.at(i, col) == '\t' {
				s.fail(i, col, "a tab after %q; want spaces: YAML indents with spaces only", "-")
				return
			}
			col++
		}
		if s.endOfLine(i, col) {
			lv.open, lv.plain = true, false
			return
		}
		lv.open = false
		switch {
		case s.at(i, col) == '-' && s.blankAt(i, col+1):
			s.levels = append(s.levels, blockLevel{indent: col, seq: true, line: i + 1})
		case s.isKey(i, col):
			s.levels = append(s.levels, blockLevel{indent: col, line: i + 1})
		default:
			s.value(i, col, lv)
			return
		}
		lv = &s.levels[len(s.levels)-1]
	}
	if !asKey || !s.isKey(i, col) {
		if !lv.seq && asKey {
			if strings.ContainsRune("|>[{'\"*&!", s.at(i, col)) {
				s.unsure = true // left to yaml.v3
				return
			}
			end, _ := s.plainEnd(i, col)
			s.fail(i, end, "could not find ':' after %q; want \"key: value\"", strings.TrimSpace(string(s.lines[i][col:end])))
			return
		}
		s.value(i, col, lv)
		return
	}
	// The key: its text, then the ':' isKey found.
	l := s.lines[i]
	var colon int
	if r := l[col]; r == '\'' || r == '"' {
		end := s.quoted(i, col)
		if end < 0 {
			return
		}
		colon = s.skipBlanks(i, end)
		lv.key = string(l[col+1 : max(col+1, end-1)])
	} else {
		colon, _ = s.plainEnd(i, col)
		lv.key = strings.TrimSpace(string(l[col:colon]))
	}
	lv.line = i + 1
	if s.found != nil {
		return
	}
	v := s.skipBlanks(i, colon+1)
	if s.endOfLine(i, v) {
		lv.open, lv.plain = true, false
		return
	}
	lv.open = false
	s.value(i, v, lv)
}

// value reads a value in block context at col.
func (s *yamlScan) value(i, col int, lv *blockLevel) {
	lv.plain = false
	col = s.properties(i, col)
	if s.found != nil {
		return
	}
	if s.endOfLine(i, col) {
		lv.open = true // &anchor alone: the value follows below
		return
	}
	switch r := s.at(i, col); {
	case r == '[' || r == '{' || r == '"' || r == '\'':
		s.multi = &opener{ch: r, line: i + 1, col: col + 1, indent: lv.indent}
		s.dedent = 0
		s.inline(i, col)
	case r == '|' || r == '>':
		j := col + 1
		explicit := 0
		for ; j < len(s.lines[i]) && !isBlank(s.at(i, j)) && s.at(i, j) != '#'; j++ {
			switch c := s.at(i, j); {
			case c >= '1' && c <= '9':
				explicit = int(c - '0')
			case c != '+' && c != '-':
				s.unsure = true // left to yaml.v3
				return
			}
		}
		if !s.endOfLine(i, j) {
			s.fail(i, s.skipBlanks(i, j), "text after %q on its line; want the block's text on the lines below, indented", string(r))
			return
		}
		s.block, s.parent, s.indent = true, lv.indent, 0
		if explicit > 0 {
			s.indent = lv.indent + explicit
		}
	case r == '*':
		end := s.alias(i, col)
		s.after(i, end)
	case r == '-' && s.blankAt(i, col+1):
		s.fail(i, col, "a list item cannot start after %q on the same line; want the items on the lines below, indented", lv.key+":")
	case r == '?' && s.blankAt(i, col+1) && lv.seq:
		s.unsure = true // - ? key: left to yaml.v3
	case r == '?' && s.blankAt(i, col+1):
		s.fail(i, col, "an explicit key ('? ') cannot start here; want it at the start of a line")
	default:
		if s.cannotStart(i, col) {
			return
		}
		s.plain(i, col, lv, false)
	}
}

// cannotStart reports a character that starts no value.
func (s *yamlScan) cannotStart(i, col int) bool {
	switch r := s.at(i, col); r {
	case ']', '}':
		s.fail(i, col, "%q with no %q open; want it removed, or the value quoted", string(r), map[rune]string{']': "[", '}': "{"}[r])
	case ',', '@', '`', '%':
		s.fail(i, col, "%q cannot start a plain value; want the value quoted", string(r))
	default:
		return false
	}
	return true
}

// plain reads a plain value from col to the end of its line.
func (s *yamlScan) plain(i, col int, lv *blockLevel, more bool) {
	end, colon := s.plainEnd(i, col)
	if colon {
		what := "the value"
		if !lv.seq && lv.key != "" {
			what = fmt.Sprintf("the value of %q (line %d)", lv.key, lv.line)
		}
		if more {
			s.fail(i, col, "this line goes on with %s and holds ': '; want it indented like %q to be a key of its own, or the value quoted", what, lv.key)
			return
		}
		s.fail(i, end, "a ': ' inside %s; want the value quoted, or a nested mapping on the lines below", what)
		return
	}
	lv.plain = true
}

// after checks that nothing but a comment follows a value that ended at col.
func (s *yamlScan) after(i, col int) {
	j := s.skipBlanks(i, col)
	switch {
	case s.endOfLine(i, j):
	case s.at(i, j) == ':' && s.blankAt(i, j+1):
		if m := s.multi; m != nil && m.line == i+1 && strings.TrimSpace(string(s.lines[i][:m.col-1])) == "" {
			s.unsure = true // [a, b]: a collection as a key
			return
		}
		s.fail(i, j, "a ': ' after a value; want a key before the ':', on a line of its own")
	default:
		if m := s.multi; m != nil && m.line != i+1 && (m.ch == '\'' || m.ch == '"') {
			s.fail(m.line-1, m.col-1, "%s opens a value that is not closed on its line: it ends at line %d, where text follows it; want a closing %c at the end of the value", quoteName(m.ch), i+1, m.ch)
			return
		}
		s.fail(i, j, "text after the value; want the end of the line or a comment (# ...)")
	}
}

// properties skips an anchor and a tag at col, remembering the anchor.
func (s *yamlScan) properties(i, col int) int {
	for {
		switch s.at(i, col) {
		case '&':
			j := s.nameEnd(i, col+1)
			s.anchors[string(s.lines[i][col+1:j])] = true
			col = s.skipBlanks(i, j)
		case '!':
			j := col
			for j < len(s.lines[i]) && !isBlank(s.at(i, j)) {
				j++
			}
			col = s.skipBlanks(i, j)
		default:
			return col
		}
	}
}

// nameEnd is the end of an anchor or alias name at col: yaml.v3 takes
// letters, digits, '_' and '-'.
func (s *yamlScan) nameEnd(i, col int) int {
	for j := col; ; j++ {
		if r := s.at(i, j); !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '-') {
			return j
		}
	}
}

// alias checks the alias at col names an anchor written before it.
func (s *yamlScan) alias(i, col int) int {
	end := s.nameEnd(i, col+1)
	if name := string(s.lines[i][col+1 : end]); !s.anchors[name] {
		s.fail(i, col, "alias *%s names no anchor; want &%s on a value before it", name, name)
	}
	return end
}

// quoted reads a quoted scalar opening at col of line i and returns the
// column after its closing quote, or -1 when it runs past the line (s.quote
// is then set).
func (s *yamlScan) quoted(i, col int) int {
	q := s.at(i, col)
	s.quote = &opener{ch: q, line: i + 1, col: col + 1, indent: len(s.lines[i]) - len(strings.TrimLeft(string(s.lines[i]), " "))}
	return s.inQuote(i, col+1)
}

// inQuote goes on with the open quoted scalar from col.
func (s *yamlScan) inQuote(i, col int) int {
	q := s.quote.ch
	l := s.lines[i]
	for j := col; j < len(l); j++ {
		switch {
		case q == '\'' && l[j] == '\'':
			if s.at(i, j+1) == '\'' {
				j++
				continue
			}
			s.quote = nil
			return j + 1
		case q == '"' && l[j] == '"':
			s.quote = nil
			return j + 1
		case q == '"' && l[j] == '\\':
			if !s.escape(i, j) {
				return -1
			}
			j += map[rune]int{'x': 2, 'u': 4, 'U': 8}[s.at(i, j+1)] + 1
		}
	}
	return -1
}

// escape checks the escape sequence at col of a double-quoted scalar.
func (s *yamlScan) escape(i, col int) bool {
	r := s.at(i, col+1)
	if r == 0 || strings.ContainsRune("0abt\tnvfre \"/\\N_LP", r) {
		return true
	}
	if n := map[rune]int{'x': 2, 'u': 4, 'U': 8}[r]; n > 0 {
		for j := col + 2; j < col+2+n; j++ {
			if !strings.ContainsRune("0123456789abcdefABCDEF", s.at(i, j)) {
				s.fail(i, col, "\\%c wants %d hexadecimal digits; want them, or \\\\ for a backslash", r, n)
				return false
			}
		}
		return true
	}
	s.fail(i, col, "unknown escape \\%c in a double-quoted value; want \\\\ for a backslash, or single quotes ('...') in which a backslash is plain text", r)
	return false
}

// inline reads flow collections and quoted scalars from col of line i,
// going on from the state the lines before left.
func (s *yamlScan) inline(i, col int) {
	l := s.lines[i]
	if s.quote != nil {
		if col = s.inQuote(i, col); col < 0 || s.found != nil {
			return
		}
		if len(s.flows) == 0 {
			s.closeMulti(i, col)
			return
		}
	}
	if len(s.flows) == 0 && col < len(l) {
		switch l[col] {
		case '[', '{':
		case '\'', '"':
			if col = s.quoted(i, col); col >= 0 && s.found == nil {
				s.closeMulti(i, col)
			}
			return
		default:
			return // unsure: outside flow, left to yaml.v3
		}
	}
	for col < len(l) && s.found == nil {
		r := l[col]
		switch {
		case isBlank(r) || r == ',' || r == ':':
			col++
		case r == '#' && (col == 0 || isBlank(l[col-1])):
			return
		case r == '[' || r == '{':
			s.flows = append(s.flows, opener{ch: r, line: i + 1, col: col + 1})
			col++
		case r == ']' || r == '}':
			want := map[rune]rune{']': '[', '}': '{'}[r]
			n := len(s.flows)
			if n == 0 {
				s.cannotStart(i, col)
				return
			}
			if o := s.flows[n-1]; o.ch != want {
				s.fail(i, col, "%q closes the %q opened at %d:%d; want %q", string(r), string(o.ch), o.line, o.col, map[rune]string{'[': "]", '{': "}"}[o.ch])
				return
			}
			s.flows = s.flows[:n-1]
			col++
			if len(s.flows) == 0 {
				s.closeMulti(i, col)
				return
			}
		case r == '\'' || r == '"':
			if col = s.quoted(i, col); col < 0 {
				return
			}
		case r == '*':
			col = s.alias(i, col)
		case r == '&' || r == '!':
			col = s.properties(i, col)
		case r == '@' || r == '`':
			s.cannotStart(i, col)
		default:
			// A plain scalar: up to a flow indicator, or ": ".
			for col < len(l) && !strings.ContainsRune(",[]{}", l[col]) &&
				!(l[col] == ':' && (s.blankAt(i, col+1) || strings.ContainsRune(",[]{}", s.at(i, col+1)))) &&
				!(l[col] == '#' && isBlank(l[col-1])) {
				col++
			}
		}
	}
}

// closeMulti: the value that opened in block context ended at col of line i.
func (s *yamlScan) closeMulti(i, col int) {
	if s.unsure {
		s.multi = nil
		return
	}
	s.after(i, col)
	s.multi = nil
}
