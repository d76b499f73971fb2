package dnssec

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// The signer makes a signature with one buffer from a pool and the
// crypto's own allocations: dns.RRSIG.Sign copies every record, packs
// each into a buffer of its own and the whole into a 4 KiB one, about
// 12 KiB a signature, which the collector then has to find. Signing ten
// thousand zones is a million signatures. dns.RRSIG.Sign stays the
// reference: a set this path cannot take (a name in its RDATA that is
// not lower case, an algorithm other than ECDSA P-256 and Ed25519) goes
// there, and the tests hold the two to the same signed data.

var sigDataPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

var errNotFast = errors.New("set not canonical as stored")

// signFast fills sig.Signature over set, owned by source in canonical
// form, with the key; sig's header fields and RDATA but the signature
// are set by the caller. It returns errNotFast when the set or the key
// needs dns.RRSIG.Sign.
func signFast(sig *dns.RRSIG, k *Key, set []dns.RR, source string) error {
	bp := sigDataPool.Get().(*[]byte)
	defer sigDataPool.Put(bp)
	data, err := appendSignedData((*bp)[:0], sig, set, source)
	if err != nil {
		return err
	}
	*bp = data[:0]
	var raw []byte
	switch priv := k.signer.(type) {
	case *ecdsa.PrivateKey:
		if sig.Algorithm != dns.ECDSAP256SHA256 {
			return errNotFast
		}
		digest := sha256.Sum256(data)
		der, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
		if err != nil {
			return err
		}
		var rs [64]byte
		if !rawECDSA(der, rs[:]) {
			return errors.New("ecdsa signature not in the expected form")
		}
		raw = rs[:]
	case ed25519.PrivateKey:
		if sig.Algorithm != dns.ED25519 {
			return errNotFast
		}
		raw = ed25519.Sign(priv, data)
	default:
		return errNotFast
	}
	sig.Signature = base64.StdEncoding.EncodeToString(raw)
	return nil
}

// appendSignedData appends what an RRSIG signs (RFC 4034 §3.1.8.1): its
// RDATA up to the signature, then each record of set in canonical form
// (§6.2: owner as source, lower case; the original TTL; no compression),
// in canonical order (§6.3: by RDATA, duplicates removed).
func appendSignedData(buf []byte, sig *dns.RRSIG, set []dns.RR, source string) ([]byte, error) {
	for _, rr := range set {
		if !rdataCanonical(rr) {
			return buf, errNotFast
		}
	}
	buf = binary.BigEndian.AppendUint16(buf, sig.TypeCovered)
	buf = append(buf, sig.Algorithm, sig.Labels)
	buf = binary.BigEndian.AppendUint32(buf, sig.OrigTtl)
	buf = binary.BigEndian.AppendUint32(buf, sig.Expiration)
	buf = binary.BigEndian.AppendUint32(buf, sig.Inception)
	buf = binary.BigEndian.AppendUint16(buf, sig.KeyTag)
	var err error
	if buf, err = appendName(buf, canonical(sig.SignerName)); err != nil {
		return buf, err
	}
	// Each record is packed alone, as a message of one answer: dns.PackRR
	// would write the Rdlength of records that every query reads at once.
	// The RDATA is what follows the owner and ten octets of type, class,
	// TTL and length; it is kept at the end of buf, then ordered and
	// written after the common prefix of each record.
	scratch := sigDataPool.Get().(*[]byte)
	defer sigDataPool.Put(scratch)
	start := len(buf)
	var spans [8][2]int
	rdatas := spans[:0]
	var m dns.Msg
	for i := range set {
		m.Answer = set[i : i+1]
		packed, err := m.PackBuffer((*scratch)[:cap(*scratch)])
		if err != nil {
			return buf, err
		}
		*scratch = packed[:0] // a larger buffer PackBuffer made is kept
		owner, err := nameLen(packed, 12)
		if err != nil {
			return buf, err
		}
		at := len(buf)
		buf = append(buf, packed[12+owner+10:]...)
		rdatas = append(rdatas, [2]int{at, len(buf)})
	}
	slices.SortFunc(rdatas, func(a, b [2]int) int {
		return bytes.Compare(buf[a[0]:a[1]], buf[b[0]:b[1]])
	})
	// The canonical records go after the RDATA kept, then move down.
	out := len(buf)
	h := set[0].Header()
	for i, span := range rdatas {
		if i > 0 && bytes.Equal(buf[span[0]:span[1]], buf[rdatas[i-1][0]:rdatas[i-1][1]]) {
			continue // a duplicate is signed once (§6.3)
		}
		if buf, err = appendName(buf, canonical(source)); err != nil {
			return buf, err
		}
		buf = binary.BigEndian.AppendUint16(buf, h.Rrtype)
		buf = binary.BigEndian.AppendUint16(buf, h.Class)
		buf = binary.BigEndian.AppendUint32(buf, sig.OrigTtl)
		buf = binary.BigEndian.AppendUint16(buf, uint16(span[1]-span[0]))
		buf = append(buf, buf[span[0]:span[1]]...) // buf may move: spans are offsets
	}
	n := copy(buf[start:], buf[out:])
	return buf[:start+n], nil
}

