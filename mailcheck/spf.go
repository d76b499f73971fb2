package mailcheck

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/spf"
)

// spf judges the domain's SPF record as a receiver evaluates it (RFC
// 7208): through every include and redirect, counting the DNS-querying
// terms and the void lookups, up to the all that ends each record. Every
// finding is about the domain's own record, and says through which chain
// of includes it comes; a record's own size is said at that record.
func (c *checker) spf(s *domainState) {
	texts, a := c.res.txt(s.name)
	if p := a.failed(); p != "" {
		c.at(s, "spf", Warning, s.name, dns.TypeTXT, "", "TXT at %s: %s; receivers get temperror and may defer mail", bare(s.name), p)
		return
	}
	recs := spfTexts(texts)
	ours := c.ours(s.name)
	switch {
	case len(recs) == 0 && !s.nullMX:
		c.at(s, "spf", Warning, s.name, dns.TypeTXT, "", "%s publishes no SPF record: receivers cannot tell its mail from forgeries; publish one, e.g. spf: \"mx -all\" (RFC 7208 §4)", bare(s.name))
		return
	case len(recs) == 0:
		return // a null MX without SPF is zone's finding, or the plan's
	case len(recs) > 1:
		if !ours {
			c.at(s, "spf", Error, s.name, dns.TypeTXT, recs[1], "%s has %d SPF records; receivers fail every check with permerror (RFC 7208 §4.5): merge them into one", bare(s.name), len(recs))
		}
		return
	}
	terms, err := spf.Parse(recs[0])
	if err != nil {
		if !ours {
			c.at(s, "spf", Error, s.name, dns.TypeTXT, recs[0], "%v; receivers fail with permerror", err)
		}
		return
	}
	w := &spfWalk{c: c, s: s, text: recs[0], path: []string{s.name}}
	w.size(s.name, a, recs[0])
	w.record(s.name, terms, nil, true)
	w.report()
}

func spfTexts(texts []string) []string {
	var out []string
	for _, t := range texts {
		if spf.IsRecord(t) {
			out = append(out, t)
		}
	}
	return out
}

// spfWalk is one evaluation of a domain's SPF record, matching nothing,
// so that every term a receiver may reach is reached.
type spfWalk struct {
	c    *checker
	s    *domainState
	text string // the domain's own record

	lookups  int
	eleventh string     // the chain to the term past the limit
	tops     []topCount // what each include and redirect of the record brings
	voids    []string   // the chains to the void lookups
	path     []string   // the names whose records are being evaluated
	capped   bool       // past spfCountCap, includes were no longer followed
}

type topCount struct {
	term string
	n    int
}

// find reports a finding about the domain's own record.
func (w *spfWalk) find(sev Severity, format string, args ...any) {
	w.c.at(w.s, "spf", sev, w.s.name, dns.TypeTXT, w.text, format, args...)
}

// chain is the terms that lead from the domain's record to t.
func chain(via []string, t spf.Term) string {
	return strings.Join(append(via[:len(via):len(via)], t.Text), " → ")
}

// record evaluates the record of name, reached through via, up to its
// all; final says its all is the domain's result (the domain's own
// record, or a redirect from one), not an include's.
func (w *spfWalk) record(name string, terms []spf.Term, via []string, final bool) {
	hasAll := false
	for _, t := range terms {
		hasAll = hasAll || t.Name == "all"
	}
	var redirect *spf.Term
	for i, t := range terms {
		if t.Qualifier == 0 {
			if t.Name == "redirect" && !hasAll { // ignored beside all (RFC 7208 §6.1)
				redirect = &terms[i]
			}
			continue
		}
		if t.Name == "all" {
			w.all(name, t, via, final)
			var after []string
			for _, u := range terms[i+1:] {
				if u.Qualifier != 0 {
					after = append(after, u.Text)
				}
			}
			if len(after) > 0 && len(via) == 0 {
				w.find(Warning, "%s after all is never evaluated (RFC 7208 §5.1); move it before all or drop it", strings.Join(after, " "))
			}
			break
		}
		w.term(name, t, via, false)
	}
	if redirect != nil {
		w.term(name, *redirect, via, final)
	}
}

