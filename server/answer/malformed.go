package answer

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/miekg/dns"
)

// malformed reports whether a query that unpacked is still one to answer
// with FORMERR. miekg/dns reads past what these rules forbid:
//   - bytes after the last record the header counts (RFC 1035 §4.1
//     leaves no room for them);
//   - an OPT whose owner is not the root (RFC 6891 §6.1.2);
//   - a TSIG anywhere but last in the additional section (RFC 8945
//     §5.1), which IsTsig does not see, so the query would be answered
//     as if unsigned;
//   - a TSIG of a class other than ANY (RFC 8945 §4.2), or whose RDATA
//     is too short for its fixed fields (miekg/dns reads an empty one
//     as a TSIG without an algorithm, and the NOTAUTH reply it then
//     packs would not unpack);
//   - a TSIG MAC shorter than the truncation floor, max(10, half the
//     hash), or longer than the hash (RFC 8945 §5.2.2.1).
func malformed(req *dns.Msg, raw []byte) bool {
	if end := messageEnd(raw); end != len(raw) {
		return true
	}
	for _, rr := range req.Answer {
		if rr.Header().Rrtype == dns.TypeTSIG || rr.Header().Rrtype == dns.TypeOPT {
			return true
		}
	}
	for _, rr := range req.Ns {
		if rr.Header().Rrtype == dns.TypeTSIG || rr.Header().Rrtype == dns.TypeOPT {
			return true
		}
	}
	for i, rr := range req.Extra {
		switch h := rr.Header(); h.Rrtype {
		case dns.TypeOPT:
			if h.Name != "." {
				return true
			}
		case dns.TypeTSIG:
			if i != len(req.Extra)-1 || h.Class != dns.ClassANY || h.Rdlength < tsigMinRdata || !macLengthOK(rr.(*dns.TSIG)) {
				return true
			}
		}
	}
	return false
}

// messageEnd is the offset just past the last record msg's header
// counts, or -1 when they run past its end.
func messageEnd(msg []byte) int {
	if len(msg) < headerLen {
		return -1
	}
	off := headerLen
	for range binary.BigEndian.Uint16(msg[4:]) {
		if off = skipName(msg, off); off < 0 || off+4 > len(msg) {
			return -1
		}
		off += 4
	}
	records := int(binary.BigEndian.Uint16(msg[6:])) + int(binary.BigEndian.Uint16(msg[8:])) + int(binary.BigEndian.Uint16(msg[10:]))
	for range records {
		if off = skipName(msg, off); off < 0 || off+10 > len(msg) {
			return -1
		}
		if off += 10 + int(binary.BigEndian.Uint16(msg[off+8:])); off > len(msg) {
			return -1
		}
	}
	return off
}

// tsigMinRdata is the shortest TSIG RDATA: the root as algorithm name,
// then time signed (6), fudge, MAC size, original id, error and other
// length (2 each).
const tsigMinRdata = 1 + 6 + 2*5

// hashLen is the output size in octets of each TSIG algorithm we verify.
var hashLen = map[string]int{
	dns.HmacSHA1:   20,
	dns.HmacSHA224: 28,
	dns.HmacSHA256: 32,
	dns.HmacSHA384: 48,
	dns.HmacSHA512: 64,
}

// macLengthOK checks a TSIG's MAC size against its algorithm. An
// algorithm we do not know passes: verification answers it with BADKEY.
func macLengthOK(t *dns.TSIG) bool {
	n, ok := hashLen[dns.CanonicalName(t.Algorithm)]
	if !ok {
		return true
	}
	mac, err := hex.DecodeString(t.MAC)
	if err != nil {
		return false
	}
	return len(mac) >= max(10, n/2) && len(mac) <= n
}
