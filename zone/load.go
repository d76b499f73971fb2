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
	return Reload(path, prev, nil)
}

// Reload is Load told which files changed since prev was loaded, as a
// watcher of prev's WatchDirs reports them. Every other zone file prev
// parsed is taken as it is, without the stat that Load makes of each: with
// ten thousand files the stats were most of a reload. A changed path that
// is not one of prev's zone files (the configuration, a new file, a
// directory swapped in) makes Reload check every file, as Load does; so
// does a nil changed, meaning not known.
func Reload(path string, prev *Snapshot, changed []string) (*Snapshot, Diagnostics) {
	var diags Diagnostics
	text, mtime, err := readFile(path)
	if err != nil {
		diags.add(at{file: path}, Error, "read config: %v", err)
		return nil, diags
	}
	return load(path, text, mtime, prev, changed, diags)
}

// FromYAML builds a snapshot from configuration text as if read from file;
// zone_files globs resolve relative to file's directory. Tests use it to
// write configurations inline.
func FromYAML(file string, text []byte, prev *Snapshot) (*Snapshot, Diagnostics) {
	return load(file, text, 0, prev, nil, nil)
}

func load(path string, text []byte, mtime int64, prev *Snapshot, changed []string, diags Diagnostics) (*Snapshot, Diagnostics) {
	cfg := parseConfig(path, text, &diags)
	var prevFiles map[string]*parsedFile
	var pc *buildCache
	if prev != nil && prev.cache != nil {
		prevFiles = prev.cache.files
		if c := prev.cache; c.configPath == path && c.configText == string(text) && c.configMtime == mtime {
			// The same configuration: its zones are the ones built
			// before, so that they too can be reused. The same text
			// elsewhere is not: positions and zone_files name the path.
			cfg.zones = c.configZones
			pc = c
		}
	}
	set := changedSet(changed, prevFiles)
	var m *fileMatch
	sameFiles := pc != nil && set != nil && allExist(changed)
	if sameFiles {
		// The same patterns, and no file came or went (it would have
		// been reported): they match what they matched. Listing a
		// directory of ten thousand files was a fifth of a reload.
		m = prev.match
	} else {
		m = matchZoneFiles(path, cfg)
	}
	diags = append(diags, m.diags...)
	parsed, parsedFiles := readZoneFiles(m.files[1:], prevFiles, set, sameFiles, &diags)
	sources := make([]source, 0, len(m.files))
	sources = append(sources, source{file: path, zones: cfg.zones, mtime: mtime})
	sources = append(sources, parsed...)
	s := build(cfg, sources, prev, pc, &diags)
	diags.sortByPosition()
	if s == nil {
		return nil, diags
	}
	s.match = m
	s.cache.files = parsedFiles
	s.cache.configPath = path
	s.cache.configText = string(text)
	s.cache.configMtime = mtime
	s.cache.configZones = cfg.zones
	return s, diags
}

// fileMatch is what a configuration's zone_files patterns matched.
type fileMatch struct {
	files []string // the configuration first, then the zone files in order
	dirs  []string // to watch: the configuration's and each pattern's
	globs []string // the patterns, absolute
	diags Diagnostics
}

func matchZoneFiles(path string, cfg *parsedConfig) *fileMatch {
	base := filepath.Dir(path)
	m := &fileMatch{files: []string{path}, dirs: []string{base}}
	seen := map[string]bool{path: true}
	for _, g := range cfg.zoneFiles {
		pattern := g.pattern
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(base, pattern)
		}
		m.dirs = append(m.dirs, globDir(pattern))
		m.globs = append(m.globs, pattern)
		matches, err := filepath.Glob(pattern)
		if err != nil {
			m.diags.add(g.pos, Error, "zone_files %q: %v", g.pattern, err)
			continue
		}
		if len(matches) == 0 {
			m.diags.add(g.pos, Warning, "zone_files %q matches no file", g.pattern)
		}
		for _, file := range matches {
			if !seen[file] {
				seen[file] = true
				m.files = append(m.files, file)
			}
		}
	}
	slices.Sort(m.dirs)
	m.dirs = slices.Compact(m.dirs)
	return m
}

// allExist reports whether every path still names a directory entry (a
// dangling symbolic link counts: a glob lists it).
func allExist(paths []string) bool {
	for _, p := range paths {
		if _, err := os.Lstat(p); err != nil {
			return false
		}
	}
	return true
}

// changedSet is the paths a watcher reported, as a set, when every one is
// a zone file prev parsed; nil, meaning check every file, when changed is
// nil or names anything else.
func changedSet(changed []string, prev map[string]*parsedFile) map[string]bool {
	if changed == nil {
		return nil
	}
	set := make(map[string]bool, len(changed))
	for _, f := range changed {
		if prev[f] == nil {
			return nil
		}
		set[f] = true
	}
	return set
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