// term evaluates one DNS-querying term (or one that needs none).
func (w *spfWalk) term(name string, t spf.Term, via []string, final bool) {
	if !t.Queries() {
		return
	}
	w.lookups++
	if w.lookups == spf.LookupLimit+1 {
		w.eleventh = chain(via, t)
	}
	before := w.lookups
	defer func() {
		if len(via) == 0 && (t.Name == "include" || t.Name == "redirect") {
			w.tops = append(w.tops, topCount{t.Text, w.lookups - before + 1})
		}
	}()
	target := name
	if t.Domain != "" {
		if t.Macro() {
			return // depends on the mail: one query, not followed
		}
		d, err := domainName(t.Domain)
		if err != nil {
			if !w.c.ours(name) {
				w.find(Error, "%s: %q is not a domain name; receivers fail with permerror", chain(via, t), t.Domain)
			}
			return
		}
		target = d
	}
	switch t.Name {
	case "include", "redirect":
		w.follow(name, t, target, via, final)
	case "a":
		v4, v6, p := w.c.res.addrs(target)
		switch {
		case p != "":
			w.temp(via, t, "A/AAAA at "+bare(target), p)
		case len(v4)+len(v6) == 0:
			w.voids = append(w.voids, chain(via, t))
		}
	case "mx":
		a := w.c.res.lookup(target, dns.TypeMX)
		switch {
		case a.failed() != "":
			w.temp(via, t, "MX at "+bare(target), a.failed())
		case a.void():
			w.voids = append(w.voids, chain(via, t))
		case len(a.RRs) > spf.MXLimit:
			w.find(Error, "%s: %s has %d MX records; receivers look at %d and fail the mechanism with permerror (RFC 7208 §4.6.4)", chain(via, t), bare(target), len(a.RRs), spf.MXLimit)
		}
	case "exists":
		a := w.c.res.lookup(target, dns.TypeA)
		switch {
		case a.failed() != "":
			w.temp(via, t, "A at "+bare(target), a.failed())
		case a.void():
			w.voids = append(w.voids, chain(via, t))
		}
	case "ptr":
		if w.c.ours(name) {
			return // zone's checks warn at the record
		}
		where := ""
		if len(via) > 0 {
			where = " (" + chain(via, t) + ")"
		}
		w.find(Warning, "ptr%s is slow and unreliable, and must not be used (RFC 7208 §5.5); list the addresses with ip4:/ip6: or a/mx", where)
	}
}

// spfCountCap bounds the evaluation: includes that name one record many
// times over could make it exponential, and past the cap the count says
// enough.
const spfCountCap = 100

// follow evaluates the record an include or redirect names.
func (w *spfWalk) follow(name string, t spf.Term, target string, via []string, final bool) {
	if w.lookups > spfCountCap {
		w.capped = true
		return
	}
	for i, p := range w.path {
		if p != target {
			continue
		}
		loop := append(w.path[i:len(w.path):len(w.path)], target)
		allOurs := true
		for _, n := range loop {
			allOurs = allOurs && w.c.ours(n)
		}
		if !allOurs {
			w.find(Error, "%s leads back to %s (%s); receivers fail with permerror", chain(via, t), bare(target), strings.Join(bareAll(loop), " → "))
		}
		return
	}
	texts, a := w.c.res.txt(target)
	if p := a.failed(); p != "" {
		w.temp(via, t, "TXT at "+bare(target), p)
		return
	}
	recs := spfTexts(texts)
	section := "§5.2"
	if t.Name == "redirect" {
		section = "§6.1"
	}
	switch {
	case len(recs) == 0:
		if a.void() {
			w.voids = append(w.voids, chain(via, t))
		}
		if !w.c.ours(name) || !w.c.ours(target) {
			w.find(Error, "%s: %s has no SPF record; receivers fail with permerror (RFC 7208 %s)", chain(via, t), bare(target), section)
		}
		return
	case len(recs) > 1:
		if !w.c.ours(target) {
			w.find(Error, "%s: %s has %d SPF records; receivers fail with permerror (RFC 7208 §4.5)", chain(via, t), bare(target), len(recs))
		}
		return
	}
	terms, err := spf.Parse(recs[0])
	if err != nil {
		if !w.c.ours(target) {
			w.find(Error, "%s: the record of %s is not valid, %v; receivers fail with permerror", chain(via, t), bare(target), err)
		}
		return
	}
	w.size(target, a, recs[0])
	w.path = append(w.path, target)
	w.record(target, terms, append(via[:len(via):len(via)], t.Text), final)
	w.path = w.path[:len(w.path)-1]
}

