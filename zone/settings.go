package zone

import (
	"net/netip"
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
	// Updates says which RFC 2136 updates are accepted; nil (no
	// updates: written) answers every UPDATE with NOTIMP.
	Updates *Updates
	// MaxRecordsPerFile caps the records one file may define, counted
	// after YAML aliases are expanded.
	MaxRecordsPerFile int
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
	// Check is nil when the link has no health check (it is then up unless
	// State says otherwise).
	Check *Check
	// State is the manual override.
	State LinkState
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

// Check describes a link's health check. Exactly one of TCP and HTTP is set.
type Check struct {
	TCP      string // host:port to connect to
	HTTP     string // URL to GET; any 2xx is healthy
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
