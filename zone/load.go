package zone

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Load reads the configuration at path and every zone file it names, and
// builds a snapshot. prev, when not nil, is the snapshot being served: it
// keeps "serial: auto" moving only upward. The snapshot is nil when the
// diagnostics hold any error: Load is the strict reading that `mxdns
// check` and the tests want. A server uses Open, which serves what it can.
func Load(path string, prev *Snapshot) (*Snapshot, Diagnostics) {
	return Reload(path, prev, nil)
}

// Reload is Load told which files changed since prev was loaded, as a
// watcher of prev's WatchDirs reports them (see Options.Changed).
func Reload(path string, prev *Snapshot, changed []string) (*Snapshot, Diagnostics) {
	l := Open(path, prev, Options{Changed: changed, Strict: true})
	return l.Snapshot, l.Diags
}

// FromYAML builds a snapshot from configuration text as if read from file;
// zone_files globs resolve relative to file's directory. Tests use it to
// write configurations inline.
func FromYAML(file string, text []byte, prev *Snapshot) (*Snapshot, Diagnostics) {
	l := load(filepath.Clean(file), configRead{text: text}, prev, Options{Strict: true})
	return l.Snapshot, l.Diags
}

// Options tune Open.
type Options struct {
	// Changed, when not nil, names every file a watcher of prev's
	// WatchDirs saw an event for: the other zone files prev parsed are
	// taken as they are, without the stat Load makes of each (with ten
	// thousand files the stats were most of a reload). A path that is
	// not one of prev's zone files (the configuration, a new file, a
	// directory swapped in) makes Open check every file.
	Changed []string
	// Memory holds last good copies and serials from before this
	// process; nil knows none.
	Memory Memory
	// Keys gives signed zones their DNSKEY records; nil builds them
	// without (as mxdns check does).
	Keys KeySource
	// Rekey names signed zones to build again with their keys as they
	// stand now: a key event is due, or the parent's DS was seen.
	Rekey []string
	// CatalogIDs holds the label of each zone in the catalog by origin,
	// as the server keeps them (Snapshot.CatalogIDs), so that a zone
	// keeps its label across restarts; those prev serves win. nil knows
	// none but those of prev.
	CatalogIDs map[string]string
	// Now stamps when a file first went bad, and gives the serial of a
	// zone whose transferred view alone changed; nil is time.Now.
	Now func() time.Time
	// TransferUp gives the links up, among those of the configuration
	// loaded, that transfer_view: current transfers the answers of; nil
	// is DefaultUp. A server passes its health checks' verdicts.
	TransferUp func(links []Link) LinkSet
	// Strict serves no file from a last good copy: any error, and the
	// snapshot is nil.
	Strict bool
	// Cancel, when closed, ends the load early with no snapshot: a
	// server shutting down does not wait for a build of ten thousand
	// zones.
	Cancel <-chan struct{}
}

// errCancelled is the one error of a cancelled load.
const errCancelled = "load cancelled"

