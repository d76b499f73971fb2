package zone

import (
	"maps"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// fileKey tells one version of a file from another without reading it: a
// save by rename changes the inode, an edit in place the size, the
// modification or the change time.
type fileKey struct {
	size, mtime, ctime int64
	ino                uint64
}

// parsedFile is a zone file as parsed, kept in the snapshot so that the
// next load reads only the files that changed. It is never written after
// parsing: builds share it.
type parsedFile struct {
	key   fileKey
	src   source
	diags Diagnostics // what parsing found
	// symlink: the path was a symbolic link when parsed. Its target may
	// live in a directory nobody watches, so it is stat'ed at every load.
	symlink bool
}

// statKey stats file once, following it only when it is a symbolic link.
func statKey(file string) (key fileKey, mtime int64, symlink bool, err error) {
	fi, err := os.Lstat(file)
	if err == nil && fi.Mode()&os.ModeSymlink != 0 {
		symlink = true
		fi, err = os.Stat(file)
	}
	if err != nil {
		return fileKey{}, 0, symlink, err
	}
	key = fileKey{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	key.ino, key.ctime = inodeCtime(fi)
	return key, fi.ModTime().Unix(), symlink, nil
}

// readZoneFiles reads and parses files on every core, reusing what prev
// parsed of a file whose key has not changed; the sources and their
// findings come back in the order of files, whatever order the workers
// finish in. changed, when not nil, holds every file a watcher saw an
// event for: of the others, the parse in prev is taken without a stat.
// sameFiles says files are the ones prev was read from.
func readZoneFiles(files []string, prev map[string]*parsedFile, changed map[string]bool, sameFiles bool, diags *Diagnostics) ([]source, map[string]*parsedFile) {
	out := make([]*parsedFile, len(files))
	// Workers take the next file from a counter: on a reload nearly every
	// file is only stat'ed, and a channel hand-off per file cost more
	// than the stat.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(files); i = int(next.Add(1) - 1) {
				p := prev[files[i]]
				if p != nil && !p.symlink && changed != nil && !changed[files[i]] {
					out[i] = p
					continue
				}
				out[i] = readZoneFile(files[i], p)
			}
		})
	}
	wg.Wait()
	sources := make([]source, len(files))
	var cache map[string]*parsedFile
	if sameFiles {
		cache = maps.Clone(prev) // then patched below
	} else {
		cache = make(map[string]*parsedFile, len(files))
	}
	// A file that could not be read is cached too: that is an error, and
	// no snapshot, so no later load, keeps this cache.
	for i, f := range out {
		sources[i] = f.src
		*diags = append(*diags, f.diags...)
		if !sameFiles || f != prev[files[i]] {
			cache[files[i]] = f
		}
	}
	return sources, cache
}

// readZoneFile stats the file before reading it: a write racing the read
// then shows as a new key at the next load, never as stale data kept.
func readZoneFile(file string, prev *parsedFile) *parsedFile {
	f := &parsedFile{src: source{file: file}}
	key, mtime, symlink, err := statKey(file)
	if err == nil && prev != nil && prev.key == key {
		return prev
	}
	var text []byte
	if err == nil {
		text, err = os.ReadFile(file)
	}
	if err != nil {
		f.diags.add(at{file: file}, Error, "read zone file: %v", err)
		return f
	}
	f.key, f.src.mtime, f.symlink = key, mtime, symlink
	f.src.zones = parseZoneFile(file, text, &f.diags)
	return f
}
