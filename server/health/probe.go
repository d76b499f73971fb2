package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/mxdns/mxdns/zone"
)

// tcpProbe connects and closes at once: the link is up when the target
// accepts a connection through it.
func tcpProbe(spec zone.Check) func(context.Context) (bool, string) {
	var d net.Dialer
	return func(ctx context.Context) (bool, string) {
		conn, err := d.DialContext(ctx, "tcp", spec.TCP)
		if err != nil {
			return false, "tcp " + spec.TCP + ": " + probeError(err, spec.Timeout)
		}
		conn.Close()
		return true, "tcp " + spec.TCP + ": connected"
	}
}

// httpProbe GETs the URL on a fresh connection each time (a kept-alive
// connection would hide a link that stopped accepting new ones); any 2xx
// is up. Redirects are not followed: a 3xx is an answer about the health
// URL, not a healthy link.
func httpProbe(spec zone.Check) func(context.Context) (bool, string) {
	client := &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return func(ctx context.Context) (bool, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, spec.HTTP, nil)
		if err != nil {
			return false, fmt.Sprintf("%s: %s", RedactURL(spec.HTTP), probeError(err, spec.Timeout))
		}
		req.Header.Set("User-Agent", "mxdns-health-check")
		resp, err := client.Do(req)
		if err != nil {
			return false, fmt.Sprintf("%s: %s", RedactURL(spec.HTTP), probeError(err, spec.Timeout))
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return resp.StatusCode >= 200 && resp.StatusCode < 300, fmt.Sprintf("http %d", resp.StatusCode)
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
	return err.Error()
}