func cancelled(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// Loaded is the outcome of Open.
type Loaded struct {
	// Snapshot serves every file as it is, or, for a file in error, as
	// it last was good (see Snapshot.Faults). It is nil only when no
	// configuration can be served: the configuration is in error and no
	// good copy of it is known.
	Snapshot *Snapshot
	// Diags holds every finding, the errors of files served from their
	// last good copy included.
	Diags Diagnostics
	// Copies are the files read good in this load, to be remembered as
	// their last good copies. The snapshot does not hold them.
	Copies []FileCopy
}

// Open loads the configuration at path as a server does: each file on its
// own. A file that cannot be read (but for one that is gone), does not
// parse, defines none of the zones it defined before, or whose zones do not
// build, is served as it last was good, from prev or from opts.Memory, and
// is reported in Snapshot.Faults; every other file is served as it is now.
func Open(path string, prev *Snapshot, opts Options) Loaded {
	path = filepath.Clean(path) // a glob's matches are clean: ./config.yaml must be seen as config.yaml
	return load(path, readConfig(path), prev, opts)
}

// configRead is the configuration file as read, or why it could not be.
type configRead struct {
	symlink bool // the path is a symbolic link, read or not
	text    []byte
	mtime   int64
	err     error
}

// AbsPath makes a path absolute and clean, the one spelling a watcher's
// events and a snapshot's files can be compared in: `cfg.yaml`,
// `./cfg.yaml` and `sub/../cfg.yaml` are one file. A server opens its
// configuration by it.
func AbsPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

func load(path string, cr configRead, prev *Snapshot, opts Options) Loaded {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ld := &loader{path: path, prev: prev, opts: opts, cfgSymlink: cr.symlink}
	if prev != nil && prev.cache != nil {
		ld.prevFiles = prev.cache.files
	}
	cfg, ok := ld.config(cr, false)
	if cfg == nil {
		ld.diags.sortByPosition()
		return Loaded{Diags: ld.diags}
	}
	l := ld.run(cfg)
	if ld.opts.Strict && l.Diags.Err() != nil {
		l.Snapshot, l.Copies = nil, nil
	}
	if !ok {
		// Built only to find every error, as `mxdns check` shows them.
		l.Snapshot, l.Copies = nil, nil
		return l
	}
	if l.Snapshot == nil && len(ld.cfgErrs) == 0 && ld.blamedConfig {
		// The configuration's own zones do not build: serve its last
		// good copy, and the zone files it names, instead.
		ld2 := &loader{path: path, prev: prev, opts: opts, prevFiles: ld.prevFiles, cfgSymlink: cr.symlink}
		if cfg, ok := ld2.config(cr, true); cfg != nil && ok {
			ld2.cfgErrs = append(ld.cfgBuildErrs, ld2.cfgErrs...)
			return ld2.run(cfg)
		}
	}
	return l
}

// loader is one load's working state.
type loader struct {
	path      string
	prev      *Snapshot
	prevFiles map[string]*parsedFile
	opts      Options
	diags     Diagnostics
	rd        *fileReader // the zone files' reader, once cfg says how

	cfgText      []byte
	cfgMtime     int64
	cfgSymlink   bool        // its target is watched, whichever copy is served
	cfgErrs      Diagnostics // the configuration's errors, when its last good copy is served
	cfgFreshGood bool        // the configuration read now is good: remember it
	// blamedConfig: a build failed on an error in the configuration
	// file itself; cfgBuildErrs holds those errors.
	blamedConfig bool
	cfgBuildErrs Diagnostics
}

// config parses the configuration as read, or, when it is in error (or
// forced), its last good copy: the one prev was built from, else the one
// Memory keeps. ok is false when neither can be had: cfg is then the
// configuration in error (nil when it could not be read), to be built
// only for the findings.
func (ld *loader) config(cr configRead, force bool) (*parsedConfig, bool) {
	var diags Diagnostics
	var cfg *parsedConfig
	if cr.err != nil {
		diags.add(at{file: ld.path}, Error, "read config: %v", cr.err)
	} else {
		cfg = parseConfig(ld.path, cr.text, &diags)
		if diags.Err() == nil && isBlankYAML(cr.text) && ld.lastGoodConfigHasContent() {
			diags.add(at{file: ld.path, line: 1, col: 1}, Error,
				"the configuration is empty, but its last good version was not: an empty or cut-off save? (the last good version is served)")
		}
	}
	if diags.Err() == nil && !force {
		ld.diags = append(ld.diags, diags...)
		ld.cfgText, ld.cfgMtime, ld.cfgFreshGood = cr.text, cr.mtime, true
		return cfg, true
	}
	ld.diags = append(ld.diags, diags.Errors()...)
	text, mtime, ok := ld.lastGoodConfig()
	if !ok {
		ld.diags = append(ld.diags, diags.Warnings()...)
		return cfg, false
	}
	ld.cfgErrs = diags.Errors()
	var gd Diagnostics
	cfg = parseConfig(ld.path, text, &gd)
	if gd.Err() != nil {
		ld.diags.add(at{file: ld.path}, Error, "the last good copy of the configuration does not load either: %s", gd.Errors()[0].Msg)
		return nil, false
	}
	ld.diags = append(ld.diags, gd.Warnings()...)
	ld.cfgText, ld.cfgMtime = text, mtime
	return cfg, true
}

func (ld *loader) lastGoodConfig() ([]byte, int64, bool) {
	if ld.opts.Strict {
		return nil, 0, false
	}
	if ld.prev != nil && ld.prev.cache != nil && ld.prev.cache.configPath == ld.path {
		return []byte(ld.prev.cache.configText), ld.prev.cache.configMtime, true
	}
	if ld.opts.Memory != nil {
		if c, ok := ld.opts.Memory.LastGood(ld.path); ok {
			return c.Text, c.Mtime, true
		}
	}
	return nil, 0, false
}

func (ld *loader) lastGoodConfigHasContent() bool {
	text, _, ok := ld.lastGoodConfig()
	return ok && !isBlankYAML(text)
}

// isBlankYAML reports whether text holds no YAML content: only blank
// lines, comments and document markers.
func isBlankYAML(text []byte) bool {
	for line := range strings.SplitSeq(string(text), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") && line != "---" && line != "..." {
			return false
		}
	}
	return true
}

