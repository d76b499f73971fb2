package zone

import (
	"os"
	"path/filepath"
	"slices"
)

// maxLinkHops is as many symbolic links as one path is followed through,
// the kernel's own limit.
const maxLinkHops = 40

// linkWatch is where the symbolic links among a snapshot's files lead. A
// link's target may live in a directory nobody would watch otherwise (a
// configuration kept in /etc, linked into the working directory): a
// save there must reload like a save of the file itself.
type linkWatch struct {
	// links maps each path a link passes through, past the link itself,
	// to the files served through it.
	links map[string][]string
	// dirs is the directories of the paths in links that the snapshot
	// does not watch already.
	dirs []string
}

// followLinks follows each of files, symbolic links, hop by hop; a
// dangling link's missing target is watched too, so that creating it
// reloads. watched is the directories watched already.
func followLinks(files, watched []string) linkWatch {
	var w linkWatch
	for _, file := range files {
		w.follow(file, file, watched)
	}
	return w
}

// withDeps adds the files zone files' records are made from (certificate
// files, tlsacert.go): each, and where a link among them leads (certbot's
// live/ links into archive/), is served as the zone file that reads it.
func (w linkWatch) withDeps(files []*parsedFile, watched []string) linkWatch {
	for _, f := range files {
		for _, d := range f.deps {
			w.add(d.path, f.src.file, watched)
			w.follow(d.path, f.src.file, watched)
		}
	}
	return w
}

// follow adds every path a link at p leads through, hop by hop, as file.
func (w *linkWatch) follow(p, file string, watched []string) {
	for range maxLinkHops {
		t, err := os.Readlink(p)
		if err != nil {
			return
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(p), t)
		}
		p = filepath.Clean(t)
		w.add(p, file, watched)
	}
}

func (w *linkWatch) add(p, file string, watched []string) {
	if w.links == nil {
		w.links = map[string][]string{}
	}
	if !slices.Contains(w.links[p], file) {
		w.links[p] = append(w.links[p], file)
	}
	if d := filepath.Dir(p); !slices.Contains(watched, d) && !slices.Contains(w.dirs, d) {
		w.dirs = append(w.dirs, d)
	}
}

// throughLinks names, for each changed path, the files it is served as:
// a link's target becomes the link, anything else stays as it is.
func (w linkWatch) throughLinks(changed []string) []string {
	if changed == nil || w.links == nil {
		return changed
	}
	out := make([]string, 0, len(changed))
	for _, c := range changed {
		if files, ok := w.links[c]; ok {
			out = append(out, files...)
		} else {
			out = append(out, c)
		}
	}
	return out
}
