package zone

import (
	"net/netip"
	"slices"
	"time"
)

// Settings are the server-wide parts of a configuration: where to listen,
// which links exist and how to check them. They travel inside the snapshot
// so that a reload changes data and settings in one step.
type Settings struct {
	// Listen is the top-level listen list (default 127.0.0.1:5353).
	Listen []string
	// Admin is the admin HTTP address; empty means off.
	Admin string
	// AdminAllow are the client prefixes the admin endpoint answers
	// besides loopback; required when Admin is not a loopback address.
	AdminAllow []netip.Prefix
	// LinkTTL caps the TTL of every answer that depends on link state.
	LinkTTL uint32
	// Links are the declared WAN links in the order written.
	Links []Link
	// RRL is response rate limiting for UDP; the zero value is off.
	RRL RRL
	// TCPMaxConns caps concurrent TCP connections, all listeners together.
	TCPMaxConns int
	// TCPMaxConnsPerSource caps the TCP connections of one client prefix
	// (/24 for IPv4, /56 for IPv6), so one source cannot hold them all.
	TCPMaxConnsPerSource int
	// TSIGKeys are the keys of tsig_keys by canonical name.
	TSIGKeys map[string]TSIGKey
	// Transfer is the top-level transfer setting, used by every zone that
	// has none of its own.
	Transfer Transfer
	// QueryLog asks for one log line per query.
	QueryLog bool
	// TransferView is what a zone transfer carries of the records that
	// depend on link state (transferview.go).
	TransferView TransferView
	// StateDir is state_dir as written, made absolute against the
	// configuration's directory; empty when not written.
	StateDir string
	// MaxFileSize is the largest configuration or zone file read, in bytes.
	MaxFileSize int64
	// MaxRecordsPerFile caps the records one file may define, counted
	// after YAML aliases are expanded.
	MaxRecordsPerFile int
	// IXFRJournal bounds each zone's journal of differences.
	IXFRJournal IXFRJournal
}

// DefaultMaxFileSize is max_file_size when not written: far above any
// hand-edited file, far below what would hurt the server.
const DefaultMaxFileSize = 64 << 20

// DefaultMaxRecordsPerFile is max_records_per_file when not written.
const DefaultMaxRecordsPerFile = 2_000_000

// Link is one internet link of the site (wan1, wan2, ...).
type Link struct {
	Name string
	// Listen addresses: a query received on one of them arrived over this link.
	Listen []string
	// Checks are the link's health checks, in the order written; none
	// means the link is up unless State says otherwise.
	Checks []Check
	// Require says how the checks' verdicts make the link's.
	Require Require
	// State is the manual override.
	State LinkState
	// Outbound is the identity mail sent over this link has; zero when
	// not written.
	Outbound Outbound
}

// Require is how a link with several checks is judged.
type Require uint8

const (
	RequireAll Require = iota // up while every check is up
	RequireAny                // up while at least one check is up
)

func (r Require) String() string {
	if r == RequireAny {
		return "any"
	}
	return "all"
}

// Outbound is the sending identity of a link: the addresses mail leaves
// from over it and the name its mail server gives in EHLO.
type Outbound struct {
	IPv4, IPv6 []netip.Addr
	// HELO is absolute and lower case; "" when not written.
	HELO string
}

// Addrs lists every outbound address, IPv4 first, in the order written.
func (o Outbound) Addrs() []netip.Addr {
	return append(append([]netip.Addr(nil), o.IPv4...), o.IPv6...)
}

// Source is the first outbound address of a's family, the default local
// address of a check through this link; ok is false when there is none.
func (o Outbound) Source(ipv6 bool) (netip.Addr, bool) {
	list := o.IPv4
	if ipv6 {
		list = o.IPv6
	}
	if len(list) == 0 {
		return netip.Addr{}, false
	}
	return list[0], true
}

// Equal reports whether two identities are the same.
func (o Outbound) Equal(p Outbound) bool {
	return o.HELO == p.HELO && slices.Equal(o.IPv4, p.IPv4) && slices.Equal(o.IPv6, p.IPv6)
}

// LinkState is a manual override of a link's health.
type LinkState int

const (
	LinkAuto LinkState = iota // follow the health check; no check means up
	LinkUp
	LinkDown
)

func (s LinkState) String() string {
	switch s {
	case LinkUp:
		return "up"
	case LinkDown:
		return "down"
	default:
		return "auto"
	}
}

// Check describes one health check of a link. Exactly one of TCP, HTTP,
// SMTP and File is set.
type Check struct {
	TCP  string // host:port to connect to
	HTTP string // URL to GET; any 2xx is healthy
	// SMTP is host:port of a mail server to greet: a 220 banner, EHLO,
	// with StartTLS an upgrade whose certificate is verified (against
	// CAFile when set, else the system roots; Insecure skips it), QUIT.
	SMTP     string
	StartTLS bool
	CAFile   string // absolute
	Insecure bool
	// File is the absolute path of a file another monitor writes "up" or
	// "down" into.
	File string
	// Source is the local address a probe is sent from; zero for the
	// link's first outbound address of the target's family, or, with
	// none, whatever the system picks.
	Source   netip.Addr
	Interval time.Duration
	Timeout  time.Duration
	Rise     int // consecutive successes to go up
	Fall     int // consecutive failures to go down
}

// LinkSet is a set of link indices (positions in Settings.Links).
type LinkSet uint64

// MaxLinks is how many links a configuration may declare.
const MaxLinks = 64

func (s LinkSet) Has(i int) bool        { return i >= 0 && i < MaxLinks && s&(1<<uint(i)) != 0 }
func (s LinkSet) With(i int) LinkSet    { return s | 1<<uint(i) }
func (s LinkSet) Without(i int) LinkSet { return s &^ (1 << uint(i)) }

// AllLinks is the set holding every possible link.
const AllLinks = ^LinkSet(0)