// all judges the all that ends a record.
func (w *spfWalk) all(name string, t spf.Term, via []string, final bool) {
	switch {
	case t.Qualifier == '+' && len(via) == 0:
		w.find(Error, "%s lets every host on the internet send as %s; end the record with -all or ~all (RFC 7208 §5.1)", allText(t), bare(w.s.name))
	case t.Qualifier == '+':
		w.find(Error, "%s: %s ends in %s, so every host on the internet passes as %s", strings.Join(via, " → "), bare(name), allText(t), bare(w.s.name))
	case t.Qualifier == '?' && final && len(via) == 0:
		w.find(Warning, "?all (neutral) tells receivers nothing about mail from other hosts; end the record with -all or ~all (RFC 7208 §8.2)")
	case t.Qualifier == '?' && final:
		w.find(Warning, "%s: %s ends in ?all (neutral), which tells receivers nothing about mail from other hosts (RFC 7208 §8.2)", strings.Join(via, " → "), bare(name))
	}
}

func allText(t spf.Term) string {
	if t.Text == "all" {
		return string(t.Qualifier) + "all"
	}
	return t.Text
}

// temp reports a question with no usable answer, which receivers turn
// into temperror.
func (w *spfWalk) temp(via []string, t spf.Term, what, problem string) {
	w.find(Warning, "%s: %s: %s; receivers get temperror and may defer mail", chain(via, t), what, problem)
}

// size warns of a record whose TXT answer does not fit in 512 octets: a
// resolver without EDNS must ask again over TCP, and one that cannot
// fails (RFC 7208 §3.4).
func (w *spfWalk) size(name string, a *answer, text string) {
	if a.Msg == nil {
		return
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.CanonicalName(name), dns.TypeTXT)
	m.Answer = a.Msg.Answer
	m.Compress = true
	wire, err := m.Pack()
	if err != nil || len(wire) <= 512 {
		return
	}
	w.c.at(w.s, "spf", Warning, name, dns.TypeTXT, text, "the TXT records at %s make a %d-octet answer, over the 512 octets SPF records should fit in: resolvers without EDNS must retry over TCP, and receivers whose resolvers cannot get temperror (RFC 7208 §3.4)", bare(name), len(wire))
}

// report gives the findings of the whole evaluation: too many queries,
// too many void lookups.
func (w *spfWalk) report() {
	if len(w.voids) > spf.VoidLimit {
		w.find(Error, "%d void lookups (names with no records) where receivers allow %d, then fail with permerror (RFC 7208 §4.6.4): %s", len(w.voids), spf.VoidLimit, strings.Join(w.voids, ", "))
	}
	if w.lookups <= spf.LookupLimit {
		return
	}
	if w.c.ours(w.s.name) && w.static(w.s.name, map[string]bool{}) > spf.LookupLimit {
		return // zone's checks, counting through our names alone, say so
	}
	var parts []string
	for _, tc := range w.tops {
		parts = append(parts, fmt.Sprintf("%s %d", tc.term, tc.n))
	}
	by := ""
	if len(parts) > 0 {
		by = "; by include: " + strings.Join(parts, ", ")
	}
	count := fmt.Sprint(w.lookups)
	if w.capped {
		count = fmt.Sprintf("over %d", spfCountCap)
	}
	w.find(Error, "%s DNS-querying terms (include, a, mx, ptr, exists, redirect) counted through every include; receivers stop at the 11th, %s, with permerror (RFC 7208 §4.6.4)%s", count, w.eleventh, by)
}

// static counts as zone's check does: every DNS-querying term, through
// the includes and redirects of names of ours only.
func (w *spfWalk) static(name string, visiting map[string]bool) int {
	texts, _ := w.c.res.txt(name)
	recs := spfTexts(texts)
	if len(recs) != 1 {
		return 0
	}
	terms, err := spf.Parse(recs[0])
	if err != nil {
		return 0
	}
	hasAll := false
	for _, t := range terms {
		hasAll = hasAll || t.Name == "all"
	}
	visiting[name] = true
	defer delete(visiting, name)
	n := 0
	for _, t := range terms {
		if !t.Queries() || t.Name == "redirect" && hasAll {
			continue
		}
		n++
		if (t.Name == "include" || t.Name == "redirect") && !t.Macro() {
			if d, err := domainName(t.Domain); err == nil && w.c.ours(d) && !visiting[d] {
				n += w.static(d, visiting)
			}
		}
	}
	return n
}

// domainName reads a domain written in a record.
func domainName(s string) (string, error) {
	name := dns.CanonicalName(s)
	if _, ok := dns.IsDomainName(name); !ok || name == "." || strings.ContainsAny(s, " \t") {
		return "", fmt.Errorf("not a domain name")
	}
	return name, nil
}

func bareAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = bare(n)
	}
	return out
}
