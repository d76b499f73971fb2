package zonefile

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// unescapeTXT turns one character-string as miekg/dns keeps it (the
// presentation form, escapes as written) into its octets, as RFC 1035
// §5.1 reads them: \DDD is the octet DDD, \X is X.
func unescapeTXT(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		switch {
		case i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]):
			n := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if n > 255 {
				return "", fmt.Errorf(`escape \%s: want \000 to \255`, s[i+1:i+4])
			}
			b.WriteByte(byte(n))
			i += 3
		case i+1 < len(s):
			b.WriteByte(s[i+1])
			i++
		default:
			return "", errors.New("a backslash ends the text")
		}
	}
	return b.String(), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// txtValue is a TXT record as the one value mxdns YAML holds: its
// character-strings' octets joined, which mxdns splits again every 255
// octets. That changes nothing a reader sees when the strings were split
// that way already, or when the record is one whose readers join the
// strings anyway (SPF, DKIM, DMARC, MTA-STS, TLS-RPT); any other split
// matters and is kept from being lost unless join asks for it.
func txtValue(owner string, strs []string, join bool) (string, error) {
	raw := make([]string, len(strs))
	for i, s := range strs {
		var err error
		if raw[i], err = unescapeTXT(s); err != nil {
			return "", err
		}
	}
	joined := strings.Join(raw, "")
	if !utf8.ValidString(joined) {
		return "", fmt.Errorf("text that is not UTF-8 %w", errNoYAML)
	}
	if join || splitEvery255(raw) || readJoined(owner, joined) {
		return joined, nil
	}
	return "", fmt.Errorf("character-strings split other than every 255 octets %w (import -join-txt joins them)", errNoYAML)
}

// splitEvery255 reports whether strs are how mxdns splits their join.
func splitEvery255(strs []string) bool {
	for i, s := range strs {
		last := i == len(strs)-1
		if !last && len(s) != 255 || len(s) > 255 || len(s) == 0 && len(strs) > 1 {
			return false
		}
	}
	return true
}

// joinedPrefixes start the records whose readers join the strings before
// reading: SPF (RFC 7208 §3.3), DKIM (RFC 6376 §3.6.2.2), DMARC (RFC 7489
// §6.6.3, by reference to RFC 7208), MTA-STS (RFC 8461 §3.1) and TLS-RPT
// (RFC 8460 §3).
var joinedPrefixes = []string{"v=spf1", "v=DKIM1", "v=DMARC1", "v=STSv1", "v=TLSRPTv1"}

func readJoined(owner, text string) bool {
	for _, p := range joinedPrefixes {
		if len(text) >= len(p) && strings.EqualFold(text[:len(p)], p) {
			return true
		}
	}
	// A DKIM key record need not start with v=DKIM1 (RFC 6376 §3.6.1).
	for _, l := range dns.SplitDomainName(owner) {
		if strings.EqualFold(l, "_domainkey") {
			return true
		}
	}
	return false
}
