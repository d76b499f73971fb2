// Package dnssec holds what signing a zone needs and nothing of where
// zones or keys come from: the signing policy, keys and their DNSKEY and
// DS forms, the canonical order of names (RFC 4034 §6.1), and a signer
// that makes RRSIGs and remembers them by content. It imports only
// miekg/dns; the state directory keeps the keys (state/keys.go), the
// zone model builds NSEC chains, and the answer pipeline signs.
package dnssec

import (
	"time"

	"github.com/miekg/dns"
)

// Policy is how one zone is signed, as its dnssec: key (or the top-level
// default) sets it.
type Policy struct {
	// Algorithm is dns.ECDSAP256SHA256 (the default) or dns.ED25519.
	Algorithm uint8
	// Split is keys: ksk-zsk; false is one combined signing key (csk).
	Split bool
	// NSEC3 is denial: nsec3, with its parameters (RFC 9276: 0 and "").
	NSEC3           bool
	NSEC3Iterations uint16
	NSEC3Salt       string
	// SignatureLifetime is how long a signature is valid; Refresh how
	// long before its expiry it is made again.
	SignatureLifetime time.Duration
	Refresh           time.Duration
	// ZSKLifetime and KSKLifetime are how long a key is used before it
	// is rolled; 0 never rolls it.
	ZSKLifetime time.Duration
	KSKLifetime time.Duration
	// Parents are the addresses asked for the zone's DS during a KSK or
	// CSK rollover.
	Parents []string
}

// DefaultPolicy is dnssec: on.
func DefaultPolicy() Policy {
	return Policy{
		Algorithm:         dns.ECDSAP256SHA256,
		SignatureLifetime: 14 * 24 * time.Hour,
		Refresh:           7 * 24 * time.Hour,
		ZSKLifetime:       90 * 24 * time.Hour,
	}
}
