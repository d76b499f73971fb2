package zone

import "strings"

// isEditorFile reports whether a file name is an editor's scratch or
// backup file, which no zone_files glob matches.
func isEditorFile(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "#") || name == "4913" {
		return true
	}
	for _, suffix := range []string{"~", ".swp", ".swx", ".tmp"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}