// run reads the zone files cfg names and builds, serving a file in error
// as it last was good.
func (ld *loader) run(cfg *parsedConfig) Loaded {
	path, prev := ld.path, ld.prev
	text, mtime := ld.cfgText, ld.cfgMtime
	var pc *buildCache
	if prev != nil && prev.cache != nil {
		if c := prev.cache; c.configPath == path && c.configText == string(text) && c.configMtime == mtime {
			// The same configuration: its zones are the ones built
			// before, so that they too can be reused. The same text
			// elsewhere is not: positions and zone_files name the path.
			cfg.zones = c.configZones
			pc = c
		}
	}
	changed := ld.opts.Changed
	if prev != nil {
		changed = prev.linked.throughLinks(changed)
	}
	set := changedSet(changed, ld.prevFiles)
	var m *fileMatch
	sameFiles := pc != nil && set != nil && allExist(changed)
	if sameFiles {
		// The same patterns, and no file came or went (it would have
		// been reported): they match what they matched. Listing a
		// directory of ten thousand files was a fifth of a reload.
		m = prev.match
	} else {
		m = ld.matchZoneFiles(cfg)
	}
	ld.diags = append(ld.diags, m.diags...)
	ld.rd = &fileReader{prev: ld.prevFiles, memory: ld.opts.Memory, now: ld.opts.Now, strict: ld.opts.Strict, cancel: ld.opts.Cancel,
		limits: fileLimits{maxSize: cfg.maxFileSize, maxRecords: cfg.maxRecords}}
	files, cache := ld.rd.readAll(m.files[1:], set, sameFiles)
	if cancelled(ld.opts.Cancel) {
		ld.diags.add(at{file: path}, Error, errCancelled)
		return Loaded{Diags: ld.diags}
	}

	sources := make([]source, 1+len(files))
	sources[0] = source{file: path, zones: cfg.zones, mtime: mtime}
	for i, f := range files {
		sources[1+i] = f.served()
	}
	var s *Snapshot
	var bd Diagnostics
	for {
		bd = nil
		s = build(cfg, sources, prev, pc, ld.opts, &bd)
		if s != nil {
			break
		}
		if ld.opts.Strict || cancelled(ld.opts.Cancel) || !ld.blame(bd, files, sources, cache) {
			break
		}
	}
	if s == nil {
		ld.diags = append(ld.diags, bd...)
		ld.diags.sortByPosition()
		return Loaded{Diags: ld.diags}
	}
	ld.diags = append(ld.diags, bd...)
	var copies []FileCopy
	if ld.cfgFreshGood && (pc == nil || pc.configText != string(text)) {
		copies = append(copies, FileCopy{File: path, Text: text, Mtime: mtime})
	}
	certCopied := map[string]bool{}
	for _, f := range files {
		ld.diags = append(ld.diags, f.report()...)
		if f.text != nil {
			if f.fault == nil {
				copies = append(copies, FileCopy{File: f.src.file, Text: f.text, Mtime: f.src.mtime})
				for _, d := range f.deps {
					if d.fresh && !certCopied[d.path] {
						certCopied[d.path] = true
						copies = append(copies, FileCopy{File: d.path, Text: d.good, Mtime: d.mtime, Cert: true})
					}
				}
			}
			f.text = nil // read by this load alone: the snapshot must not keep it
		}
	}
	ld.diags.sortByPosition()
	s.match = m
	s.linked = followLinks(ld.linkedFiles(files), m.dirs).withDeps(files, m.dirs)
	s.cache.files = cache
	s.cache.configPath = path
	s.cache.configText = string(text)
	s.cache.configMtime = mtime
	s.cache.configZones = cfg.zones
	s.faults = ld.faults(m, files)
	return Loaded{Snapshot: s, Diags: ld.diags, Copies: copies}
}

