package zone

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// validYAML is text yaml.v3 accepts, written the ways people write it:
// pinpointYAML must find nothing wrong in any of it.
var validYAML = []string{
	"a:\tb\n", "a: b\t# c\n", "a: 'x\n  y'\n", "a:\n  b: 'x\nc: 1'\n", "a: \"x\n y\"\n",
	"a: [x,\ny]\n", "a:\n  b: [x,\ny]\n", "a:\n  b: {x: 1,\n y: 2}\n", "a: hello\n world\n", "- a\n b\n",
	"a: b #c: d\n", "a: http://x\n", "a: b:c\n", "a: -b\n", "a: ?b\n", "a: :b\n",
	"a: |\n  x\n\n  y\nb: 1\n", "a: |2\n   x\n  y\n", "a: >-\n  x\n  y\n", "key with space: 1\n", "\"q\": 1\n", "'q' : 1\n",
	"a:\n- 1\n- 2\nb: 1\n", "- - a\n  - b\n- c\n", "-\n  a: 1\n", "a: !!str 1\n", "a: &x\n  b: 1\nc: *x\n",
	"a: b\n---\nc: d\n", "a: 1 # x\n  # y\nb: 2\n", "a:\n    # c\n  b: 1\n", "a: x\n  # c\nb: 1\n",
	"[a, b]: 1\n", "a: 'it''s'\n", "a: \"\\x41\\u0041\\U00000041\\t\\ \"\n", "a: \"x\\\n  y\"\n",
	"- a: 1\n  b: 2\n- c: 3\n", "a:\n  - b: 1\n    c: [1, 2]\n  - d\n", "a: {b: [1, {c: d}], e: 'f'}\n",
	"hello\n", "hello\nworld\n", "[1, 2]\n", "{a: 1}\n", "# only a comment\n", "", "\n\n",
	"a: 1\r\nb: 2\r\n", "\uFEFFa: 1\n", "a: 'x' # c\n", "a: [x] # c\n", "a: *x\n", // *x: yaml.v3 refuses
	"a: &x [1]\nb: *x\n", "a: &x 1\nb: [*x, *x]\n", "%YAML 1.1\n---\na: 1\n", "a: 1\n...\n", "---\n- a\n",
	"a:\n  b:\n    c: 1\n  d: 2\ne: 3\n", "a: |+\n  x\n\nb: 1\n", "a:\n  - |\n    x\n  - y\n", "a: 1\n  \nb: 2\n",
	"a: b # x: y\n", "a: x#y\n", "- [a,\n   b]\n- c\n", "a: \"x\" \n", "a: '#'\n", "a: \"[\"\n",
}

func TestPinpointFindsNothingInValidYAML(t *testing.T) {
	texts := append([]string(nil), validYAML...)
	files, _ := filepath.Glob("../*.yaml")
	more, _ := filepath.Glob("../*/*.yaml")
	files = append(files, more...)
	deeper, _ := filepath.Glob("testdata/*/*.yaml")
	files = append(files, deeper...)
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	for _, text := range texts {
		checkPinpoint(t, []byte(text))
	}
}

// checkPinpoint: for text yaml.v3 accepts, pinpointYAML finds nothing.
func checkPinpoint(t *testing.T, text []byte) {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(string(text)))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if !errors.Is(err, io.EOF) {
				return // refused: anything pinpointYAML says may be right
			}
			break
		}
	}
	if f, ok := pinpointYAML(text); ok {
		t.Errorf("%q is valid YAML, but pinpointYAML finds at %d:%d: %s", text, f.line, f.col, f.msg)
	}
}

// FuzzPinpointYAML holds pinpointYAML to finding nothing in text that
// yaml.v3 accepts, and to never panicking.
func FuzzPinpointYAML(f *testing.F) {
	for _, s := range validYAML {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		pinpointYAML(text)
		checkPinpoint(t, text)
	})
}
