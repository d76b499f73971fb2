// Package xfr serves what secondaries need: zone transfers (AXFR, and
// IXFR answered in full), NOTIFY when a zone's serial changes, and TSIG
// verified and signed with the keys of the snapshot being served. It is
// given the snapshot, a logger and counting funcs; it holds no sockets.
package xfr

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// Keyring verifies and signs TSIG (a dns.TsigProvider) with the keys of
// the snapshot Snapshot gives, the one being served, so a reload that adds
// or changes a key takes effect at once without reopening listeners.
type Keyring struct{ Snapshot func() *zone.Snapshot }

func (k Keyring) key(t *dns.TSIG) (zone.TSIGKey, error) {
	key, ok := k.Snapshot().Settings().TSIGKeys[dns.CanonicalName(t.Hdr.Name)]
	if !ok {
		return zone.TSIGKey{}, dns.ErrSecret
	}
	if dns.CanonicalName(t.Algorithm) != key.Algorithm {
		// A key is bound to its algorithm (RFC 8945 §5.2.1): BADKEY.
		return zone.TSIGKey{}, dns.ErrSecret
	}
	return key, nil
}

// Generate signs msg.
func (k Keyring) Generate(msg []byte, t *dns.TSIG) ([]byte, error) {
	key, err := k.key(t)
	if err != nil {
		return nil, err
	}
	return tsigMAC(key, msg)
}

// Verify checks the MAC of msg.
func (k Keyring) Verify(msg []byte, t *dns.TSIG) error {
	key, err := k.key(t)
	if err != nil {
		return err
	}
	mac, err := tsigMAC(key, msg)
	if err != nil {
		return err
	}
	got, err := hex.DecodeString(t.MAC)
	if err != nil || !hmac.Equal(mac, got) {
		return dns.ErrSig
	}
	return nil
}

func tsigMAC(key zone.TSIGKey, msg []byte) ([]byte, error) {
	secret, err := base64.StdEncoding.DecodeString(key.Secret)
	if err != nil {
		return nil, err
	}
	var h func() hash.Hash
	switch key.Algorithm {
	case dns.HmacSHA1:
		h = sha1.New
	case dns.HmacSHA224:
		h = sha256.New224
	case dns.HmacSHA256:
		h = sha256.New
	case dns.HmacSHA384:
		h = sha512.New384
	case dns.HmacSHA512:
		h = sha512.New
	default:
		return nil, dns.ErrKeyAlg
	}
	m := hmac.New(h, secret)
	m.Write(msg)
	return m.Sum(nil), nil
}

// Fudge is the allowed clock skew of our signatures, RFC 8945's
// recommended 300 s.
const Fudge = 300

// SignReply makes resp answer a signed request in kind: signed with the
// request's key when the request verified. A request whose TSIG failed
// gets NOTAUTH and nothing else, with a TSIG RR carrying the TSIG error
// (RFC 8945 §5.3.2): BADKEY or BADSIG unsigned, since we have no usable
// key, BADTIME signed with our time. It reports whether the request
// verified (or was unsigned).
func SignReply(w dns.ResponseWriter, req, resp *dns.Msg) bool {
	t := req.IsTsig()
	if t == nil {
		return true
	}
	err := w.TsigStatus()
	if err != nil {
		NotAuth(resp)
	}
	// SetTsig takes OrigId from resp, which carries the request's id.
	resp.SetTsig(t.Hdr.Name, t.Algorithm, Fudge, time.Now().Unix())
	if err == nil {
		return true
	}
	rr := resp.IsTsig()
	switch {
	case errors.Is(err, dns.ErrSecret), errors.Is(err, dns.ErrKeyAlg):
		rr.Error = dns.RcodeBadKey
	case errors.Is(err, dns.ErrTime):
		rr.Error = dns.RcodeBadTime
		now := uint64(time.Now().Unix())
		rr.OtherLen = 6
		rr.OtherData = fmt.Sprintf("%012x", now)
	default:
		rr.Error = dns.RcodeBadSig
	}
	return false
}

// NotAuth empties resp into a NOTAUTH reply.
func NotAuth(resp *dns.Msg) {
	resp.Rcode = dns.RcodeNotAuth
	resp.Authoritative = false
	resp.Answer, resp.Ns, resp.Extra = nil, nil, nil
}
