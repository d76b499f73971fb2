package answer

import (
	"bytes"
	"net"

	"github.com/miekg/dns"
)

// writer is the dns.ResponseWriter the general path answers through, so
// that transfers and TSIG can use miekg/dns's machinery (dns.Transfer,
// the TsigProvider) unchanged. Over UDP it keeps the reply for the
// transport to send; over TCP it writes every message to the stream.
type writer struct {
	peer   Peer
	stream Stream // nil over UDP
	tsig   tsigSession
	out    []byte
	closed bool
}

func (w *writer) WriteMsg(m *dns.Msg) error {
	b, err := w.tsig.pack(m)
	if err != nil {
		return err
	}
	if w.stream != nil {
		return w.stream.WriteFrame(b)
	}
	w.out = b
	return nil
}

func (w *writer) Write(b []byte) (int, error) {
	if w.stream != nil {
		return len(b), w.stream.WriteFrame(b)
	}
	w.out = bytes.Clone(b)
	return len(b), nil
}

func (w *writer) LocalAddr() net.Addr   { return w.peer.LocalAddr() }
func (w *writer) RemoteAddr() net.Addr  { return w.peer.RemoteAddr() }
func (w *writer) TsigStatus() error     { return w.tsig.status }
func (w *writer) TsigTimersOnly(b bool) { w.tsig.timersOnly = b }
func (w *writer) Hijack()               {}

func (w *writer) Network() string {
	if w.stream != nil {
		return "tcp"
	}
	return "udp"
}

// Close ends a TCP connection once the exchange is done (a transfer
// closes its writer); over UDP there is nothing to close.
func (w *writer) Close() error {
	if w.stream == nil {
		return nil
	}
	w.closed = true
	return w.stream.Close()
}

// tsigSession is the TSIG state of one exchange, kept by the writer the
// way miekg/dns keeps it: the request verified with the server's
// keyring, replies signed with the request's MAC.
type tsigSession struct {
	provider   dns.TsigProvider
	status     error
	requestMAC string
	timersOnly bool
}

// prepare verifies a copy of raw: miekg/dns verifies in place, lowering
// ARCOUNT and writing the TSIG's original id over the message id, and
// the query's bytes belong to the caller.
func (t *tsigSession) prepare(req *dns.Msg, raw []byte, provider dns.TsigProvider) {
	*t = tsigSession{provider: provider}
	if rr := req.IsTsig(); rr != nil {
		t.requestMAC = rr.MAC
		t.status = dns.TsigVerifyWithProvider(bytes.Clone(raw), provider, "", false)
	}
}

func (t *tsigSession) pack(m *dns.Msg) ([]byte, error) {
	if m.IsTsig() == nil || t.provider == nil {
		return m.Pack()
	}
	b, mac, err := dns.TsigGenerateWithProvider(m, t.provider, t.requestMAC, t.timersOnly)
	t.requestMAC = mac
	return b, err
}
