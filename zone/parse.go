package zone

import (
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"
)

// The parsed form: what a file says, checked for shape, with positions.
// Names are already made absolute and lower case; relations between names
// (CNAME conflicts, MX targets, links) are checked when zones are built.

type parsedConfig struct {
	listen     []string
	admin      string
	adminNode  *yaml.Node // where admin was written, for the admin_allow check
	adminAllow []netip.Prefix
	linkTTL    uint32
	zoneFiles  []globRef
	links      []parsedLink
	zones      []*parsedZone
	rrl        RRL
	tcpMax     int
	tcpSource  int // tcp_max_conns_per_source
	tsigKeys   map[string]TSIGKey
	transfer   *parsedTransfer
	dnssec     *parsedDNSSEC // nil: not written, so zones are not signed unless they say
	queryLog   bool
	// transferView is transfer_view: what a transfer carries of the
	// records that depend on link state.
	transferView TransferView
	// stateDir is absolute, or "" when state_dir is not written.
	stateDir    string
	maxFileSize int64 // max_file_size, in bytes
	maxRecords  int   // max_records_per_file, counted after alias expansion
	ixfr        IXFRJournal

	catalog *parsedCatalog // nil: no catalog is published (catalogparse.go)
	updates *updatesConf   // nil: no updates: UPDATE is NOTIMP (updatesconf.go)
}

type globRef struct {
	pattern string
	pos     at
}

type parsedLink struct {
	Link
	pos at
	// Where the outbound identity was written, for the checks of it.
	outbound []outboundAddr
	heloPos  at
}

type parsedZone struct {
	origin    string
	pos       at
	ttl       uint32
	soa       parsedSOA
	ns        []nameRef
	owners    []*parsedOwner
	noAutoPTR bool // auto_ptr: false
	// transfer is nil when the zone follows the top-level transfer settings.
	transfer *parsedTransfer
	// dnssec is nil when the zone follows the top-level dnssec setting.
	dnssec *parsedDNSSEC

	member catalogMember // its catalog: and group: (catalogparse.go)
}

type parsedSOA struct {
	mname, rname    *nameRef
	serial          uint32
	autoSerial      bool
	refresh, retry  uint32
	expire, minimum uint32
	serialPos       at
}

type nameRef struct {
	name string
	pos  at
}

type parsedOwner struct {
	name      string
	pos       at
	ttl       *uint32
	linkMode  linkMode
	mxPublish mxPublish
	records   []parsedRecord
	certs     []tlsaCert // tlsa: {cert: PATH}, made into records by the loader (tlsacert.go)
	mail      mailOwner  // what mail helpers wrote (mail.go)
	helper    string     // for a name made by a helper: its key
	// spfLinks says its spf helper wrote the links term, expanded at
	// build from the links' outbound addresses (outbound.go).
	spfLinks bool
}

// parsedRecord is one record value; link is "" unless the value was written
// under a link name in an address mapping.
type parsedRecord struct {
	rr      dns.RR
	pos     at
	link    string
	linkPos at
}

type linkMode uint8

const (
	linkBalance linkMode = iota
	linkFailover
)

type mxPublish uint8

const (
	publishHealthy mxPublish = iota
	publishAll
	publishPrimary
)

const (
	defaultListen  = "127.0.0.1:5353"
	defaultTTL     = 3600
	defaultLinkTTL = 30
	maxTTL         = 1<<31 - 1 // RFC 2181 §8

	defaultCheckInterval = 2 * time.Second
	defaultCheckTimeout  = 1 * time.Second
)

// parseConfig reads the top-level configuration file.
func parseConfig(file string, text []byte, diags *Diagnostics) *parsedConfig {
	r := &reader{file: file, diags: diags, maxRecords: DefaultMaxRecordsPerFile, inConfig: true}
	root := r.document(text)
	if root != nil {
		// The limit applies to this very file, wherever the key is
		// written in it.
		r.maxRecords = peekMaxRecords(root)
		if !r.expansionOK(root) {
			root = nil
		}
	}
	return r.config(root)
}

