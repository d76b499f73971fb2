package zone

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"
)

// tlsaCert is a tlsa: {cert: PATH} entry: TLSA records the loader makes
// from a certificate file, and from the next key or certificate, so that a
// renewal is published before it is used (RFC 7671 §8.1).
type tlsaCert struct {
	cert, next       string // absolute; next may be ""
	certPos, nextPos at
	usage, selector  uint8
	match            uint8
	pos              at
}

// fileDep is a file a zone file's records are made from, the version
// they were made from, and what of it a last good copy keeps.
type fileDep struct {
	path string
	key  fileKey // zero when it could not be stat'ed
	// good is what the records were made from (certFile.pem): the file
	// as read now (fresh), or its last good copy served in its place; nil
	// when neither could be had.
	good  []byte
	mtime int64 // of the version good is
	fresh bool
}

// certFallback finds the last good version of a certificate file, as
// fileDep.good keeps it; nil in a strict load, which serves none.
type certFallback func(path string) (good []byte, mtime int64, ok bool)

// maxCertFile bounds a certificate file: a chain is a few KiB.
const maxCertFile = 1 << 20

// readTLSA reads a tlsa key: a record ("3 1 1 HEX"), a mapping naming a
// certificate, or a list of either.
func readTLSA(r *reader, o *parsedOwner, origin string, _, v *yaml.Node) {
	items := []*yaml.Node{v}
	if n := deref(v); n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for _, item := range items {
		n := deref(item)
		switch {
		case n.Kind == yaml.MappingNode:
			if c, ok := r.tlsaCert(item); ok && r.countRecord(item) {
				o.certs = append(o.certs, c)
			}
		case n.Kind == yaml.ScalarNode && n.Tag != "!!null":
			rr, err := parseTLSA(o.name, origin, n.Value)
			if err != nil {
				r.errorf(n, "tlsa %q: %v", n.Value, err)
				continue
			}
			if r.countRecord(n) {
				o.records = append(o.records, parsedRecord{rr: rr, pos: r.pos(n)})
			}
		default:
			r.errorf(n, "tlsa: want a record such as \"3 1 1 0123...abcd\", a mapping such as {cert: /etc/ssl/mx1.pem}, or a list of them, got %s", kindName(n))
		}
	}
}

func (r *reader) tlsaCert(n *yaml.Node) (tlsaCert, bool) {
	c := tlsaCert{usage: 3, selector: 1, match: 1, pos: r.pos(n)}
	certWritten := false
	path := func(v *yaml.Node, key string) (string, at) {
		s, ok := r.pathValue(v, "tlsa "+key, "a PEM file")
		if !ok {
			return "", at{}
		}
		return s, r.pos(v)
	}
	r.fields(n, "tlsa", map[string]func(*yaml.Node){
		"cert": func(v *yaml.Node) { certWritten = true; c.cert, c.certPos = path(v, "cert") },
		"next": func(v *yaml.Node) { c.next, c.nextPos = path(v, "next") },
		"usage_selector_match": func(v *yaml.Node) {
			s, ok := r.scalar(v, "tlsa usage_selector_match")
			if !ok {
				return
			}
			f := strings.Fields(s)
			limits := [3]uint64{3, 1, 2}
			var x [3]uint8
			for i := range x {
				if len(f) != 3 {
					break
				}
				u, err := strconv.ParseUint(f[i], 10, 8)
				if err != nil || u > limits[i] {
					f = nil
					break
				}
				x[i] = uint8(u)
			}
			if len(f) != 3 {
				r.errorf(v, "tlsa usage_selector_match %q: want three numbers: usage 0-3, selector 0-1, matching type 0-2, such as \"3 1 1\"", s)
				return
			}
			c.usage, c.selector, c.match = x[0], x[1], x[2]
		},
	})
	if r.probe != nil {
		return c, false
	}
	if r.inConfig {
		// A zone_files file is read again, and served from its last
		// good version, on its own: a certificate that cannot be read
		// then costs that file's TLSA change, not the configuration.
		r.errorf(n, "tlsa {cert: ...}: write this zone in a zone_files file: certificates are read for zones there, not in the configuration file itself")
		return c, false
	}
	if c.cert == "" {
		if !certWritten {
			r.errorf(n, "tlsa: want cert: the path of the certificate's PEM file, e.g. {cert: /etc/ssl/mx1.pem}")
		}
		return c, false
	}
	return c, true
}

// certFailure is a certificate file, named at pos, that could not be
// used: unreadable, or holding nothing usable. copied: its last good copy
// was used instead, of copyTime.
type certFailure struct {
	pos      at
	path     string
	read     bool // the error is of reading it, not of what it holds
	err      error
	copied   bool
	copyTime int64
}

// certsResolved is what resolveCerts found: the files read, those that
// could not be used, and whether anything else was wrong (a TLSA written
// as text that matches neither file).
type certsResolved struct {
	deps     []fileDep
	failures []certFailure
	other    bool
}

// onlyFiles reports whether the certificate files themselves are all that
// is wrong: the zone file is good, and is served with what could be had.
func (c certsResolved) onlyFiles() bool { return !c.other && len(c.failures) > 0 }

// allCopied reports whether every file that could not be used was made up
// for by its last good copy.
func (c certsResolved) allCopied() bool {
	for _, f := range c.failures {
		if !f.copied {
			return false
		}
	}
	return true
}

