package acmetest

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// A dynamic update client as an ACME hook runs it: a script on its input,
// the key on its command line.
type updateClient struct {
	name, pkg string
	// tcp is the flag that sends the update over TCP.
	tcp string
}

var updateClients = []updateClient{
	{name: "nsupdate", pkg: "bind9-dnsutils", tcp: "-v"},
	{name: "knsupdate", pkg: "knot-dnsutils", tcp: "-v"},
}

// send runs the client with script after server and zone lines, signed
// with key (alg:name:secret) unless it is "".
func (c updateClient) send(t *testing.T, path string, s *site, key string, tcp bool, script string) (string, error) {
	t.Helper()
	var args []string
	if key != "" {
		args = append(args, "-y", key)
	}
	if tcp {
		args = append(args, c.tcp)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdin = strings.NewReader(fmt.Sprintf("server 127.0.0.1 %d\nzone example.test.\n%s\nsend\n", s.Port, script))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Each client adds and deletes a challenge, over UDP and TCP, and sees
// each refusal with the rcode (and TSIG error) RFC 2136 and RFC 8945 give.
func TestUpdateClients(t *testing.T) {
	for _, c := range updateClients {
		t.Run(c.name, func(t *testing.T) {
			path := need(t, c.name, c.pkg)
			s := startSite(t)
			key := "hmac-sha256:" + acmeKey + ":" + acmeSecret
			name := "_acme-challenge.mx1.example.test."
			for _, tcp := range []bool{false, true} {
				token := fmt.Sprintf("%s-tcp-%v", c.name, tcp)
				if out, err := c.send(t, path, s, key, tcp, "update add "+name+" 60 TXT \""+token+"\""); err != nil {
					t.Fatalf("add (tcp %v): %v\n%s", tcp, err, out)
				}
				if got := txt(t, s, name); !slices.Equal(got, []string{token}) {
					t.Fatalf("after the add (tcp %v): TXT %q, want %q", tcp, got, token)
				}
				if out, err := c.send(t, path, s, key, tcp, "update delete "+name+" TXT \""+token+"\""); err != nil {
					t.Fatalf("delete (tcp %v): %v\n%s", tcp, err, out)
				}
				if got := txt(t, s, name); len(got) != 0 {
					t.Fatalf("after the delete (tcp %v): TXT %q, want none", tcp, got)
				}
			}

			add := "update add " + name + " 60 TXT \"refused\""
			for _, r := range []struct {
				what, key, script string
				want              []string // in the client's output
			}{
				{"unsigned", "", add, []string{"REFUSED"}},
				{"a wrong secret", "hmac-sha256:" + acmeKey + ":" + otherSecret, add, []string{"BADSIG"}},
				{"a key the server does not know", "hmac-sha256:nosuch:" + acmeSecret, add, []string{"BADKEY"}},
				{"a key for transfers only", "hmac-sha256:xfr:" + xfrSecret, add, []string{"REFUSED"}},
				{"a name not allowed", key, "update add www.example.test. 60 TXT \"x\"", []string{"REFUSED"}},
				{"a type not allowed", key, "update add " + name + " 60 CAA 0 issue \"ca.example\"", []string{"REFUSED"}},
				{"a name with a CNAME", key, "update add _acme-challenge.www.example.test. 60 TXT \"x\"", []string{"REFUSED"}},
			} {
				out, err := c.send(t, path, s, r.key, false, r.script)
				if err == nil {
					t.Errorf("%s: the client says it succeeded:\n%s", r.what, out)
				}
				for _, w := range r.want {
					if !strings.Contains(out, w) {
						t.Errorf("%s: the client's output lacks %s:\n%s", r.what, w, out)
					}
				}
				if c.name == "nsupdate" && slices.Contains(r.want, "BADSIG") && !strings.Contains(out, "NOTAUTH(BADSIG)") {
					t.Errorf("%s: want NOTAUTH with TSIG error BADSIG:\n%s", r.what, out)
				}
				if got := txt(t, s, name); len(got) != 0 {
					t.Errorf("%s: refused, yet TXT %q is served", r.what, got)
				}
			}
			for _, reason := range []string{"not signed", "bad TSIG", "no rule of updates", "not one the key may update",
				"may not update records of that type", "cannot hold the record"} {
				waitFor(t, "log: update refused: "+reason, func() bool { return strings.Contains(s.Log(), reason) })
			}
		})
	}
}
