package zone

import (
	"cmp"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// glob is filepath.Glob that says when a directory could not be read,
// which filepath.Glob passes over in silence: a zone directory made
// unreadable by a deploy would look empty and drop every zone in it. A
// directory that does not exist matches nothing, without error. Editors'
// scratch files are never matched. On an error, the matches found in the
// directories that could be read are returned with it.
func glob(pattern string) ([]string, error) {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, err
	}
	dir, file := filepath.Split(pattern)
	dir = cleanGlobDir(dir)
	if !hasMeta(dir) {
		return listMatches(dir, file)
	}
	if dir == pattern {
		return nil, nil
	}
	dirs, err := glob(dir)
	var matches []string
	for _, d := range dirs {
		m, derr := listMatches(d, file)
		matches = append(matches, m...)
		err = cmp.Or(err, derr)
	}
	return matches, err
}

// listMatches lists the entries of dir that match pattern.
func listMatches(dir, pattern string) ([]string, error) {
	if !hasMeta(pattern) {
		p := filepath.Join(dir, pattern)
		if _, err := os.Lstat(p); err != nil {
			if absent(err) {
				return nil, nil
			}
			return nil, err
		}
		if isEditorFile(pattern) {
			return nil, nil
		}
		return []string{p}, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if absent(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if ok, _ := filepath.Match(pattern, name); ok && !isEditorFile(name) {
			out = append(out, filepath.Join(dir, name))
		}
	}
	slices.Sort(out)
	return out, nil
}

// absent: the path, or a directory on the way to it, is not there.
func absent(err error) bool {
	return gone(err) || errors.Is(err, syscall.ENOTDIR)
}

func cleanGlobDir(dir string) string {
	switch dir {
	case "":
		return "."
	case string(filepath.Separator):
		return dir
	}
	return dir[:len(dir)-1]
}

func hasMeta(path string) bool {
	return strings.ContainsAny(path, `*?[\`)
}
