package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/mxdns/mxdns/zone"
)

// newProbe makes the probe of one check of a link. A file check's
// watcher runs until ctx ends, counted in wg.
func newProbe(ctx context.Context, i int, c zone.Check, spec linkSpec, wg *sync.WaitGroup) probe {
	p := probe{index: i, spec: c}
	d := dialer{source: c.Source, src4: spec.src4, src6: spec.src6}
	switch {
	case c.TCP != "":
		p.run = tcpProbe(c, d)
	case c.SMTP != "":
		p.run = smtpProbe(c, d, spec.helo)
	case c.File != "":
		p.run, p.wake = fileProbe(ctx, c, wg)
	default:
		p.run = httpProbe(c, d)
	}
	return p
}

// dialer connects from the check's source, or else from the link's first
// outbound address of the target's family, so that each link is probed
// over itself; with neither, from whatever the system picks.
type dialer struct {
	source     netip.Addr
	src4, src6 netip.Addr
}

// dial connects to address (host:port) and says from which source.
func (d dialer) dial(ctx context.Context, address string) (net.Conn, netip.Addr, error) {
	src, target := d.source, address
	if !src.IsValid() && (d.src4.IsValid() || d.src6.IsValid()) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, src, err
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			if err != nil {
				return nil, src, err
			}
			ip = ips[0]
			for _, a := range ips {
				if a.Unmap().Is4() && d.src4.IsValid() || !a.Unmap().Is4() && d.src6.IsValid() {
					ip = a
					break
				}
			}
		}
		ip = ip.Unmap()
		src = d.src6
		if ip.Is4() {
			src = d.src4
		}
		target = net.JoinHostPort(ip.String(), port)
	}
	var nd net.Dialer
	if src.IsValid() {
		nd.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	conn, err := nd.DialContext(ctx, "tcp", target)
	if err != nil && src.IsValid() && errors.Is(err, syscall.EADDRNOTAVAIL) {
		err = &sourceError{src}
	}
	return conn, src, err
}

// sourceError is a source address the machine does not have.
type sourceError struct{ src netip.Addr }

func (e *sourceError) Error() string {
	return fmt.Sprintf("source %s is not an address of this machine; set the check's source: to a local address whose traffic leaves over this link", e.src)
}

// from is " from SRC" when a probe was sent from a chosen source.
func from(src netip.Addr) string {
	if !src.IsValid() {
		return ""
	}
	return " from " + src.String()
}

// tcpProbe connects and closes at once: the link is up when the target
// accepts a connection through it.
func tcpProbe(spec zone.Check, d dialer) func(context.Context) outcome {
	return func(ctx context.Context) outcome {
		conn, src, err := d.dial(ctx, spec.TCP)
		if err != nil {
			return outcome{result: "tcp " + spec.TCP + ": " + probeError(err, spec.Timeout)}
		}
		conn.Close()
		return outcome{ok: true, result: "tcp " + spec.TCP + ": connected" + from(src)}
	}
}

// httpProbe GETs the URL on a fresh connection each time (a kept-alive
// connection would hide a link that stopped accepting new ones); any 2xx
// is up. Redirects are not followed: a 3xx is an answer about the health
// URL, not a healthy link.
func httpProbe(spec zone.Check, d dialer) func(context.Context) outcome {
	client := &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil,
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				conn, _, err := d.dial(ctx, addr)
				return conn, err
			}},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return func(ctx context.Context) outcome {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, spec.HTTP, nil)
		if err != nil {
			return outcome{result: fmt.Sprintf("%s: %s", RedactURL(spec.HTTP), probeError(err, spec.Timeout))}
		}
		req.Header.Set("User-Agent", "mxdns-health-check")
		resp, err := client.Do(req)
		if err != nil {
			return outcome{result: fmt.Sprintf("%s: %s", RedactURL(spec.HTTP), probeError(err, spec.Timeout))}
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return outcome{ok: resp.StatusCode >= 200 && resp.StatusCode < 300, result: fmt.Sprintf("http %d", resp.StatusCode)}
	}
}

// probeError shortens a dial error to what an operator needs:
// "connection refused" rather than "dial tcp 127.0.0.1:2525: connect:
// connection refused", "timeout after 1s" rather than a context error.
func probeError(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its URL, secrets and all, is shown redacted by the caller
	}
	var src *sourceError
	if errors.As(err, &src) {
		return src.Error()
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("timeout after %s", timeout)
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return "cannot resolve " + de.Name + ": " + de.Err
	}
	return err.Error()
}
