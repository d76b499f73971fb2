package mailcheck

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// stsPolicyLimit is the most of a policy senders read (RFC 8461 §3.3
// suggests 64 KiB).
const stsPolicyLimit = 64 * 1024

// stsMaxAge is the largest max_age (RFC 8461 §3.2), stsShortAge the one
// under which senders keep asking for the policy while it is meant to
// last weeks.
const (
	stsMaxAge   = 31557600
	stsShortAge = 86400
)

// stsPolicy is an MTA-STS policy file (RFC 8461 §3.2).
type stsPolicy struct {
	version, mode string
	maxAge        int64
	mx            []string // lower case, no final dot
}

// mtaSTS judges the domain's MTA-STS record and, when it has one, the
// policy it announces: fetched over HTTPS, read, held to the MX set, and
// to the id it was last seen with.
func (c *checker) mtaSTS(s *domainState) {
	name := "_mta-sts." + s.name
	text, ok := c.theRecord(s, "mta-sts", name, "v=STSv1", "MTA-STS", "senders apply no policy", " (RFC 8461 §3.1)")
	if !ok || text == "" {
		return
	}
	find := func(sev Severity, format string, args ...any) {
		c.at(s, "mta-sts", sev, name, dns.TypeTXT, text, format, args...)
	}
	id, problem := stsID(text)
	if problem != "" {
		find(Error, "%s; senders apply no policy (RFC 8461 §3.1)", problem)
		return
	}
	url := "https://mta-sts." + bare(s.name) + "/.well-known/mta-sts.txt"
	f, problem := c.fetch(url, stsPolicyLimit)
	switch {
	case c.opts.HTTP == nil:
		find(Note, "the policy at %s is not fetched", url)
		return
	case problem != "":
		find(Error, "the policy at %s cannot be fetched: %s; senders find no policy (RFC 8461 §3.3)", url, problem)
		return
	case f.status >= 300 && f.status < 400:
		find(Error, "%s answers %d, a redirect to %s, which senders do not follow (RFC 8461 §3.3); serve the policy there", url, f.status, f.location)
		return
	case f.status != 200:
		find(Error, "%s answers %d: senders find no policy (RFC 8461 §3.3)", url, f.status)
		return
	}
	if end, soon := expiresSoon(f.tls, c.opts.Now()); soon {
		find(Warning, "the certificate of mta-sts.%s expires on %s, in %s: senders then find no policy", bare(s.name), end.UTC().Format("2006-01-02"), daysLeft(end, c.opts.Now()))
	}
	if mt, _, err := mime.ParseMediaType(f.contentType); err != nil || mt != "text/plain" {
		find(Warning, "%s is served as %q; senders should take only text/plain (RFC 8461 §3.2)", url, f.contentType)
	}
	if f.tooLong {
		find(Warning, "%s is over %d KiB; senders may refuse it (RFC 8461 §3.3)", url, stsPolicyLimit/1024)
	}
	pol, problems := parseSTSPolicy(string(f.body))
	for _, p := range problems {
		find(Error, "the policy at %s: %s; senders refuse it (RFC 8461 §3.2)", url, p)
	}
	if len(problems) > 0 {
		return
	}
	s.stsMode = pol.mode
	if pol.maxAge < stsShortAge {
		find(Warning, "max_age %d is under a day: senders fetch the policy again and again, and an attacker who blocks the fetch soon finds none cached; RFC 8461 §3.2 expects weeks", pol.maxAge)
	}
	if pol.mode != "none" {
		c.stsMatches(s, pol, find)
	}
	c.stsID(s, id, f.body, find)
}

// stsID reads the id of an MTA-STS record, or says what is wrong.
func stsID(text string) (string, string) {
	id := ""
	for i, part := range strings.Split(text, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		switch {
		case !ok:
			return "", fmt.Sprintf("%q: want field=value", part)
		case i == 0 && part != "v=STSv1":
			return "", "want v=STSv1 first"
		case k == "id":
			id = v
		}
	}
	if id == "" || len(id) > 32 || strings.IndexFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) >= 0 {
		return "", fmt.Sprintf("id %q: want 1 to 32 letters and digits", id)
	}
	return id, ""
}

