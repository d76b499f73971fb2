package zone

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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
// the load that made it: builds share it.
type parsedFile struct {
	key   fileKey
	src   source
	diags Diagnostics // what parsing found
	// symlink: the path was a symbolic link when parsed. Its target may
	// live in a directory nobody watches, so it is stat'ed at every load.
	symlink bool
	// fault, when set, says this version is in error and what is served
	// in its place.
	fault *fileFault
	// text is the file as read, only until the load that read it ends.
	text []byte
	// limits are those it was read under: a version read under others
	// is read again, so that a lowered limit applies to files not saved
	// since, as a raised one does.
	limits fileLimits
	// deps are the certificate files its TLSA records were made from
	// (tlsacert.go): a change to one reads the file again.
	deps []fileDep
}

// fileLimits are the configuration's bounds on one file.
type fileLimits struct {
	maxSize    int64 // max_file_size
	maxRecords int   // max_records_per_file
}

// fileFault is what is wrong with a version of a file.
type fileFault struct {
	errs     Diagnostics
	fallback *parsedFile // the last good version, served instead; nil: none
	since    time.Time   // when the file was first seen in error
}

// served is the source a build takes for the file.
func (f *parsedFile) served() source {
	if f.fault == nil {
		return f.src
	}
	if f.fault.fallback != nil {
		return f.fault.fallback.src
	}
	return source{file: f.src.file}
}

// report is what a load says of the file: its findings, or, in error, its
// errors and the warnings of the version served instead.
func (f *parsedFile) report() Diagnostics {
	if f.fault == nil {
		return f.diags
	}
	out := f.fault.errs
	if fb := f.fault.fallback; fb != nil {
		out = append(out[:len(out):len(out)], fb.diags.Warnings()...)
	}
	return out
}

// lastGood is the version of the file to serve should this one be in
// error; nil for none, or for no file.
func (f *parsedFile) lastGood() *parsedFile {
	if f == nil || f.fault == nil {
		return f
	}
	return f.fault.fallback
}

// rememberedFile parses the last good copy mem keeps of file; nil when
// there is none, or it does not parse.
func rememberedFile(file string, mem Memory, limits fileLimits) *parsedFile {
	if mem == nil {
		return nil
	}
	c, ok := mem.LastGood(file)
	if !ok {
		return nil
	}
	if c.Cert {
		return nil
	}
	f := &parsedFile{src: source{file: file, mtime: c.Mtime}, limits: limits}
	f.src.zones = parseZoneFileLimited(file, c.Text, limits.maxRecords, &f.diags)
	if f.diags.Err() != nil {
		return nil
	}
	certs := resolveCerts(f.src.zones, memoryCerts(mem, nil), &f.diags)
	f.deps = certs.deps
	if f.diags.Err() != nil || !certs.allCopied() {
		return nil
	}
	// Served in place of a file in error, which reports that file's
	// errors: a certificate made up for by its copy is said here.
	certs.report(&f.diags, Warning, false)
	return f
}

// memoryCerts is the last good version of a certificate file: the one
// prev was made from, else the copy mem keeps.
func memoryCerts(mem Memory, prev *parsedFile) certFallback {
	return func(path string) ([]byte, int64, bool) {
		for _, p := range []*parsedFile{prev, prev.lastGood()} {
			if p == nil {
				continue
			}
			for _, d := range p.deps {
				if d.path == path && d.good != nil {
					return d.good, d.mtime, true
				}
			}
		}
		if mem == nil {
			return nil, 0, false
		}
		c, ok := mem.LastGood(path)
		if !ok || !c.Cert {
			return nil, 0, false
		}
		return c.Text, c.Mtime, true
	}
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

// fileReader reads a load's zone files.
type fileReader struct {
	prev   map[string]*parsedFile // what the snapshot served parsed
	memory Memory
	now    func() time.Time
	limits fileLimits
	strict bool // no last good versions
	cancel <-chan struct{}
}

// readAll reads and parses files on every core, reusing what prev parsed
// of a file whose key has not changed; the files come back in the order
// given, whatever order the workers finish in. changed, when not nil,
// holds every file a watcher saw an event for: of the others, the parse in
// prev is taken without a stat. sameFiles says files are the ones prev was
// read from.
func (rd *fileReader) readAll(files []string, changed map[string]bool, sameFiles bool) ([]*parsedFile, map[string]*parsedFile) {
	out := make([]*parsedFile, len(files))
	// Workers take the next file from a counter: on a reload nearly every
	// file is only stat'ed, and a channel hand-off per file cost more
	// than the stat.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(files); i = int(next.Add(1) - 1) {
				if i%64 == 0 && cancelled(rd.cancel) {
					return
				}
				p := rd.prev[files[i]]
				if p != nil && !p.symlink && len(p.deps) == 0 && changed != nil && !changed[files[i]] && p.limits == rd.limits {
					out[i] = p
					continue
				}
				out[i] = rd.read(files[i], p)
			}
		})
	}
	wg.Wait()
	var cache map[string]*parsedFile
	if sameFiles {
		cache = maps.Clone(rd.prev) // then patched below
	} else {
		cache = make(map[string]*parsedFile, len(files))
	}
	for i, f := range out {
		if !sameFiles || f != rd.prev[files[i]] {
			cache[files[i]] = f
		}
	}
	return out, cache
}