// appendName appends name, absolute, in uncompressed wire form.
func appendName(buf []byte, name string) ([]byte, error) {
	var room [256]byte
	n, err := dns.PackDomainName(name, room[:], 0, nil, false)
	if err != nil {
		return buf, err
	}
	return append(buf, room[:n]...), nil
}

// nameLen is the length of the uncompressed name at off in msg.
func nameLen(msg []byte, off int) (int, error) {
	for i := off; i < len(msg); {
		l := int(msg[i])
		switch {
		case l == 0:
			return i + 1 - off, nil
		case l&0xC0 != 0:
			return 0, errors.New("compressed name in a record packed without compression")
		}
		i += 1 + l
	}
	return 0, errors.New("name runs past its record")
}

// rdataCanonical reports whether the names of rr's RDATA that RFC 4034
// §6.2 (3) lowers, with RFC 6840 §5.1's corrections, are lower case
// already, as every name of a snapshot is. Other types' names are signed
// as they are.
func rdataCanonical(rr dns.RR) bool {
	switch x := rr.(type) {
	case *dns.NS:
		return lowerName(x.Ns)
	case *dns.CNAME:
		return lowerName(x.Target)
	case *dns.SOA:
		return lowerName(x.Ns) && lowerName(x.Mbox)
	case *dns.PTR:
		return lowerName(x.Ptr)
	case *dns.MX:
		return lowerName(x.Mx)
	case *dns.SRV:
		return lowerName(x.Target)
	case *dns.DNAME:
		return lowerName(x.Target)
	case *dns.NAPTR:
		return lowerName(x.Replacement)
	case *dns.RP:
		return lowerName(x.Mbox) && lowerName(x.Txt)
	case *dns.AFSDB:
		return lowerName(x.Hostname)
	case *dns.RT:
		return lowerName(x.Host)
	case *dns.KX:
		return lowerName(x.Exchanger)
	case *dns.MINFO:
		return lowerName(x.Rmail) && lowerName(x.Email)
	case *dns.MB, *dns.MD, *dns.MF, *dns.MG, *dns.MR, *dns.PX, *dns.SIG:
		return false // never in a snapshot: the reference path takes them
	}
	return true
}

func lowerName(name string) bool {
	return strings.IndexFunc(name, func(r rune) bool { return 'A' <= r && r <= 'Z' }) < 0
}

// rawECDSA writes the r and s of an ASN.1 ECDSA signature (SEQUENCE of
// two INTEGERs) into out, each right-aligned in half of it (RFC 6605 §4).
func rawECDSA(der, out []byte) bool {
	if len(der) < 2 || der[0] != 0x30 || int(der[1]) != len(der)-2 || der[1] >= 0x80 {
		return false
	}
	rest := der[2:]
	half := len(out) / 2
	for i := 0; i < 2; i++ {
		if len(rest) < 2 || rest[0] != 0x02 || int(rest[1]) > len(rest)-2 {
			return false
		}
		n := rest[2 : 2+int(rest[1])]
		rest = rest[2+int(rest[1]):]
		for len(n) > 0 && n[0] == 0 {
			n = n[1:]
		}
		if len(n) > half {
			return false
		}
		copy(out[i*half+half-len(n):(i+1)*half], n)
	}
	return len(rest) == 0
}
