package zone

import (
	"fmt"
	"sort"
	"strings"
)

// Severity tells whether a diagnostic stops a file from loading.
type Severity int

const (
	Error   Severity = iota // the configuration is not loaded
	Warning                 // loaded, but worth a look
)

// Diagnostic is one finding about a configuration, tied to where it was written.
type Diagnostic struct {
	File      string
	Line, Col int
	Severity  Severity
	Msg       string
}

func (d Diagnostic) String() string {
	var b strings.Builder
	if d.File != "" {
		b.WriteString(d.File)
		if d.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", d.Line, d.Col)
		}
		b.WriteString(": ")
	}
	if d.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Msg)
	return b.String()
}

// Diagnostics is every finding of one load, in file order.
type Diagnostics []Diagnostic

// Errors returns only the findings that stop a load.
func (ds Diagnostics) Errors() Diagnostics { return ds.filter(Error) }

// Warnings returns only the findings that do not stop a load.
func (ds Diagnostics) Warnings() Diagnostics { return ds.filter(Warning) }

func (ds Diagnostics) filter(s Severity) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// Err returns nil when nothing stops the load, else a *LoadError holding the errors.
func (ds Diagnostics) Err() error {
	errs := ds.Errors()
	if len(errs) == 0 {
		return nil
	}
	return &LoadError{Diags: errs}
}

// LoadError is returned when a configuration has errors; it lists all of them.
type LoadError struct {
	Diags Diagnostics
}

func (e *LoadError) Error() string {
	lines := make([]string, len(e.Diags))
	for i, d := range e.Diags {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// sortByPosition orders findings by file (in the order files were first
// named) and then by line and column, the order a reader fixes them in.
func (ds Diagnostics) sortByPosition() {
	rank := make(map[string]int)
	for _, d := range ds {
		if _, ok := rank[d.File]; !ok {
			rank[d.File] = len(rank)
		}
	}
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.File != b.File {
			return rank[a.File] < rank[b.File]
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}
