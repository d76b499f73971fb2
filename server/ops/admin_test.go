package ops

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// Shutdown of the admin server lets a request in flight (a
// scrape, a status query) finish rather than cutting its connection.
func TestAdminCloseWaitsForRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release, shuttingDown := make(chan struct{}), make(chan struct{}), make(chan struct{})
	a := &Admin{log: slog.New(slog.DiscardHandler), ln: ln, done: make(chan struct{}), http: &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			close(entered)
			<-release
			io.WriteString(w, "ok")
		}),
	}}
	a.http.RegisterOnShutdown(func() { close(shuttingDown) })
	go func() {
		defer close(a.done)
		a.http.Serve(ln)
	}()

	type reply struct {
		body string
		err  error
	}
	replied := make(chan reply, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			replied <- reply{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		replied <- reply{string(b), err}
	}()
	deadline := time.After(20 * time.Second)
	select {
	case <-entered:
	case <-deadline:
		t.Fatal("request not served within 20s")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- a.Shutdown(ctx) }()
	select {
	case <-shuttingDown:
	case err := <-closed:
		close(release)
		r := <-replied
		t.Fatalf("close returned (%v) without waiting for the request in flight, which got %q, %v", err, r.body, r.err)
	case <-deadline:
		t.Fatal("close neither returned nor began a shutdown within 20s")
	}
	close(release)
	if r := <-replied; r.err != nil || r.body != "ok" {
		t.Errorf("request in flight at close: %q, %v", r.body, r.err)
	}
	if err := <-closed; err != nil {
		t.Errorf("close: %v", err)
	}
}
