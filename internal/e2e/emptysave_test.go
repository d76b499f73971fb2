package e2e

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Issue #13, failure 2: an empty or truncated save withdraws the zone. A
// file that defined zones and now parses to none must be an error that
// keeps them, and so must a broken save that follows it.
func TestSuspiciousSaveKeepsZones(t *testing.T) {
	s := newSite(t, map[string]string{
		"zones/t.yaml":     zoneYAML("t.test", "192.0.2.1"),
		"zones/other.yaml": zoneYAML("other.test", "192.0.2.100"),
	})
	s.start()
	addr := "192.0.2.1"
	s.expectA("www.t.test", addr, "start")
	for i, tc := range []struct{ name, text string }{
		{"empty", ""},
		{"comments only", "# nothing here yet\n"},
		{"zones: alone", "zones:\n"},
	} {
		failure := fmt.Sprintf("failure 2 (%s save of a zone file)", tc.name)
		before := s.status()
		s.writeInPlace("zones/t.yaml", tc.text)
		s.waitProcessed(before, "t.yaml", failure)
		s.expectA("www.t.test", addr, failure+" withdrew t.test")
		s.waitInError("t.yaml", "last good copy", failure)

		before = s.status()
		s.save("zones/t.yaml", "zones:\n  t.test: [\n")
		s.waitProcessed(before, "t.yaml", failure)
		s.expectA("www.t.test", addr, failure+", then a broken save, withdrew t.test")

		addr = fmt.Sprintf("192.0.2.%d", 2+i)
		s.save("zones/t.yaml", zoneYAML("t.test", addr))
		s.waitA("www.t.test", addr, failure+", then a good save: not served")
		s.waitNotInError("t.yaml", failure+", then a good save")
	}
	s.expectA("www.other.test", "192.0.2.100", "failure 2: an unrelated zone")
}

// Issue #13, failure 2, as editors cause it: a save in place truncates the
// file, pauses and writes. Under queries, no answer for the zone may be
// anything but its data.
func TestInPlaceSavesUnderQueries(t *testing.T) {
	const saves = 30
	s := newSite(t, map[string]string{"zones/t.yaml": zoneYAML("t.test", "192.0.2.1", `"@": {txt: "v0"}`)})
	s.start()
	s.expectA("www.t.test", "192.0.2.1", "start")

	var asked, wrong atomic.Int64
	var first atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			asked.Add(1)
			if got := s.answer("www.t.test"); got != "NOERROR 192.0.2.1" {
				wrong.Add(1)
				first.CompareAndSwap(nil, got)
			}
		}
	})
	for i := 1; i <= saves; i++ {
		f, err := os.OpenFile(s.path("zones/t.yaml"), os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(15 * time.Millisecond) // the editor's pause between truncate and write
		_, err = f.WriteString(zoneYAML("t.test", "192.0.2.1", fmt.Sprintf(`"@": {txt: "v%d"}`, i)))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // the user's pause between saves
	}
	waitTXT(t, s, "t.test", fmt.Sprintf("v%d", saves))
	close(stop)
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Fatalf("failure 2 (truncate, pause 15 ms, write): %d of %d answers for www.t.test were not NOERROR 192.0.2.1 during %d saves; the first: %q",
			n, asked.Load(), saves, first.Load())
	}
}

// waitTXT waits until name's TXT is exactly text.
func waitTXT(t *testing.T, s *site, name, text string) {
	t.Helper()
	end := time.Now().Add(deadline)
	var got string
	for time.Now().Before(end) {
		r, err := s.srv.Query(name, dns.TypeTXT)
		got = fmt.Sprint(err)
		if err == nil {
			got = summary(r)
			if len(r.Answer) == 1 {
				if txt, ok := r.Answer[0].(*dns.TXT); ok && len(txt.Txt) == 1 && txt.Txt[0] == text {
					return
				}
				got += " " + r.Answer[0].String()
			}
		}
		time.Sleep(20 * time.Millisecond) // between polls
	}
	t.Fatalf("%s TXT never became %q; last %s%s", name, text, got, s.statusNote())
}
