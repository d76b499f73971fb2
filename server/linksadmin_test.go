package server

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server/ops"
)

func TestAdminStatus(t *testing.T) {
	e := startLinks(t)
	e.reload(strings.Replace(e.config, "  wan1:\n", "  wan1:\n    state: down\n", 1))
	e.waitLink("wan1", false, eventWait)

	resp, err := http.Get("http://" + e.s.AdminAddr().String() + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, ct)
	}
	var st ops.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if len(st.Links) != 2 {
		t.Fatalf("links %+v", st.Links)
	}
	w1, w2 := st.Links[0], st.Links[1]
	if w1.Name != "wan1" || w1.State != "down" || w1.Manual != "down" || w1.Why != "state: down in config" || w1.Since.IsZero() {
		t.Errorf("wan1 %+v", w1)
	}
	if w1.Check != "tcp "+e.tcp.Addr || w1.LastCheck == nil || !w1.LastCheck.OK {
		t.Errorf("wan1 check %q, last %+v", w1.Check, w1.LastCheck)
	}
	if w2.Name != "wan2" || w2.State != "up" || w2.Manual != "auto" || w2.LastCheck == nil || w2.LastCheck.Result != "http 200" {
		t.Errorf("wan2 %+v %+v", w2, w2.LastCheck)
	}
	if len(st.Zones) != 1 || st.Zones[0].Origin != "example.com." || st.Zones[0].Serial == 0 {
		t.Errorf("zones %+v", st.Zones)
	}
	if !st.Reload.OK || st.Reload.Count != 1 || st.Reload.LastError != "" {
		t.Errorf("reload %+v", st.Reload)
	}

	t.Log("a failed reload shows in the status; the admin server moves with its address")
	writeFile(t, e.path, e.config+"      broken: {a: nope}\n")
	e.s.Reload()
	<-e.reloads
	if st := e.s.Status(); st.Reload.OK || st.Reload.Failures != 1 || !strings.Contains(st.Reload.LastError, "config.yaml:") {
		t.Errorf("reload after failure %+v", st.Reload)
	}
	old := e.s.AdminAddr().String()

	// An admin address that cannot be bound is an error of the reload; the
	// old admin server keeps serving.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	writeFile(t, e.path, strings.Replace(e.config, `admin: "127.0.0.1:0"`, `admin: "`+taken.Addr().String()+`"`, 1))
	e.s.Reload()
	if r := <-e.reloads; r.Err == nil || !strings.Contains(r.Err.Error(), "admin: listen tcp "+taken.Addr().String()) {
		t.Errorf("reload onto a taken admin address: %v", r.Err)
	}
	if resp, err := http.Get("http://" + old + "/status"); err != nil {
		t.Errorf("old admin server after a failed move: %v", err)
	} else {
		resp.Body.Close()
	}
	e.reload(strings.Replace(e.config, `admin: "127.0.0.1:0"`, `admin: "127.0.0.2:0"`, 1))
	if a := e.s.AdminAddr(); a == nil || !strings.HasPrefix(a.String(), "127.0.0.2:") {
		t.Fatalf("admin at %v after moving", a)
	}
	if _, err := http.Get("http://" + old + "/status"); err == nil {
		t.Error("old admin address still answers")
	}
	e.reload(strings.Replace(e.config, "admin: \"127.0.0.1:0\"\n", "", 1))
	if a := e.s.AdminAddr(); a != nil {
		t.Errorf("admin at %v after removing it", a)
	}
}

func parseRRs(t *testing.T, owner string, short []string) []dns.RR {
	var out []dns.RR
	for _, s := range short {
		f := strings.SplitN(s, " ", 2)
		rr, err := dns.NewRR(owner + " " + f[0] + " IN " + f[1])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rr)
	}
	return out
}

// TestAdminMetricsShowLinks scrapes /metrics on the admin address and
// finds each link's state and its health-check latencies.
func TestAdminMetricsShowLinks(t *testing.T) {
	e := startLinks(t)
	e.reload(strings.Replace(e.config, "  wan1:\n", "  wan1:\n    state: down\n", 1))
	e.waitLink("wan1", false, eventWait)

	want := []string{
		`mxdns_link_up{link="wan1"} 0`,
		`mxdns_link_up{link="wan2"} 1`,
		`mxdns_link_check_duration_seconds_count{link="wan1",result="ok"}`,
		`mxdns_link_check_duration_seconds_count{link="wan2",result="ok"}`,
		"mxdns_rrl_dropped_total 0",
		"mxdns_tcp_rejected_total 0",
	}
	// A check is counted when it ends: on a busy machine wan2's first may
	// still be running. Poll until every line is there.
	var missing []string
	for deadline := time.Now().Add(eventWait); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + e.s.AdminAddr().String() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("status %d, %v", resp.StatusCode, err)
		}
		missing = missing[:0]
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, m := range missing {
		t.Errorf("/metrics lacks %s", m)
	}
}