// parseSTSPolicy reads a policy file, lines of "key: value" ended by LF
// or CRLF; keys it does not know are extensions, and are ignored.
func parseSTSPolicy(body string) (stsPolicy, []string) {
	var p stsPolicy
	var problems []string
	seen := map[string]bool{}
	hasAge := false
	for i, line := range strings.Split(body, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			problems = append(problems, fmt.Sprintf("line %d, %q: want key: value", i+1, line))
			continue
		}
		v = strings.Trim(v, " \t")
		if seen[k] && k != "mx" && (k == "version" || k == "mode" || k == "max_age") {
			problems = append(problems, fmt.Sprintf("line %d: %s is written twice", i+1, k))
			continue
		}
		seen[k] = true
		switch k {
		case "version":
			p.version = v
		case "mode":
			p.mode = v
		case "max_age":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || n > stsMaxAge || strings.HasPrefix(v, "+") {
				problems = append(problems, fmt.Sprintf("max_age %q: want seconds, 0 to %d", v, stsMaxAge))
				continue
			}
			p.maxAge, hasAge = n, true
		case "mx":
			p.mx = append(p.mx, strings.ToLower(strings.TrimSuffix(v, ".")))
		}
	}
	if p.version != "STSv1" {
		problems = append(problems, fmt.Sprintf("version %q: want version: STSv1", p.version))
	}
	switch p.mode {
	case "enforce", "testing", "none":
	default:
		problems = append(problems, fmt.Sprintf("mode %q: want enforce, testing or none", p.mode))
	}
	if !hasAge && !seen["max_age"] {
		problems = append(problems, "no max_age line")
	}
	if len(p.mx) == 0 && p.mode != "none" {
		problems = append(problems, "no mx line: no MX host is allowed")
	}
	return p, problems
}

// stsMatch reports whether an MX host matches a policy's mx pattern: the
// name itself, or "*." and one more label on the left (RFC 8461 §4.1).
func stsMatch(pattern, host string) bool {
	host = strings.ToLower(bare(host))
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		label, parent, found := strings.Cut(host, ".")
		return found && label != "" && parent == rest
	}
	return pattern == host
}

// stsMatches holds the policy's patterns to the MX set, both ways.
func (c *checker) stsMatches(s *domainState, pol stsPolicy, find func(Severity, string, ...any)) {
	for _, host := range s.mx {
		matched := false
		for _, pat := range pol.mx {
			matched = matched || stsMatch(pat, host)
		}
		switch {
		case matched:
		case pol.mode == "enforce":
			find(Error, "MX host %s matches no mx: line of the policy: senders refuse to deliver to it (mode enforce, RFC 8461 §4.1)", bare(host))
		default:
			find(Warning, "MX host %s matches no mx: line of the policy: in mode enforce, senders would refuse to deliver to it (RFC 8461 §4.1)", bare(host))
		}
	}
	for _, pat := range pol.mx {
		matched := false
		for _, host := range s.mx {
			matched = matched || stsMatch(pat, host)
		}
		if !matched {
			find(Warning, "mx: %s in the policy matches no MX host of %s; drop it if it is left over", pat, bare(s.name))
		}
	}
}

// stsID holds the policy to the id it was last seen with: a changed
// policy needs a new id, or senders keep the one they cached (RFC 8461
// §3.1).
func (c *checker) stsID(s *domainState, id string, body []byte, find func(Severity, string, ...any)) {
	if c.opts.Policies == nil {
		find(Note, "no state directory to remember the policy in, so a policy changed without a new id cannot be told")
		return
	}
	sum := sha256.Sum256(body)
	digest := hex.EncodeToString(sum[:])
	domain := bare(s.name)
	prevID, prevDigest, ok, err := c.opts.Policies.Seen(domain)
	if err != nil {
		find(Note, "the policies seen before cannot be read: %v", err)
		return
	}
	if ok && prevID == id {
		if prevDigest != digest {
			find(Error, "the policy changed since it was last checked, but its id %s did not: senders that cached the old policy keep it until max_age; give _mta-sts.%s a new id (RFC 8461 §3.1)", id, domain)
		}
		return // the policy seen with this id stays the one to compare with
	}
	if err := c.opts.Policies.Remember(domain, id, digest); err != nil {
		find(Note, "the policy cannot be remembered: %v", err)
	}
}