// blame puts each file that a failed build's errors point into back to its
// last good version (or to nothing, when that was already tried), so that
// the next build serves every other file as it is. Errors that point only
// into files that did not change are the doing of those that did (a zone
// defined again in a new file is reported where it comes second): then
// every changed file goes back. It reports whether anything changed, so
// that a build that cannot succeed ends.
func (ld *loader) blame(bd Diagnostics, files []*parsedFile, sources []source, cache map[string]*parsedFile) bool {
	index := make(map[string]int, len(files))
	for i, f := range files {
		index[f.src.file] = i
	}
	fresh := func(i int) bool { return files[i] != ld.prevFiles[files[i].src.file] }
	byFile := make(map[string]Diagnostics)
	inFresh := false
	for _, d := range bd.Errors() {
		byFile[d.File] = append(byFile[d.File], d)
		if i, ok := index[d.File]; ok && fresh(i) {
			inFresh = true
		}
	}
	if errs, ok := byFile[ld.path]; ok && len(ld.cfgErrs) == 0 {
		ld.blamedConfig = true
		ld.cfgBuildErrs = errs
	}
	if inFresh {
		// A file that did not change built before: the changes are to
		// blame, whatever errors point into it.
		for file := range byFile {
			if i, ok := index[file]; ok && !fresh(i) {
				delete(byFile, file)
			}
		}
	} else {
		// Undo every change instead.
		clear(byFile)
		for i, f := range files {
			if fresh(i) && f.fault == nil {
				byFile[f.src.file] = bd.Errors()
			}
		}
	}
	progress := false
	for file, errs := range byFile {
		i, ok := index[file]
		if !ok {
			continue
		}
		f := files[i]
		var bad parsedFile
		switch {
		case f.fault == nil:
			bad = *f
			// The version prev served, unless that is f itself (a
			// file that did not change), then the one Memory keeps.
			prev := ld.prevFiles[file]
			if prev == f {
				prev = nil
			}
			bad.fault = &fileFault{errs: errs, since: ld.opts.Now(), fallback: ld.rd.lastGood(file, prev)}
		case f.fault.fallback != nil:
			// Its last good version no longer builds beside the
			// others: serve none of its zones.
			bad = *f
			ft := *f.fault
			ft.fallback = nil
			ft.errs = append(slices.Clone(ft.errs), errs...)
			bad.fault = &ft
		default:
			continue
		}
		files[i], cache[file] = &bad, &bad
		sources[1+i] = bad.served()
		progress = true
	}
	return progress
}

// FileFault is a file in error, and what is served in its place.
type FileFault struct {
	File   string
	Errors Diagnostics
	// Since is when the file was first seen in error (in this process).
	Since time.Time
	// Serving tells whether its last good copy is served; when false,
	// none of its zones are.
	Serving bool
}

func (ld *loader) faults(m *fileMatch, files []*parsedFile) []FileFault {
	var out []FileFault
	since := func(file string) time.Time {
		if ld.prev != nil {
			for _, f := range ld.prev.faults {
				if f.File == file {
					return f.Since
				}
			}
		}
		return ld.opts.Now()
	}
	if len(ld.cfgErrs) > 0 {
		out = append(out, FileFault{File: ld.path, Errors: ld.cfgErrs, Since: since(ld.path), Serving: true})
	}
	for _, d := range m.dirFaults {
		d.Since = since(d.File)
		out = append(out, d)
	}
	for _, f := range files {
		if f.fault != nil {
			out = append(out, FileFault{File: f.src.file, Errors: f.fault.errs, Since: f.fault.since, Serving: f.fault.fallback != nil})
		}
	}
	slices.SortFunc(out, func(a, b FileFault) int { return cmp.Compare(a.File, b.File) })
	return out
}

