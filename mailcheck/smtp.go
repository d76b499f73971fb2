package mailcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// smtp asks one address of an MX host what a sender asks (RFC 5321,
// RFC 3207): its greeting, EHLO, STARTTLS, and the certificate it shows,
// judged as MTA-STS senders judge it (RFC 8461 §4.2). What it may cost a
// sender depends on the domain's MTA-STS mode: in enforce, a host without
// TLS or a valid certificate gets no mail.
//
// The client is net/smtp, and its own: server/health's SMTP probe asks a
// link whether it is up, not what senders would make of it.
func (c *checker) smtp(s *domainState, host, ip string, t uint16) {
	o := c.opts.SMTP
	port, helo, timeout, dial := o.Port, o.HELO, o.Timeout, o.Dial
	if port == "" {
		port = "25"
	}
	if helo == "" {
		helo = "mxdns.invalid"
	}
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	find := func(sev Severity, format string, args ...any) {
		c.at(s, "smtp", sev, host, t, ip, "%s (%s) "+format, append([]any{bare(host), ip}, args...)...)
	}
	enforced := s.stsMode == "enforce"
	refusal := func() (Severity, string) {
		if enforced {
			return Error, "senders refuse to deliver to it under the MTA-STS policy (RFC 8461 §4.2)"
		}
		return Warning, "senders that verify it, as an MTA-STS policy in mode enforce asks, would not deliver"
	}

	ctx, cancel := context.WithTimeout(c.ctx, timeout)
	defer cancel()
	conn, err := dial(ctx, "tcp", net.JoinHostPort(ip, port))
	if err != nil {
		if t == dns.TypeAAAA && (errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL)) {
			find(Note, "is not asked: this machine has no IPv6 route")
			return
		}
		find(Error, "does not answer on port %s: %s; senders cannot deliver there", port, describeErr(err))
		return
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	cl, err := smtp.NewClient(conn, bare(host))
	if err != nil {
		find(Error, "greets with %s, not 220: senders cannot deliver there", smtpErr(err))
		return
	}
	defer cl.Close()
	if err := cl.Hello(helo); err != nil {
		find(Error, "answers EHLO with %s: senders cannot deliver there", smtpErr(err))
		return
	}
	if ok, _ := cl.Extension("STARTTLS"); !ok {
		sev, _ := refusal()
		find(sev, "offers no STARTTLS: mail to it crosses the network in clear text (RFC 3207)%s", map[bool]string{true: ", and senders under the MTA-STS policy refuse to deliver to it (RFC 8461 §4.2)"}[enforced])
		cl.Quit()
		return
	}
	// Verified below, by hand, so that a bad certificate is told from a
	// failed handshake.
	cfg := &tls.Config{ServerName: bare(host), InsecureSkipVerify: true, MinVersion: tls.VersionTLS10}
	if err := cl.StartTLS(cfg); err != nil {
		find(Error, "offers STARTTLS, but it fails: %s; senders retry in clear text or give up", smtpErr(err))
		return
	}
	state, _ := cl.TLSConnectionState()
	if state.Version < tls.VersionTLS12 {
		find(Warning, "speaks %s at most: senders that want TLS 1.2 or newer fall back to clear text or refuse", tls.VersionName(state.Version))
	}
	now := c.opts.Now()
	if len(state.PeerCertificates) == 0 {
		sev, why := refusal()
		find(sev, "shows no certificate: %s", why)
		cl.Quit()
		return
	}
	inter := x509.NewCertPool()
	for _, cert := range state.PeerCertificates[1:] {
		inter.AddCert(cert)
	}
	leaf := state.PeerCertificates[0]
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: bare(host), Roots: o.Roots, Intermediates: inter, CurrentTime: now}); err != nil {
		sev, why := refusal()
		find(sev, "shows a certificate that %s: %s", describeCertErr(err, bare(host), now), why)
	} else if leaf.NotAfter.Sub(now) < 14*24*time.Hour {
		find(Warning, "shows a certificate that expires on %s, in %s", leaf.NotAfter.UTC().Format(time.DateOnly), daysLeft(leaf.NotAfter, now))
	}
	cl.Quit()
}

// smtpErr is an SMTP reply or a network error, said without what changes
// from run to run.
func smtpErr(err error) string {
	var te *textproto.Error
	if errors.As(err, &te) {
		return strings.TrimSpace(fmt.Sprintf("%d %s", te.Code, te.Msg))
	}
	return describeErr(err)
}
