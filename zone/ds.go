package zone

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// A signed parent vouches for a signed child with the child's DS records,
// written at the delegation, beside its NS (RFC 4035 §2.4): without them
// validators treat the child as insecure, and DANE under it fails. The
// child's operator, or `mxdns dnssec ds CHILD` when mxdns signs it,
// gives the lines.

// dsDigestLen is the digest length of each digest type a DS may use
// (RFC 4034 §5.1.4, RFC 4509, RFC 6605); SHA-1 (1) is accepted but
// warned about (RFC 8624 §3.3: MUST NOT be used to make new DS).
var dsDigestLen = map[uint8]int{dns.SHA1: 20, dns.SHA256: 32, dns.SHA384: 48}

func parseDS(owner, _, s string) (dns.RR, error) {
	const want = `want "key-tag algorithm digest-type digest", e.g. "12345 13 2 0123...abcd" (mxdns dnssec ds prints them)`
	f := strings.Fields(s)
	if len(f) < 4 {
		return nil, fmt.Errorf("%s", want)
	}
	tag, err := strconv.ParseUint(f[0], 10, 16)
	if err != nil {
		return nil, fmt.Errorf("key tag %q: want a number from 0 to 65535; %s", f[0], want)
	}
	alg, ok := dsAlgorithm(f[1])
	if !ok {
		return nil, fmt.Errorf("algorithm %q: want a DNSSEC algorithm number (13 is ECDSAP256SHA256, 15 ED25519, 8 RSASHA256) or its name; %s", f[1], want)
	}
	dt, err := strconv.ParseUint(f[2], 10, 8)
	wantLen, known := dsDigestLen[uint8(dt)]
	if err != nil || !known {
		return nil, fmt.Errorf("digest type %q: want 2 (SHA-256), 4 (SHA-384) or 1 (SHA-1); %s", f[2], want)
	}
	digest := strings.ToLower(strings.Join(f[3:], ""))
	raw, err := hex.DecodeString(digest)
	if err != nil {
		return nil, fmt.Errorf("digest is not hexadecimal; %s", want)
	}
	if len(raw) != wantLen {
		return nil, fmt.Errorf("digest type %d wants %d octets of digest, got %d", dt, wantLen, len(raw))
	}
	return &dns.DS{Hdr: header(owner, dns.TypeDS), KeyTag: uint16(tag), Algorithm: alg, DigestType: uint8(dt), Digest: digest}, nil
}

func dsAlgorithm(s string) (uint8, bool) {
	if n, err := strconv.ParseUint(s, 10, 8); err == nil {
		return uint8(n), n != 0
	}
	n, ok := dns.StringToAlgorithm[strings.ToUpper(s)]
	return n, ok
}

// checkDS places the DS records a zone's owners hold: a DS belongs to
// the parent side of a delegation (RFC 4035 §2.4), so at the apex or at
// a name that delegates nothing it is an error (served, it would prove
// nothing, or make validators find the zone bogus). In a zone not
// signed a DS is served but unsigned, which vouches for nothing.
func (z *zoneData) checkDS(pz *parsedZone, diags *Diagnostics) {
	for _, o := range pz.owners {
		for _, rec := range o.records {
			ds, ok := rec.rr.(*dns.DS)
			if !ok {
				continue
			}
			n := z.nodes.at(o.name)
			switch {
			case o.name == z.origin:
				diags.add(rec.pos, Error, "ds: the DS of zone %s belongs in its parent zone, not at its own apex (RFC 4035 §2.4); give it to the parent's operator or registrar", trimDot(z.origin))
			case n == nil || !n.cut:
				diags.add(rec.pos, Error, "ds: %s delegates nothing: a DS goes beside the ns of a delegation (RFC 4035 §2.4)", trimDot(o.name))
			case z.cutAbove(o.name, false) != nil:
				// Below another delegation: checkOcclusion says so.
			case ds.DigestType == dns.SHA1:
				diags.add(rec.pos, Warning, "ds: digest type 1 (SHA-1) is deprecated for DS (RFC 8624 §3.3): ask the child's operator for the SHA-256 one (digest type 2)")
			case z.dnssec == nil:
				diags.add(rec.pos, Warning, "ds: zone %s is not signed, so validators cannot trust the DS at %s: sign it (dnssec: on) for the child to be secure", trimDot(z.origin), trimDot(o.name))
			}
		}
	}
}