// report adds an error for each file that could not be used, saying what
// is served instead: its last good copy, or, when left out says so,
// nothing of it.
func (c certsResolved) report(diags *Diagnostics, sev Severity, leftOut bool) {
	for _, f := range c.failures {
		msg := fmt.Sprintf("tlsa: %s: %v", f.path, f.err)
		if f.read {
			msg = fmt.Sprintf("tlsa: read %s: %v", f.path, f.err)
		}
		switch {
		case f.copied:
			msg += fmt.Sprintf("; its TLSA records are made from its last good copy (modified %s) until it is good again",
				time.Unix(f.copyTime, 0).UTC().Format("2006-01-02 15:04 UTC"))
		case leftOut:
			msg += "; no good copy of it is known, so the zone is served without the TLSA records it would make"
		}
		diags.add(f.pos, sev, "%s", msg)
	}
}

// resolveCerts makes the TLSA records of every tlsa: {cert: PATH} of
// zones, reading the files. A file that cannot be read or holds nothing
// usable is made up for by its last good copy, when lastGood knows one,
// and is a failure either way; a TLSA written as text beside a cert that
// matches neither file is an error: it would tell senders to expect a key
// the server does not have. Failures are left to the caller to report,
// who knows what is served in their place.
func resolveCerts(zones []*parsedZone, lastGood certFallback, diags *Diagnostics) certsResolved {
	var res certsResolved
	type file struct {
		cf   certFile
		ok   bool
		fail certFailure // when not ok, or made from its copy
	}
	files := map[[2]string]*file{} // by path and "cert" or "next": a cert: must hold a certificate
	use := func(path string, pos at, mustCert bool) (certFile, bool) {
		kind := [2]string{path, "next"}
		if mustCert {
			kind[1] = "cert"
		}
		f := files[kind]
		if f == nil {
			f = &file{}
			files[kind] = f
			f.cf, f.ok, f.fail = res.readCert(path, mustCert, lastGood)
		}
		if f.fail.err != nil {
			fail := f.fail
			fail.pos = pos
			res.failures = append(res.failures, fail)
		}
		return f.cf, f.ok
	}
	for _, z := range zones {
		for _, o := range z.owners {
			if len(o.certs) == 0 {
				continue
			}
			var made []dns.RR
			var have []certFile
			complete := true
			for _, c := range o.certs {
				for _, f := range []struct {
					path string
					pos  at
				}{{c.cert, c.certPos}, {c.next, c.nextPos}} {
					if f.path == "" {
						continue
					}
					cf, ok := use(f.path, f.pos, f.path == c.cert)
					if !ok {
						complete = false
						continue
					}
					have = append(have, cf)
					data, err := cf.data(c.usage, c.selector, c.match)
					if err != nil {
						diags.add(f.pos, Error, "tlsa: %s: %v", f.path, err)
						res.other = true
						continue
					}
					rr := &dns.TLSA{Hdr: header(o.name, dns.TypeTLSA), Usage: c.usage, Selector: c.selector, MatchingType: c.match, Certificate: data}
					rr.Hdr.Ttl = z.ownerTTL(o)
					made = append(made, rr)
				}
			}
			if complete && !checkWrittenTLSA(o, have, diags) {
				res.other = true
			}
			for _, rr := range made {
				if !hasRecord(o.records, rr) {
					o.records = append(o.records, parsedRecord{rr: rr, pos: o.certs[0].pos})
				}
			}
		}
	}
	return res
}

// readCert reads one certificate file, or, failing that, takes its last
// good copy: ok says either worked, fail.err says why the file did not.
func (c *certsResolved) readCert(path string, mustCert bool, lastGood certFallback) (cf certFile, ok bool, fail certFailure) {
	dep := fileDep{path: path}
	fail.path = path
	key, mtime, _, err := statKey(path)
	var text []byte
	if err == nil {
		dep.key = key
		text, err = readBounded(path, maxCertFile)
	}
	fail.read = err != nil
	if err == nil {
		cf, err = parseCertFile(text, mustCert)
	}
	fail.err = err
	if err == nil {
		dep.good, dep.mtime, dep.fresh = cf.pem(), mtime, true
	} else if lastGood != nil {
		if good, mtime, found := lastGood(path); found {
			if copied, err := parseCertFile(good, mustCert); err == nil {
				cf, dep.good, dep.mtime = copied, good, mtime
				fail.copied, fail.copyTime = true, mtime
			}
		}
	}
	c.deps = append(c.deps, dep)
	return cf, dep.good != nil, fail
}

// checkWrittenTLSA reports a TLSA written as text that none of the
// owner's certificate files gives under the TLSA's own usage, selector and
// matching type; it returns false when there is one.
func checkWrittenTLSA(o *parsedOwner, files []certFile, diags *Diagnostics) bool {
	ok := true
	for _, rec := range o.records {
		t, isTLSA := rec.rr.(*dns.TLSA)
		if !isTLSA {
			continue
		}
		if !slices.ContainsFunc(files, func(f certFile) bool {
			data, err := f.data(t.Usage, t.Selector, t.MatchingType)
			return err == nil && strings.EqualFold(data, t.Certificate)
		}) {
			ok = false
			diags.add(rec.pos, Error, "tlsa %d %d %d %.16s...: matches neither the cert nor the next file of %s under its usage, selector and matching type: senders using DANE would expect a key this host does not have",
				t.Usage, t.Selector, t.MatchingType, t.Certificate, strings.TrimSuffix(o.name, "."))
		}
	}
	return ok
}

func hasRecord(recs []parsedRecord, rr dns.RR) bool {
	for _, r := range recs {
		if dns.IsDuplicate(r.rr, rr) {
			return true
		}
	}
	return false
}

// depsSame reports whether every file of deps is as it was read.
// One that could not be stat'ed then and cannot now is as it was: a
// missing certificate does not make its zone file be read at every load.
func depsSame(deps []fileDep) bool {
	for _, d := range deps {
		key, _, _, err := statKey(d.path)
		if err != nil {
			key = fileKey{}
		}
		if key != d.key {
			return false
		}
	}
	return true
}
