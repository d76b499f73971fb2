package server

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	statedir "github.com/mxdns/mxdns/state"
	"github.com/mxdns/mxdns/zone"
)

// gatedKeeper holds the first journal sync until open is closed, and
// tells saved of every update it keeps.
type gatedKeeper struct {
	*statedir.Dir
	first sync.Once
	open  chan struct{}
	saved chan struct{}
}

func (k *gatedKeeper) SyncJournals() error {
	k.first.Do(func() { <-k.open })
	return k.Dir.SyncJournals()
}

func (k *gatedKeeper) SaveUpdates(origin string, recs []zone.UpdatedRecord) error {
	err := k.Dir.SaveUpdates(origin, recs)
	select {
	case k.saved <- struct{}{}:
	default:
	}
	return err
}

// An update served while the start is still journaling its zones (a
// hundred zones a batch, in order) reaches secondaries by IXFR: the
// start must not journal its own, older version of the zone after the
// update's, which would start that zone's journal again.
func TestUpdateWhileTheStartJournals(t *testing.T) {
	dir := t.TempDir()
	inner, err := statedir.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inner.Close() })
	keeper := &gatedKeeper{Dir: inner, open: make(chan struct{}), saved: make(chan struct{}, 1)}
	var b strings.Builder
	b.WriteString(updatesConfig("transfer:\n  allow: [\"key:xfr-key\"]\n"))
	for i := range journalBatch { // all before example.com., the first batch
		fmt.Fprintf(&b, "  a%03d.example:\n    ns: [ns1.example.com.]\n    records: {www: {a: 192.0.2.1}}\n", i)
	}
	path := filepath.Join(dir, "config.yaml")
	writeFile(t, path, b.String())
	s, err := New(Options{Keeper: keeper, ConfigPath: path,
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(tWriter{t}), nil))})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, s)
	before := serialNow(t, s)

	replied := make(chan *dns.Msg, 1)
	go func() {
		c := &dns.Client{Net: "tcp", Timeout: 20 * time.Second, TsigSecret: map[string]string{acmeKey: acmeSecret}}
		m := txtUpdate("example.com.", true, challenge)
		m.SetTsig(acmeKey, dns.HmacSHA256, 300, time.Now().Unix())
		r, _, err := c.Exchange(m, s.Addrs()[0].TCP.String())
		if err != nil {
			t.Errorf("update: %v", err)
		}
		replied <- r
	}()
	select {
	case <-keeper.saved: // the update is in; the start's first batch waits
	case <-time.After(20 * time.Second):
		t.Fatal("the update was not kept")
	}
	close(keeper.open)
	select {
	case r := <-replied:
		if r == nil {
			t.FailNow()
		}
		wantRcode(t, r, dns.RcodeSuccess)
	case <-time.After(20 * time.Second):
		t.Fatal("no reply to the update")
	}
	s.reloadMu.Lock() // given back once the start's journaling is done
	s.reloadMu.Unlock()

	if after := serialNow(t, s); after == before {
		t.Fatalf("serial %d did not move with the update", after)
	}
	got, _ := ixfrFrom(t, s, before)
	if full(got) {
		t.Fatalf("IXFR from %d, the serial the start served: the whole zone\n%v", before, got)
	}
}