// read stats the file before reading it: a write racing the read then
// shows as a new key at the next load, never as stale data kept. A file
// that is gone reads as empty, so its zones go; any other failure, and a
// file that parses with errors or to no zones where its last good version
// had some, is a fault.
func (rd *fileReader) read(file string, prev *parsedFile) *parsedFile {
	f := &parsedFile{src: source{file: file}, limits: rd.limits}
	key, mtime, symlink, err := statKey(file)
	if err == nil && prev != nil && prev.key == key && prev.limits == rd.limits && depsSame(prev.deps) {
		return prev
	}
	var text []byte
	if err == nil {
		text, err = readBounded(file, rd.limits.maxSize)
		for try := 0; errors.Is(err, errChanging) && try < 3; try++ {
			key, mtime, symlink, err = statKey(file)
			if err == nil {
				text, err = readBounded(file, rd.limits.maxSize)
			}
		}
		if errors.Is(err, errChanging) && prev != nil {
			// Being written in place: serve what was, until the
			// write's own events bring the next load.
			return prev
		}
	}
	f.symlink = symlink // a dangling link too: its target is watched for
	if err != nil {
		if gone(err) && !symlink {
			return f
		}
		var d Diagnostics
		d.add(at{file: file}, Error, "read zone file: %v", err)
		return rd.faulty(f, d, prev, rd.lastGood(file, prev))
	}
	f.key, f.src.mtime = key, mtime
	f.src.zones = parseZoneFileLimited(file, text, rd.limits.maxRecords, &f.diags)
	if f.diags.Err() != nil {
		return rd.faulty(f, f.diags.Errors(), prev, rd.lastGood(file, prev))
	}
	if bad := rd.resolveCerts(f, prev); bad != nil {
		return bad
	}
	if len(f.src.zones) == 0 {
		if good := rd.lastGood(file, prev); good != nil && len(good.src.zones) > 0 {
			var d Diagnostics
			d.add(at{file: file, line: 1, col: 1}, Error,
				"the file defines no zones, but its last good version defined %s: an empty or cut-off save? "+
					"(to remove zones, delete their keys or the file; the last good version is served)", zoneList(good.src.zones))
			return rd.faulty(f, d, prev, good)
		}
	}
	f.text = text
	return f
}

// resolveCerts makes f's TLSA records from certificate files, and returns
// f in error when that went wrong, nil when it did not. The zone file is
// good when only certificate files are wrong: it is served as it is, a
// file's TLSA made from its last good copy, so that a renewal half done
// or a permission lost costs no edit of the zone file, and no restart the
// zone. A file with no copy known costs its TLSA records, unless the zone
// file's last good version can be served instead; but a zone file with
// no last good version is served without them: mail still flows without
// DANE, and does not without its MX.
func (rd *fileReader) resolveCerts(f, prev *parsedFile) *parsedFile {
	var fallback certFallback
	if !rd.strict {
		fallback = memoryCerts(rd.memory, prev)
	}
	certs := resolveCerts(f.src.zones, fallback, &f.diags)
	f.deps = certs.deps
	if !certs.onlyFiles() {
		if f.diags.Err() != nil {
			return rd.faulty(f, f.diags.Errors(), prev, rd.lastGood(f.src.file, prev))
		}
		return nil
	}
	good := rd.lastGood(f.src.file, prev)
	leftOut := !rd.strict && !certs.allCopied() && good == nil
	var errs Diagnostics
	certs.report(&errs, Error, leftOut)
	f.diags = append(f.diags, errs...)
	if rd.strict || !certs.allCopied() && good != nil {
		return rd.faulty(f, f.diags.Errors(), prev, good)
	}
	served := *f
	served.diags = f.diags.Warnings()
	return rd.faulty(f, f.diags.Errors(), prev, &served)
}

// faulty is f in error: its key is kept (a file that does not change is
// not read again), good, its last good version, served in its place.
func (rd *fileReader) faulty(f *parsedFile, errs Diagnostics, prev, good *parsedFile) *parsedFile {
	since := rd.now()
	if prev != nil && prev.fault != nil {
		since = prev.fault.since
	}
	f.fault = &fileFault{errs: errs, since: since, fallback: good}
	return f
}

// lastGood is the version of file to serve should the one read be in
// error: what prev serves, else the copy Memory keeps.
func (rd *fileReader) lastGood(file string, prev *parsedFile) *parsedFile {
	if rd.strict {
		return nil
	}
	if prev != nil {
		return prev.lastGood()
	}
	return rememberedFile(file, rd.memory, rd.limits)
}

// zoneList names a few zones for a message.
func zoneList(zones []*parsedZone) string {
	var names []string
	for i, z := range zones {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(zones)-3))
			break
		}
		names = append(names, strings.TrimSuffix(z.origin, "."))
	}
	return strings.Join(names, ", ")
}