// config reads the top-level mapping; root is nil for a file with no document.
func (r *reader) config(root *yaml.Node) *parsedConfig {
	cfg := &parsedConfig{linkTTL: defaultLinkTTL, rrl: DefaultRRL, tcpMax: DefaultTCPMaxConns,
		maxFileSize: DefaultMaxFileSize, maxRecords: DefaultMaxRecordsPerFile, tcpSource: DefaultTCPMaxConnsPerSource, ixfr: DefaultIXFRJournal}
	if root == nil {
		return cfg
	}
	r.fields(root, "config", map[string]func(*yaml.Node){
		"listen": func(v *yaml.Node) {
			for _, n := range r.list(v, "listen") {
				if r.listenAddr(n) {
					cfg.listen = append(cfg.listen, n.Value)
				}
			}
		},
		"admin": func(v *yaml.Node) {
			if s, ok := r.scalar(v, "admin"); ok && r.hostPort(v, "admin", s) {
				cfg.admin, cfg.adminNode = s, v
			}
		},
		"admin_allow": func(v *yaml.Node) {
			for _, item := range r.list(v, "admin_allow") {
				p, ok := parsePrefix(item.Value)
				if !ok {
					r.errorf(item, "admin_allow %q: want an address or CIDR prefix such as 192.0.2.0/24", item.Value)
					continue
				}
				cfg.adminAllow = append(cfg.adminAllow, p)
			}
		},
		"link_ttl": func(v *yaml.Node) {
			if t, ok := r.uint32Value(v, "link_ttl", 0, maxTTL); ok {
				cfg.linkTTL = t
			}
		},
		"zone_files": func(v *yaml.Node) {
			for _, n := range r.list(v, "zone_files") {
				cfg.zoneFiles = append(cfg.zoneFiles, globRef{n.Value, r.pos(n)})
			}
		},
		"links": func(v *yaml.Node) { cfg.links = r.links(v) },
		"zones": func(v *yaml.Node) { cfg.zones = r.zones(v) },
		"rrl":   func(v *yaml.Node) { cfg.rrl = r.rrl(v) },
		"tcp_max_conns": func(v *yaml.Node) {
			if x, ok := r.uint32Value(v, "tcp_max_conns", 1, 65535); ok {
				cfg.tcpMax = int(x)
			}
		},
		"tcp_max_conns_per_source": func(v *yaml.Node) {
			if x, ok := r.uint32Value(v, "tcp_max_conns_per_source", 1, 65535); ok {
				cfg.tcpSource = int(x)
			}
		},
		"tsig_keys": func(v *yaml.Node) { cfg.tsigKeys = r.tsigKeys(v) },
		"transfer":  func(v *yaml.Node) { cfg.transfer = r.transfer(v, "config") },
		"dnssec":    func(v *yaml.Node) { cfg.dnssec = r.dnssec(v, "config") },
		"query_log": func(v *yaml.Node) { cfg.queryLog = r.boolValue(v, "query_log") },
		"transfer_view": func(v *yaml.Node) {
			if s, _ := r.choice(v, "transfer_view", "all", "current"); s == "current" {
				cfg.transferView = TransferCurrent
			}
		},
		"state_dir": func(v *yaml.Node) { cfg.stateDir = r.stateDir(v) },
		"catalog":   func(v *yaml.Node) { cfg.catalog = r.catalog(v) },
		"updates":   func(v *yaml.Node) { cfg.updates = r.updates(v) },
		"max_file_size": func(v *yaml.Node) {
			if n, ok := r.byteSize(v, "max_file_size"); ok {
				cfg.maxFileSize = n
			}
		},
		"ixfr_journal": func(v *yaml.Node) { cfg.ixfr = r.ixfrJournal(v) },
		"max_records_per_file": func(v *yaml.Node) {
			if n, ok := r.uint32Value(v, "max_records_per_file", 1, maxRecordsLimit); ok {
				cfg.maxRecords = int(n)
			}
		},
	})
	if len(cfg.listen) == 0 {
		cfg.listen = []string{defaultListen}
	}
	if cfg.admin != "" && len(cfg.adminAllow) == 0 && !loopbackHost(cfg.admin) {
		// The admin port shows every zone, link and file in error: off the
		// machine, only to whom the configuration names.
		r.errorf(cfg.adminNode, "admin %q is not a loopback address: add admin_allow, the addresses or CIDR prefixes allowed to use it, e.g. admin_allow: [192.0.2.0/24], or listen on 127.0.0.1", cfg.admin)
	}
	return cfg
}

