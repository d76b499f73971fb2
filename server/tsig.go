package server

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

// keyring verifies and signs TSIG with the keys of the snapshot being
// served, so a reload that adds or changes a key takes effect at once
// without reopening listeners.
type keyring struct{ srv *Server }

func (k keyring) key(t *dns.TSIG) (zone.TSIGKey, error) {
	key, ok := k.srv.state.Load().snap.Settings().TSIGKeys[dns.CanonicalName(t.Hdr.Name)]
	if !ok {
		return zone.TSIGKey{}, dns.ErrSecret
	}
	if dns.CanonicalName(t.Algorithm) != key.Algorithm {
		// A key is bound to its algorithm (RFC 8945 §5.2.1): BADKEY.
		return zone.TSIGKey{}, dns.ErrSecret
	}
	return key, nil
}

func (k keyring) Generate(msg []byte, t *dns.TSIG) ([]byte, error) {
	key, err := k.key(t)
	if err != nil {
		return nil, err
	}
	return tsigMAC(key, msg)
}

func (k keyring) Verify(msg []byte, t *dns.TSIG) error {
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

// tsigFudge is the allowed clock skew of our signatures, RFC 8945's
// recommended 300 s.
const tsigFudge = 300

// signReply makes resp answer a signed request in kind: signed with the
// request's key when the request verified. A request whose TSIG failed
// gets NOTAUTH and nothing else, with a TSIG RR carrying the TSIG error
// (RFC 8945 §5.3.2): BADKEY or BADSIG unsigned, since we have no usable
// key, BADTIME signed with our time. It reports whether the request
// verified (or was unsigned).
func signReply(w dns.ResponseWriter, req, resp *dns.Msg) bool {
	t := req.IsTsig()
	if t == nil {
		return true
	}
	err := w.TsigStatus()
	if err != nil {
		notAuth(resp)
	}
	// SetTsig takes OrigId from resp, which carries the request's id.
	resp.SetTsig(t.Hdr.Name, t.Algorithm, tsigFudge, time.Now().Unix())
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

// notAuth empties resp into a NOTAUTH reply.
func notAuth(resp *dns.Msg) {
	resp.Rcode = dns.RcodeNotAuth
	resp.Authoritative = false
	resp.Answer, resp.Ns, resp.Extra = nil, nil, nil
}
