package mailcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// HTTPClient is the client a command gives Check: it finds hosts through
// ex, as the rest of the run does (so that a name of ours is fetched from
// the address the zone gives it), connects with dial (nil: a net.Dialer),
// trusts roots (nil: the system's) at the time now gives (nil: the
// clock), and gives up after timeout.
func HTTPClient(ex Exchange, dial DialFunc, roots *x509.CertPool, now func() time.Time, timeout time.Duration) *http.Client {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	tr := &http.Transport{
		Proxy:               nil, // the check is of what senders reach, from here
		DialContext:         resolvingDial(ex, dial),
		TLSClientConfig:     &tls.Config{RootCAs: roots, Time: now},
		TLSHandshakeTimeout: timeout,
		DisableKeepAlives:   true,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// noAddressError is a host with no address to connect to.
type noAddressError struct{ host string }

func (e *noAddressError) Error() string { return e.host + " has no address (A or AAAA)" }

// resolvingDial looks the host up through ex and dials its addresses in
// turn, IPv4 first.
func resolvingDial(ex Exchange, dial DialFunc) DialFunc {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		if net.ParseIP(host) != nil {
			return dial(ctx, network, address)
		}
		r := &resolver{ctx: ctx, ex: ex}
		v4, v6, p := r.addrs(host)
		if p != "" {
			return nil, fmt.Errorf("%s: %s", host, p)
		}
		var first error
		for _, ip := range append(v4, v6...) {
			c, err := dial(ctx, network, net.JoinHostPort(ip, port))
			if err == nil {
				return c, nil
			}
			if first == nil {
				first = err
			}
		}
		if first == nil {
			return nil, &noAddressError{host}
		}
		return nil, first
	}
}

// fetched is one HTTPS response.
type fetched struct {
	status      int
	location    string
	contentType string
	body        []byte
	tooLong     bool
	tls         *tls.ConnectionState
}

// fetch GETs an https:// URL without following redirects, reading at
// most limit octets of the body. The problem, when there is one, is said
// for people.
func (c *checker) fetch(rawURL string, limit int64) (*fetched, string) {
	if c.opts.HTTP == nil {
		return nil, "not fetched: no HTTP client"
	}
	client := *c.opts.HTTP
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(c.ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err.Error()
	}
	req.Header.Set("User-Agent", "mxdns-check")
	resp, err := client.Do(req)
	if err != nil {
		return nil, describeFetchErr(err, req.URL.Hostname(), c.opts.Now())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, "the body breaks off: " + describeErr(err)
	}
	f := &fetched{status: resp.StatusCode, location: resp.Header.Get("Location"), contentType: resp.Header.Get("Content-Type"), body: body, tls: resp.TLS}
	if int64(len(body)) > limit {
		f.body, f.tooLong = body[:limit], true
	}
	return f, ""
}

// describeFetchErr says why an HTTPS fetch failed, a certificate's fault
// said as such.
func describeFetchErr(err error, host string, now time.Time) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var cv *tls.CertificateVerificationError
	var noAddr *noAddressError
	if errors.As(err, &noAddr) {
		return noAddr.Error()
	}
	if errors.As(err, &cv) {
		return "the certificate " + describeCertErr(cv.Err, host, now)
	}
	return "cannot connect: " + describeErr(err)
}

// describeCertErr says what is wrong with a certificate chain.
func describeCertErr(err error, host string, now time.Time) string {
	var he x509.HostnameError
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &he):
		names := he.Certificate.DNSNames
		if len(names) == 0 && he.Certificate.Subject.CommonName != "" {
			names = []string{he.Certificate.Subject.CommonName}
		}
		return fmt.Sprintf("is not valid for %s: it names %s", host, strings.Join(names, ", "))
	case errors.As(err, &ua):
		return "is not signed by an authority senders trust (self-signed, or a chain without its intermediate)"
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		if ci.Cert != nil && now.After(ci.Cert.NotAfter) {
			return "expired on " + ci.Cert.NotAfter.UTC().Format(time.DateOnly)
		}
		if ci.Cert != nil {
			return "is not valid before " + ci.Cert.NotBefore.UTC().Format(time.DateOnly)
		}
		return "has expired"
	}
	return "does not verify: " + err.Error()
}

// expiry warns of a leaf certificate that expires within two weeks.
func expiresSoon(state *tls.ConnectionState, now time.Time) (time.Time, bool) {
	if state == nil || len(state.PeerCertificates) == 0 {
		return time.Time{}, false
	}
	end := state.PeerCertificates[0].NotAfter
	return end, end.Sub(now) < 14*24*time.Hour
}

// daysLeft says how long until t, in whole days.
func daysLeft(t, now time.Time) string {
	d := int(t.Sub(now).Hours() / 24)
	if d == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", d)
}

// hostOf is the host of an URL, fully qualified.
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return dns.CanonicalName(u.Hostname())
}
