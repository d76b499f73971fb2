package zone

import (
	"path/filepath"
	"strings"
)

// isEditorFile reports whether name (a path or a base name) looks like a
// file an editor writes beside the one being edited: a backup, a swap
// file, an autosave or a write probe. A zone_files glob such as *.yaml
// must not pick these up, or a half-written copy would be served (vim
// writes and deletes "4913" to test that a directory is writable; emacs
// writes "#name#" autosaves and ".#name" lock links).
func isEditorFile(name string) bool {
	base := filepath.Base(name)
	switch {
	case base == "4913":
		return true
	case strings.HasPrefix(base, ".") || strings.HasPrefix(base, "#"):
		return true
	}
	for _, suffix := range []string{"~", ".swp", ".swx", ".tmp"} {
		if strings.HasSuffix(base, suffix) {
			return true
		}
	}
	return false
}
