// Package rrwire gives DNS records in wire form, names uncompressed, to
// compare and store them exactly: owner, type, class, TTL and data, where
// two texts may spell the same data differently. Names keep their case,
// as the wire carries it.
package rrwire

import "github.com/miekg/dns"

// Packer packs one record at a time into a buffer it keeps. A record is
// packed as a one-record message, not with dns.PackRR, which writes the
// record's Rdlength: records are shared with queries being answered and
// transfers being sent. A Packer is not safe for concurrent use.
type Packer struct {
	msg dns.Msg
	one [1]dns.RR
	buf []byte
}

// Wire is rr in wire form, valid until the next call.
func (p *Packer) Wire(rr dns.RR) ([]byte, error) {
	p.one[0] = rr
	p.msg.Answer = p.one[:]
	b, err := p.msg.PackBuffer(p.buf)
	if err != nil {
		return nil, err
	}
	p.buf = b[:cap(b)]
	return b[12:], nil // past the message header
}

// Key is rr's wire form as a string, to use as a map key; its text when
// it does not pack, which records that parsed always do.
func (p *Packer) Key(rr dns.RR) string {
	w, err := p.Wire(rr)
	if err != nil {
		return rr.String()
	}
	return string(w)
}

// Diff gives the records before holds and after lacks, and the reverse,
// each in the order of its list.
func (p *Packer) Diff(before, after []dns.RR) (del, add []dns.RR) {
	had := make(map[string]bool, len(before))
	for _, rr := range before {
		had[p.Key(rr)] = true
	}
	has := make(map[string]bool, len(after))
	for _, rr := range after {
		k := p.Key(rr)
		has[k] = true
		if !had[k] {
			add = append(add, rr)
		}
	}
	for _, rr := range before {
		if !has[p.Key(rr)] {
			del = append(del, rr)
		}
	}
	return del, add
}

// Diff is Packer.Diff with a packer of its own.
func Diff(before, after []dns.RR) (del, add []dns.RR) {
	var p Packer
	return p.Diff(before, after)
}
