// Package docs_test holds the documentation to what it points at: links
// that resolve, a README short enough to finish, and a configuration
// reference that names every key the parser accepts.
package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/mxdns/mxdns/zone"
)

// repoRoot is the repository, seen from this package's directory (where go
// test runs it).
const repoRoot = ".."

// readmeLimit is the most the README may weigh: past it, people stop
// reading before they reach what they came for.
const readmeLimit = 16 * 1024

// pages lists the documentation the tests cover, relative to repoRoot.
func pages(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("no docs/*.md found")
	}
	out := []string{"README.md", "CONTRIBUTING.md"}
	for _, d := range docs {
		rel, err := filepath.Rel(repoRoot, d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rel)
	}
	return out
}

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	fence    = regexp.MustCompile("(?ms)^ *```.*?^ *```[^\n]*$")
	codeSpan = regexp.MustCompile("`[^`\n]*`")
	link     = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading  = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *#* *$`)
)

// prose is the text of a page without code, where a link is a link.
func prose(text string) string {
	return codeSpan.ReplaceAllString(fence.ReplaceAllString(text, ""), "")
}

// anchors are the fragment ids a page's headings get, as GitHub makes
// them: lower case, punctuation dropped, spaces to hyphens, and a repeated
// id numbered.
func anchors(text string) map[string]bool {
	out := make(map[string]bool)
	for _, m := range heading.FindAllStringSubmatch(fence.ReplaceAllString(text, ""), -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		id := b.String()
		for n, try := 1, id; ; n++ {
			if !out[try] {
				out[try] = true
				break
			}
			try = id + "-" + strconv.Itoa(n)
		}
	}
	return out
}

func TestLinksResolve(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, page := range pages(t) {
		text := read(t, page)
		for _, m := range link.FindAllStringSubmatch(prose(text), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			file, frag, _ := strings.Cut(target, "#")
			dest := page // a bare #anchor points into the page itself
			if file != "" {
				dest = filepath.Join(filepath.Dir(page), file)
			}
			abs := filepath.Join(root, dest)
			if abs != root && !strings.HasPrefix(abs, root+string(filepath.Separator)) {
				t.Errorf("%s: link %q leads out of the repository", page, target)
				continue
			}
			fi, err := os.Stat(abs)
			if err != nil {
				t.Errorf("%s: link %q: %v", page, target, err)
				continue
			}
			if frag == "" {
				continue
			}
			if fi.IsDir() || !strings.HasSuffix(dest, ".md") {
				t.Errorf("%s: link %q: an anchor into something that is not a markdown page", page, target)
				continue
			}
			if !anchors(read(t, dest))[frag] {
				t.Errorf("%s: link %q: %s has no heading with id %q", page, target, dest, frag)
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d relative links found: is the link pattern still right?", checked)
	}
}

func TestReadmeIsShortWithContents(t *testing.T) {
	text := read(t, "README.md")
	if len(text) >= readmeLimit {
		t.Errorf("README.md is %d bytes, want under %d: move detail to docs/", len(text), readmeLimit)
	}
	// The contents: a heading followed by a list of links to its sections.
	_, rest, ok := strings.Cut(text, "\n## Contents\n")
	if !ok {
		t.Fatal("README.md has no \"## Contents\" heading")
	}
	var entries []string
	for _, line := range strings.Split(strings.TrimLeft(rest, "\n"), "\n") {
		if !strings.HasPrefix(line, "- [") {
			break
		}
		entries = append(entries, line)
	}
	// Every other second-level heading is listed.
	sections := heading.FindAllStringSubmatch(fence.ReplaceAllString(text, ""), -1)
	for _, s := range sections {
		if strings.HasPrefix(s[0], "## ") && s[1] != "Contents" &&
			!slices.ContainsFunc(entries, func(e string) bool { return strings.HasPrefix(e, "- ["+s[1]+"]") }) {
			t.Errorf("README.md contents lack the section %q", s[1])
		}
	}
	if len(entries) < 5 {
		t.Errorf("README.md contents list %d sections, want every section", len(entries))
	}
}

var keyRow = regexp.MustCompile("(?m)^\\| `([a-zA-Z0-9_.]+)` \\|")

// Every key the parser accepts is documented; a documented key the parser
// does not know (yet) is only logged, since documentation may lead a
// change made on another branch.
func TestConfigurationReferenceCoversEveryKey(t *testing.T) {
	text := read(t, filepath.Join("docs", "configuration.md"))
	var documented []string
	for _, m := range keyRow.FindAllStringSubmatch(text, -1) {
		documented = append(documented, m[1])
	}
	parsed := zone.ConfigKeys()
	if len(parsed) < 50 {
		t.Fatalf("zone.ConfigKeys() lists %d keys; the probe is broken", len(parsed))
	}
	for _, k := range parsed {
		if !slices.Contains(documented, k) {
			t.Errorf("docs/configuration.md: no row for the key %q (a table row starting | `%s` |)", k, k)
		}
	}
	for _, k := range documented {
		// A NAME row introduces a level of user-chosen names, not a key.
		if !slices.Contains(parsed, k) && !strings.HasSuffix(k, ".NAME") {
			t.Logf("docs/configuration.md documents %q, which zone.ConfigKeys does not list: a key still to come, or one read without reader.fields (DMARC tags)", k)
		}
	}
}
