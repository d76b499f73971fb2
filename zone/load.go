package zone

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Load reads the configuration at path and every zone file it names, and
// builds a snapshot. prev, when not nil, is the snapshot being served: it
// keeps "serial: auto" moving only upward. The snapshot is nil when the
// diagnostics hold any error.
func Load(path string, prev *Snapshot) (*Snapshot, Diagnostics) {
	var diags Diagnostics
	text, mtime, err := readFile(path)
	if err != nil {
		diags.add(at{file: path}, Error, "read config: %v", err)
		return nil, diags
	}
	return load(path, text, mtime, prev, diags)
}

// FromYAML builds a snapshot from configuration text as if read from file;
// zone_files globs resolve relative to file's directory. Tests use it to
// write configurations inline.
func FromYAML(file string, text []byte, prev *Snapshot) (*Snapshot, Diagnostics) {
	return load(file, text, 0, prev, nil)
}

func load(path string, text []byte, mtime int64, prev *Snapshot, diags Diagnostics) (*Snapshot, Diagnostics) {
	cfg := parseConfig(path, text, &diags)
	base := filepath.Dir(path)
	dirs := []string{base}
	var globs []string
	files := []string{}
	seen := map[string]bool{path: true}
	for _, g := range cfg.zoneFiles {
		pattern := g.pattern
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(base, pattern)
		}
		dirs = append(dirs, globDir(pattern))
		globs = append(globs, pattern)
		matches, err := filepath.Glob(pattern)
		if err != nil {
			diags.add(g.pos, Error, "zone_files %q: %v", g.pattern, err)
			continue
		}
		if len(matches) == 0 {
			diags.add(g.pos, Warning, "zone_files %q matches no file", g.pattern)
		}
		for _, file := range matches {
			if !seen[file] {
				seen[file] = true
				files = append(files, file)
			}
		}
	}
	var prevFiles map[string]*parsedFile
	var pc *buildCache
	if prev != nil && prev.cache != nil {
		prevFiles = prev.cache.files
		if c := prev.cache; c.configText == string(text) && c.configMtime == mtime {
			// The same configuration: its zones are the ones built
			// before, so that they too can be reused.
			cfg.zones = c.configZones
			pc = c
		}
	}
	parsed, parsedFiles := readZoneFiles(files, prevFiles, &diags)
	sources := append([]source{{file: path, zones: cfg.zones, mtime: mtime}}, parsed...)
	s := build(cfg, sources, prev, pc, &diags)
	diags.sortByPosition()
	if s == nil {
		return nil, diags
	}
	for _, src := range sources {
		s.files = append(s.files, src.file)
	}
	slices.Sort(dirs)
	s.dirs = slices.Compact(dirs)
	s.globs = globs
	s.cache.files = parsedFiles
	s.cache.configText = string(text)
	s.cache.configMtime = mtime
	s.cache.configZones = cfg.zones
	return s, diags
}

func readFile(path string) ([]byte, int64, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	return text, fi.ModTime().Unix(), nil
}

// globDir is the directory a glob's matches live in: the part before the
// first wildcard. Watching it sees files appear and disappear.
func globDir(pattern string) string {
	dir := filepath.Dir(pattern)
	for strings.ContainsAny(dir, "*?[\\") && dir != filepath.Dir(dir) {
		dir = filepath.Dir(dir)
	}
	return dir
}
