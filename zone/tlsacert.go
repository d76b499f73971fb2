package zone

import (
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

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

// fileDep is a file a zone file's records are made from, and the version
// they were made from.
type fileDep struct {
	path string
	key  fileKey
}

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
		s, ok := r.scalar(v, "tlsa "+key)
		if !ok {
			return "", at{}
		}
		if s == "" {
			r.errorf(v, "tlsa %s: want the path of a PEM file", key)
			return "", at{}
		}
		if !filepath.IsAbs(s) {
			s = filepath.Join(filepath.Dir(AbsPath(r.file)), s)
		}
		return filepath.Clean(s), r.pos(v)
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

// resolveCerts makes the TLSA records of every tlsa: {cert: PATH} of
// zones, reading the files, and returns the files read. A file that
// cannot be read or holds no usable key is an error at the path's
// position; a TLSA written as text beside a cert that matches neither
// file is an error too: it would tell senders to expect a key the server
// does not have.
func resolveCerts(zones []*parsedZone, diags *Diagnostics) []fileDep {
	var deps []fileDep
	seen := map[string]bool{}
	read := func(path string, pos at) ([]byte, bool) {
		key, _, _, err := statKey(path)
		var text []byte
		if err == nil {
			text, err = readBounded(path, maxCertFile)
		}
		if !seen[path] {
			seen[path] = true
			deps = append(deps, fileDep{path: path, key: key})
		}
		if err != nil {
			diags.add(pos, Error, "tlsa: read %s: %v", path, err)
			return nil, false
		}
		return text, true
	}
	for _, z := range zones {
		for _, o := range z.owners {
			if len(o.certs) == 0 {
				continue
			}
			var made []dns.RR
			for _, c := range o.certs {
				for _, f := range []struct {
					path string
					pos  at
				}{{c.cert, c.certPos}, {c.next, c.nextPos}} {
					if f.path == "" {
						continue
					}
					text, ok := read(f.path, f.pos)
					if !ok {
						continue
					}
					data, err := tlsaData(text, c.usage, c.selector, c.match, f.path == c.cert)
					if err != nil {
						diags.add(f.pos, Error, "tlsa: %s: %v", f.path, err)
						continue
					}
					rr := &dns.TLSA{Hdr: header(o.name, dns.TypeTLSA), Usage: c.usage, Selector: c.selector, MatchingType: c.match, Certificate: data}
					rr.Hdr.Ttl = z.ownerTTL(o)
					made = append(made, rr)
				}
			}
			checkWrittenTLSA(o, made, diags)
			for _, rr := range made {
				if !hasRecord(o.records, rr) {
					o.records = append(o.records, parsedRecord{rr: rr, pos: o.certs[0].pos})
				}
			}
		}
	}
	return deps
}

// checkWrittenTLSA reports a TLSA written as text that none of the
// records made from the owner's certificate files matches.
func checkWrittenTLSA(o *parsedOwner, made []dns.RR, diags *Diagnostics) {
	for _, rec := range o.records {
		t, ok := rec.rr.(*dns.TLSA)
		if !ok {
			continue
		}
		if !containsRR(made, t) {
			diags.add(rec.pos, Error, "tlsa %d %d %d %.16s...: matches neither the cert nor the next file of %s: senders using DANE would expect a key this host does not have",
				t.Usage, t.Selector, t.MatchingType, t.Certificate, strings.TrimSuffix(o.name, "."))
		}
	}
}

func hasRecord(recs []parsedRecord, rr dns.RR) bool {
	for _, r := range recs {
		if dns.IsDuplicate(r.rr, rr) {
			return true
		}
	}
	return false
}

func containsRR(rrs []dns.RR, rr dns.RR) bool {
	for _, x := range rrs {
		if dns.IsDuplicate(x, rr) {
			return true
		}
	}
	return false
}

// depsSame reports whether every file of deps is as it was read.
func depsSame(deps []fileDep) bool {
	for _, d := range deps {
		key, _, _, err := statKey(d.path)
		if err != nil || key != d.key {
			return false
		}
	}
	return true
}

// tlsaData is the certificate association data (RFC 6698 §2.1) of a PEM
// file for usage, selector and matching type: from the leaf (usage 1 and
// 3) or the last certificate of the chain, the issuer's end (0 and 2);
// the whole certificate (selector 0) or its public key (1). A file of a
// public or private key alone serves selector 1: the next key of a
// renewal, published before its certificate exists. mustCert says the
// file is cert:, which must hold a certificate.
func tlsaData(text []byte, usage, selector, match uint8, mustCert bool) (string, error) {
	var certs []*x509.Certificate
	var spki []byte
	for rest := text; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return "", fmt.Errorf("certificate: %w", err)
			}
			certs = append(certs, c)
		case "PUBLIC KEY":
			if _, err := x509.ParsePKIXPublicKey(b.Bytes); err != nil {
				return "", fmt.Errorf("public key: %w", err)
			}
			spki = b.Bytes
		case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY":
			pub, err := publicOf(b)
			if err != nil {
				return "", err
			}
			if spki, err = x509.MarshalPKIXPublicKey(pub); err != nil {
				return "", fmt.Errorf("private key: %w", err)
			}
		}
	}
	var data []byte
	switch {
	case len(certs) > 0:
		c := certs[0]
		if usage == 0 || usage == 2 {
			c = certs[len(certs)-1]
		}
		data = c.Raw
		if selector == 1 {
			data = c.RawSubjectPublicKeyInfo
		}
	case mustCert:
		return "", errors.New("holds no certificate (want a PEM file, leaf first)")
	case spki == nil:
		return "", errors.New("holds no certificate, public key or private key in PEM")
	case selector == 0:
		return "", errors.New("holds a key but no certificate, and selector 0 publishes the whole certificate: use selector 1, or give the next certificate")
	default:
		data = spki
	}
	switch match {
	case 1:
		sum := sha256.Sum256(data)
		data = sum[:]
	case 2:
		sum := sha512.Sum512(data)
		data = sum[:]
	}
	return hex.EncodeToString(data), nil
}

func publicOf(b *pem.Block) (crypto.PublicKey, error) {
	var key any
	var err error
	switch b.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("private key: not a signing key")
	}
	return signer.Public(), nil
}