// fileMatch is what a configuration's zone_files patterns matched.
type fileMatch struct {
	files []string // the configuration first, then the zone files in order
	dirs  []string // to watch: the configuration's and each pattern's
	globs []string // the patterns, absolute
	// What matching found, kept with the match: a load that reuses the
	// match reports it again.
	diags     Diagnostics
	dirFaults []FileFault // directories that could not be listed
}

func (ld *loader) matchZoneFiles(cfg *parsedConfig) *fileMatch {
	path := ld.path
	base := filepath.Dir(path)
	m := &fileMatch{files: []string{path}, dirs: []string{base}}
	seen := map[string]bool{path: true}
	add := func(file string) {
		if !seen[file] {
			seen[file] = true
			m.files = append(m.files, file)
		}
	}
	for _, g := range cfg.zoneFiles {
		pattern := g.pattern
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(base, pattern)
		}
		m.dirs = append(m.dirs, globRoot(pattern))
		m.globs = append(m.globs, pattern)
		matches, err := glob(pattern)
		if err != nil && matches == nil && !hasMeta(pattern) {
			// A pattern that names one file: reading it says what is
			// wrong, and serves its last good copy.
			add(pattern)
			continue
		}
		if err != nil {
			kept := ld.knownMatches(pattern)
			msg := fmt.Sprintf("zone_files %q: %v", g.pattern, err)
			m.diags.add(g.pos, Error, "%s; the %d files it matched before are kept", msg, len(kept))
			m.dirFaults = append(m.dirFaults, FileFault{File: globRoot(pattern),
				Errors: Diagnostics{{File: g.pos.file, Line: g.pos.line, Col: g.pos.col, Severity: Error, Msg: msg}}, Serving: true})
			matches = append(matches, kept...)
			slices.Sort(matches)
			matches = slices.Compact(matches)
		}
		if len(matches) == 0 {
			m.diags.add(g.pos, Warning, "zone_files %q matches no file", g.pattern)
		}
		for _, file := range matches {
			add(file)
		}
	}
	slices.Sort(m.dirs)
	m.dirs = slices.Compact(m.dirs)
	return m
}

// knownMatches lists the files pattern matched when last they could be
// listed: in prev, or else in Memory.
func (ld *loader) knownMatches(pattern string) []string {
	var known []string
	if ld.prev != nil {
		known = ld.prev.match.files[1:]
	} else if ld.opts.Memory != nil {
		known = ld.opts.Memory.KnownFiles()
	}
	var out []string
	for _, f := range known {
		if ok, _ := filepath.Match(pattern, f); ok {
			out = append(out, f)
		}
	}
	return out
}

// linkedFiles is the configuration, when it is a symbolic link, and the
// zone files read through one: the files whose targets need watching.
func (ld *loader) linkedFiles(files []*parsedFile) []string {
	var out []string
	if ld.cfgSymlink {
		out = append(out, ld.path)
	}
	for _, f := range files {
		if f.symlink {
			out = append(out, f.src.file)
		}
	}
	return out
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

// readConfig stats the configuration before reading it, as read does a
// zone file: a save racing the read then shows as a new mtime next time.
func readConfig(path string) configRead {
	_, mtime, symlink, err := statKey(path)
	if err != nil {
		return configRead{symlink: symlink, err: err}
	}
	text, err := readBounded(path, DefaultMaxFileSize)
	return configRead{symlink: symlink, text: text, mtime: mtime, err: err}
}

// globRoot is the directory a glob's matches live in: the part before the
// first wildcard. Watching it sees files appear and disappear.
func globRoot(pattern string) string {
	dir := filepath.Dir(pattern)
	for hasMeta(dir) && dir != filepath.Dir(dir) {
		dir = filepath.Dir(dir)
	}
	return dir
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