// loopbackHost reports whether the host of a host:port is a loopback
// address or localhost; an empty host (every address) is not.
func loopbackHost(hostPort string) bool {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// parseZoneFile reads a file named by zone_files: it may hold only zones.
// It allows the default max_records_per_file.
func parseZoneFile(file string, text []byte, diags *Diagnostics) []*parsedZone {
	return parseZoneFileLimited(file, text, DefaultMaxRecordsPerFile, diags)
}

// parseZoneFileLimited is parseZoneFile with the configuration's
// max_records_per_file.
func parseZoneFileLimited(file string, text []byte, maxRecords int, diags *Diagnostics) []*parsedZone {
	r := &reader{file: file, diags: diags, maxRecords: maxRecords}
	root := r.document(text)
	if root == nil || !r.expansionOK(root) {
		return nil
	}
	var zones []*parsedZone
	r.fields(root, "zone file", map[string]func(*yaml.Node){
		"zones": func(v *yaml.Node) { zones = r.zones(v) },
	})
	return zones
}

// peekMaxRecords reads max_records_per_file before the walk that obeys it,
// quietly: the walk reports a value written wrong, and the default holds.
func peekMaxRecords(root *yaml.Node) int {
	root = deref(root)
	if root.Kind != yaml.MappingNode {
		return DefaultMaxRecordsPerFile
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := deref(root.Content[i]); k.Kind == yaml.ScalarNode && k.Value == "max_records_per_file" {
			quiet := &reader{diags: new(Diagnostics)}
			if n, ok := quiet.uint32Value(root.Content[i+1], "", 1, maxRecordsLimit); ok {
				return int(n)
			}
			break
		}
	}
	return DefaultMaxRecordsPerFile
}

func (r *reader) hostPort(n *yaml.Node, what, s string) bool {
	if _, _, err := net.SplitHostPort(s); err != nil {
		r.errorf(n, "%s %q: want host:port, e.g. 127.0.0.1:5353", what, s)
		return false
	}
	return true
}

func (r *reader) listenAddr(n *yaml.Node) bool {
	host, _, err := net.SplitHostPort(n.Value)
	if err != nil {
		r.errorf(n, "listen %q: want ip:port, e.g. 127.0.0.1:5353", n.Value)
		return false
	}
	if host != "" && net.ParseIP(host) == nil {
		r.errorf(n, "listen %q: want an IP address, not a host name, so that mxdns knows which address a query arrived on", n.Value)
		return false
	}
	return true
}

func (r *reader) links(n *yaml.Node) []parsedLink {
	var out []parsedLink
	for _, p := range r.pairs(n, "links") {
		if len(out) == MaxLinks {
			r.errorf(p.k, "links: at most %d links", MaxLinks)
			break
		}
		if !validLinkName(p.key) {
			r.errorf(p.k, "link name %q: want letters, digits, '-' or '_'", p.key)
			continue
		}
		l := parsedLink{Link: Link{Name: p.key}, pos: r.pos(p.k)}
		what := "link " + p.key
		var requireNode *yaml.Node
		if v := deref(p.v); v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			out = append(out, l) // "wan3:" with nothing: a link with no check, up
			continue
		}
		r.fields(p.v, what, map[string]func(*yaml.Node){
			"listen": func(v *yaml.Node) {
				for _, a := range r.list(v, what+" listen") {
					if r.listenAddr(a) {
						l.Listen = append(l.Listen, a.Value)
					}
				}
			},
			"check": func(v *yaml.Node) { l.Checks = r.checks(v, what+" check") },
			"state": func(v *yaml.Node) {
				switch s, _ := r.choice(v, what+" state", "auto", "up", "down"); s {
				case "up":
					l.State = LinkUp
				case "down":
					l.State = LinkDown
				}
			},
			"require": func(v *yaml.Node) {
				requireNode = v
				if s, _ := r.choice(v, what+" require", "all", "any"); s == "any" {
					l.Require = RequireAny
				}
			},
			"outbound": func(v *yaml.Node) { r.outbound(v, what, &l) },
		})
		if requireNode != nil && len(l.Checks) < 2 && r.probe == nil {
			r.warnf(requireNode, "%s: require has no effect with fewer than two checks", what)
		}
		out = append(out, l)
	}
	return out
}

