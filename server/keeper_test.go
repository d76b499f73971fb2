package server

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/miekg/dns"
	statedir "github.com/mxdns/mxdns/state"
)

// A restart with a broken file serves its last good copy from the state
// directory and says so in the status (issue #13, failure 3); with Strict
// it refuses to start, as before.
func TestRestartWithBrokenFileServesLastGoodCopy(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "zones"), 0o755)
	good := "zones:\n  a.test:\n    ns: [ns1.example.net.]\n    records:\n      mx1: {a: 192.0.2.1}\n"
	a := filepath.Join(dir, "zones", "a.yaml")
	writeFile(t, a, good)
	config := "listen: [\"127.0.0.1:0\"]\nzone_files: [\"zones/*.yaml\"]\n"
	keeper, err := statedir.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	s, path, _ := startServerWith(t, dir, config, Options{Keeper: keeper})
	stop(t, s)

	writeFile(t, a, "zones:\n  a.test: [\n")
	if _, err := New(Options{Logger: testLogger(t), ConfigPath: path, Keeper: keeper, Strict: true}); err == nil {
		t.Fatal("a strict start served a broken file")
	}
	s, _, _ = startServerWith(t, dir, config, Options{Keeper: keeper})
	if got := rdata(exchange(t, s, "udp", "mx1.a.test.", dns.TypeA)); len(got) != 1 || got[0] != "A 192.0.2.1" {
		t.Errorf("mx1.a.test = %q, want the last good A 192.0.2.1", got)
	}
	if f := s.Status().FilesInError; len(f) != 1 || f[0].File != a || f[0].Serving != "last good copy" {
		t.Errorf("files_in_error = %+v", f)
	}
}
