package health

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/mxdns/mxdns/zone"
)

// smtpProbe greets a mail server as a sender would: the 220 banner, EHLO
// (as helo, the link's outbound name, or the address we send from), and
// with StartTLS the upgrade, the certificate's verification and EHLO
// again; then QUIT. A reply with another code, a timeout, or a
// certificate that fails (an expired one always does) is a failure, with
// the step and the reply in the result.
func smtpProbe(spec zone.Check, d dialer, helo string) func(context.Context) outcome {
	return func(ctx context.Context) outcome {
		var out outcome
		fail := func(step string, err error) outcome {
			out.result = fmt.Sprintf("smtp %s: %s: %s", spec.SMTP, step, smtpError(err, spec.Timeout))
			return out
		}
		conn, src, err := d.dial(ctx, spec.SMTP)
		if err != nil {
			out.result = "smtp " + spec.SMTP + ": " + probeError(err, spec.Timeout)
			return out
		}
		defer conn.Close()
		if dl, ok := ctx.Deadline(); ok {
			conn.SetDeadline(dl)
		}
		stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
		defer stop()
		name := ehloName(helo, conn.LocalAddr())
		tp := textproto.NewConn(conn)
		if _, _, err := tp.ReadResponse(220); err != nil {
			return fail("banner", err)
		}
		ext, err := ehlo(tp, name)
		if err != nil {
			return fail("EHLO", err)
		}
		tail := ""
		if spec.StartTLS {
			if !ext["STARTTLS"] {
				return fail("STARTTLS", errors.New("not offered in the reply to EHLO"))
			}
			if _, err := command(tp, 220, "STARTTLS"); err != nil {
				return fail("STARTTLS", err)
			}
			tc := tls.Client(conn, smtpTLSConfig(spec, &out.certExpiry))
			if err := tc.HandshakeContext(ctx); err != nil {
				return fail("STARTTLS", err)
			}
			tp = textproto.NewConn(tc)
			if _, err := ehlo(tp, name); err != nil {
				return fail("EHLO after STARTTLS", err)
			}
			tail = fmt.Sprintf(", certificate expires in %s", daysLeft(out.certExpiry))
		}
		command(tp, 221, "QUIT") // the greeting has been answered: a server that hangs up instead is still up
		out.ok = true
		out.result = fmt.Sprintf("smtp %s: greeted%s%s", spec.SMTP, from(src), tail)
		return out
	}
}

// ehloName is the name sent in EHLO: the link's helo, or the address the
// probe is sent from as an address literal (RFC 5321 §4.1.3).
func ehloName(helo string, local net.Addr) string {
	if helo != "" {
		return strings.TrimSuffix(helo, ".")
	}
	a, err := netip.ParseAddrPort(local.String())
	switch {
	case err != nil:
		return "localhost"
	case a.Addr().Unmap().Is4():
		return "[" + a.Addr().Unmap().String() + "]"
	}
	return "[IPv6:" + a.Addr().WithZone("").String() + "]"
}

// ehlo sends EHLO and returns the extensions the reply names.
func ehlo(tp *textproto.Conn, name string) (map[string]bool, error) {
	msg, err := command(tp, 250, "EHLO "+name)
	if err != nil {
		return nil, err
	}
	ext := make(map[string]bool)
	for i, line := range strings.Split(msg, "\n") {
		if f := strings.Fields(line); i > 0 && len(f) > 0 {
			ext[strings.ToUpper(f[0])] = true
		}
	}
	return ext, nil
}

func command(tp *textproto.Conn, want int, line string) (string, error) {
	if err := tp.PrintfLine("%s", line); err != nil {
		return "", err
	}
	_, msg, err := tp.ReadResponse(want)
	return msg, err
}

// smtpTLSConfig verifies the server's certificate itself, so that an
// expired one is named as such and its expiry is kept in expiry even
// when verification fails.
func smtpTLSConfig(spec zone.Check, expiry *time.Time) *tls.Config {
	host, _, _ := net.SplitHostPort(spec.SMTP)
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true}
	if _, err := netip.ParseAddr(host); err != nil {
		cfg.ServerName = host
	}
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("no certificate")
		}
		leaf := cs.PeerCertificates[0]
		*expiry = leaf.NotAfter
		now := time.Now()
		switch {
		case now.After(leaf.NotAfter):
			return fmt.Errorf("certificate expired on %s (%s ago)", leaf.NotAfter.UTC().Format(time.DateOnly), days(now.Sub(leaf.NotAfter)))
		case now.Before(leaf.NotBefore):
			return fmt.Errorf("certificate not valid before %s", leaf.NotBefore.UTC().Format(time.DateTime))
		case spec.Insecure:
			return nil
		}
		opts := x509.VerifyOptions{DNSName: host, Intermediates: x509.NewCertPool(), CurrentTime: now}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		if spec.CAFile != "" {
			pem, err := os.ReadFile(spec.CAFile)
			if err != nil {
				return fmt.Errorf("ca_file: %w", err)
			}
			opts.Roots = x509.NewCertPool()
			if !opts.Roots.AppendCertsFromPEM(pem) {
				return fmt.Errorf("ca_file %s: no PEM certificate in it", spec.CAFile)
			}
		}
		if _, err := leaf.Verify(opts); err != nil {
			return fmt.Errorf("certificate: %w", err)
		}
		return nil
	}
	return cfg
}

func days(d time.Duration) string {
	n := int(d.Hours() / 24)
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

func daysLeft(t time.Time) string { return days(time.Until(t)) }

// smtpError is an SMTP step's failure for people: the reply with its
// code, a timeout, or what went wrong, without the server's text
// running on (it is the server's, shown to whoever reads the status).
func smtpError(err error, timeout time.Duration) string {
	var te *textproto.Error
	if errors.As(err, &te) {
		return fmt.Sprintf("unexpected reply %d %s", te.Code, printable(te.Msg))
	}
	var pe textproto.ProtocolError
	if errors.As(err, &pe) {
		return "not an SMTP reply: " + printable(string(pe))
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("no reply, timeout after %s", timeout)
	}
	if errors.Is(err, io.EOF) {
		return "connection closed by the server"
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		err = ce.Err
	}
	return strings.TrimPrefix(probeError(err, timeout), "tls: ")
}

// printable keeps the first line of a server's text, printable ASCII,
// at most 80 characters.
func printable(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	b := []byte(s)
	out := b[:0]
	for _, c := range b {
		if c >= ' ' && c < 0x7f {
			out = append(out, c)
		}
	}
	if len(out) > 80 {
		return string(out[:80]) + "…"
	}
	return string(out)
}