func validLinkName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// must keeps a value whose error was already reported.
func must[T any](v T, _ bool) T { return v }

func (r *reader) zones(n *yaml.Node) []*parsedZone {
	var out []*parsedZone
	for _, p := range r.pairs(n, "zones") {
		origin, ok := r.zoneOrigin(p.k)
		if !ok {
			continue
		}
		out = append(out, r.zone(origin, p.k, p.v))
	}
	return out
}

func (r *reader) zoneOrigin(k *yaml.Node) (string, bool) {
	if strings.Contains(k.Value, "/") && !strings.HasSuffix(strings.ToLower(strings.TrimSuffix(k.Value, ".")), ".arpa") {
		name, err := reverseOrigin(k.Value)
		if err != nil {
			r.errorf(k, "zone %q: %v", k.Value, err)
			return "", false
		}
		return name, true
	}
	name, err := canonicalName(k.Value)
	if err != nil || name == "." {
		r.errorf(k, "zone %q: want a domain name such as example.com", k.Value)
		return "", false
	}
	return name, true
}

func (r *reader) zone(origin string, k, n *yaml.Node) *parsedZone {
	z := &parsedZone{origin: origin, pos: r.pos(k), ttl: defaultTTL}
	z.soa = parsedSOA{autoSerial: true, refresh: 3600, retry: 900, expire: 1209600, minimum: 300}
	what := "zone " + strings.TrimSuffix(origin, ".")
	var records *yaml.Node
	var reports *parsedOwner // what dmarc_reports_for makes (dmarcreports.go)
	nsWritten := false
	r.fields(n, what, map[string]func(*yaml.Node){
		"ttl": func(v *yaml.Node) { z.ttl = must(r.uint32Value(v, what+" ttl", 0, maxTTL)) },
		"soa": func(v *yaml.Node) { r.soa(v, origin, what, &z.soa) },
		"ns": func(v *yaml.Node) {
			nsWritten = true
			for _, item := range r.list(v, what+" ns") {
				name, err := hostName(item.Value, origin)
				if err != nil {
					r.errorf(item, "ns %q: %v", item.Value, err)
					continue
				}
				z.ns = append(z.ns, nameRef{name, r.pos(item)})
			}
		},
		"records":           func(v *yaml.Node) { records = v },
		"auto_ptr":          func(v *yaml.Node) { z.noAutoPTR = !r.autoPTR(v, origin, what) },
		"transfer":          func(v *yaml.Node) { z.transfer = r.transfer(v, what) },
		"dnssec":            func(v *yaml.Node) { z.dnssec = r.dnssec(v, what) },
		"catalog":           func(v *yaml.Node) { r.catalogMember(v, what, &z.member) },
		"group":             func(v *yaml.Node) { r.catalogGroup(v, what, &z.member) },
		"dmarc_reports_for": func(v *yaml.Node) { reports = r.dmarcReportsFor(v, origin, what) },
	})
	// An ns written with no valid name, or a zone that is not a mapping,
	// was reported where it was written.
	if !nsWritten && deref(n).Kind == yaml.MappingNode {
		r.errorf(k, "%s: ns: want at least one name server", what)
	}
	if records != nil {
		for _, p := range r.pairs(records, what+" records") {
			if o := r.owner(origin, p.k, p.v); o != nil {
				z.owners = append(z.owners, o)
			}
		}
	}
	switch {
	case reports != nil:
		r.mergeGenerated(z, reports)
	case records != nil:
		r.mergeGenerated(z)
	}
	setTTLs(z)
	return z
}

