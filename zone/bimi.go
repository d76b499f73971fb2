package zone

import (
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// parseBIMIHelper reads bimi: {logo: URL, evidence: URL}, the BIMI
// assertion record (draft-brand-indicators-for-message-identification) at
// default._bimi: the logo, an SVG Tiny PS file, and the mark certificate
// (VMC or CMC) that vouches for it. Receivers show the logo only for mail
// that passes DMARC at quarantine or reject, which check -resolve looks at.
func parseBIMIHelper(r *reader, o *parsedOwner, _ string, k, v *yaml.Node) {
	if !r.isMapping(r.pos(k), v, "bimi", `{logo: "https://example.com/logo.svg", evidence: "https://example.com/vmc.pem"}`) {
		return
	}
	var logo, evidence string
	ok := true
	r.fields(v, "bimi", map[string]func(*yaml.Node){
		"logo":     func(v *yaml.Node) { logo, ok = r.bimiURL(v, "bimi logo", ok) },
		"evidence": func(v *yaml.Node) { evidence, ok = r.bimiURL(v, "bimi evidence", ok) },
	})
	if !ok {
		return // reported where it was written
	}
	if logo == "" {
		r.diags.add(r.pos(k), Error, `bimi: want logo: the https:// URL of the SVG logo, e.g. {logo: "https://example.com/logo.svg"}`)
		return
	}
	text := "v=BIMI1; l=" + logo
	if evidence != "" {
		text += "; a=" + evidence
	}
	o.generate("default._bimi", text, r.pos(k), "bimi")
}

// bimiURL reads an https:// URL that can stand in a tag=value record: no
// ';' or blank ends it early, and a ',' would read as a list.
func (r *reader) bimiURL(n *yaml.Node, what string, ok bool) (string, bool) {
	s, good := r.scalar(n, what)
	if !good {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(s, "; \t,") {
		r.errorf(n, "%s %q: want an https:// URL without ';', ',' or blanks, e.g. \"https://example.com/logo.svg\"", what, s)
		return "", false
	}
	return s, ok
}
