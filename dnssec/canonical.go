package dnssec

import (
	"strings"

	"github.com/miekg/dns"
)

// CanonicalKey is a byte string whose bytewise order is the canonical
// order of names (RFC 4034 §6.1): labels compared from the right, each
// as its lower-cased octets, a name sorting before the names below it.
// Each label's octets are written, escaped so that no octet of a label
// reads as the end of it, then a zero octet: 0x00 becomes 0x01 0x01 and
// 0x01 becomes 0x01 0x02, which keeps every label's order.
func CanonicalKey(name string) string {
	if strings.IndexByte(name, '\\') < 0 {
		return plainKey(name)
	}
	name = dns.CanonicalName(name)
	if name == "." {
		return ""
	}
	labels := dns.SplitDomainName(name)
	var b strings.Builder
	b.Grow(len(name) + 2)
	for i := len(labels) - 1; i >= 0; i-- {
		writeLabel(&b, labels[i])
		b.WriteByte(0)
	}
	return b.String()
}

// plainKey is CanonicalKey of a name without escapes, in one pass from
// its end: the common case, and the one chains of half a million names
// are sorted by.
func plainKey(name string) string {
	name = strings.TrimSuffix(name, ".")
	b := make([]byte, 0, len(name)+1)
	end := len(name)
	for end > 0 {
		start := strings.LastIndexByte(name[:end], '.') + 1
		for i := start; i < end; i++ {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
		b = append(b, 0)
		end = start - 1
	}
	return string(b)
}

// writeLabel writes a label's octets, presentation escapes (\. and \DDD)
// undone, escaped for CanonicalKey.
func writeLabel(b *strings.Builder, label string) {
	for i := 0; i < len(label); i++ {
		c := label[i]
		if c == '\\' && i+1 < len(label) {
			if i+3 < len(label) && isDigit(label[i+1]) && isDigit(label[i+2]) && isDigit(label[i+3]) {
				c = (label[i+1]-'0')*100 + (label[i+2]-'0')*10 + label[i+3] - '0'
				i += 3
			} else {
				i++
				c = label[i]
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
		}
		switch c {
		case 0:
			b.WriteString("\x01\x01")
		case 1:
			b.WriteString("\x01\x02")
		default:
			b.WriteByte(c)
		}
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// CanonicalCompare compares names in the canonical order.
func CanonicalCompare(a, b string) int {
	return strings.Compare(CanonicalKey(a), CanonicalKey(b))
}