// setTTLs stamps every record with its owner's TTL (or the zone's) once, at
// parse time: the parsed form is shared by every build that reuses the file,
// so building must never write to it.
func setTTLs(z *parsedZone) {
	for _, o := range z.owners {
		ttl := z.ownerTTL(o)
		for _, rec := range o.records {
			rec.rr.Header().Ttl = ttl
		}
	}
}

// ownerTTL is the TTL of o's records: its own when written, else the zone's.
func (z *parsedZone) ownerTTL(o *parsedOwner) uint32 {
	if o.ttl != nil {
		return *o.ttl
	}
	return z.ttl
}

func (r *reader) soa(n *yaml.Node, origin, what string, soa *parsedSOA) {
	what += " soa"
	r.fields(n, what, map[string]func(*yaml.Node){
		"mname": func(v *yaml.Node) {
			if name, ok := r.target(v, origin, "soa mname"); ok {
				soa.mname = &nameRef{name, r.pos(v)}
			}
		},
		"rname": func(v *yaml.Node) {
			s, ok := r.scalar(v, what+" rname")
			if !ok {
				return
			}
			if local, domain, isMail := strings.Cut(s, "@"); isMail {
				// hostmaster@example.com: dots in the local part are escaped (RFC 1035 §8).
				s = strings.ReplaceAll(local, ".", `\.`) + "." + strings.TrimSuffix(domain, ".") + "."
			}
			if name, err := resolveName(s, origin); err == nil {
				soa.rname = &nameRef{name, r.pos(v)}
			} else {
				r.errorf(v, "%s %q: want a mailbox such as hostmaster or hostmaster@example.com", what, v.Value)
			}
		},
		"serial": func(v *yaml.Node) {
			s, ok := r.scalar(v, what+" serial (or auto)")
			if !ok {
				return
			}
			if s == "auto" {
				soa.autoSerial = true
				return
			}
			if serial, ok := r.uint32Value(v, what+" serial (or auto)", 0, 1<<32-1); ok {
				soa.serial, soa.autoSerial, soa.serialPos = serial, false, r.pos(v)
			}
		},
		"refresh": func(v *yaml.Node) { soa.refresh = must(r.uint32Value(v, what+" refresh", 0, maxTTL)) },
		"retry":   func(v *yaml.Node) { soa.retry = must(r.uint32Value(v, what+" retry", 0, maxTTL)) },
		"expire":  func(v *yaml.Node) { soa.expire = must(r.uint32Value(v, what+" expire", 0, maxTTL)) },
		"minimum": func(v *yaml.Node) { soa.minimum = must(r.uint32Value(v, what+" minimum", 0, maxTTL)) },
	})
}

// target resolves a host name written as a value: relative to the origin
// unless it ends in ".", "@" for the origin itself.
func (r *reader) target(n *yaml.Node, origin, what string) (string, bool) {
	s, ok := r.scalar(n, what)
	if !ok {
		return "", false
	}
	name, err := resolveName(s, origin)
	if err != nil {
		r.errorf(n, "%s %q: %v", what, s, err)
		return "", false
	}
	return name, true
}
