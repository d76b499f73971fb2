package zone

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
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
	sources := append([]source{{file: path, zones: cfg.zones, mtime: mtime}}, readZoneFiles(files, &diags)...)
	s := build(cfg, sources, prev, &diags)
	diags.sortByPosition()
	if s == nil {
		return nil, diags
	}
	for _, src := range sources {
		s.files = append(s.files, src.file)
	}
	s.dirs = uniqueSorted(dirs)
	s.globs = globs
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

// readZoneFiles reads and parses files on every core; the sources and
// their findings come back in the order of files, whatever order the
// workers finish in.
func readZoneFiles(files []string, diags *Diagnostics) []source {
	sources := make([]source, len(files))
	found := make([]Diagnostics, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for i := range next {
				file := files[i]
				sources[i].file = file
				text, mtime, err := readFile(file)
				if err != nil {
					found[i].add(at{file: file}, Error, "read zone file: %v", err)
					continue
				}
				sources[i].mtime = mtime
				sources[i].zones = parseZoneFile(file, text, &found[i])
			}
		})
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, f := range found {
		*diags = append(*diags, f...)
	}
	return sources
}

func uniqueSorted(list []string) []string {
	sort.Strings(list)
	out := list[:0]
	for i, s := range list {
		if i == 0 || s != list[i-1] {
			out = append(out, s)
		}
	}
	return out
}
