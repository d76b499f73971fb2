package zone

import (
	"crypto/x509"
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// checks reads a link's check: one mapping, or a list of them.
func (r *reader) checks(n *yaml.Node, what string) []Check {
	if deref(n).Kind != yaml.SequenceNode {
		return []Check{r.check(n, what)}
	}
	items := deref(n).Content
	if len(items) == 0 {
		r.errorf(n, "%s: empty list; want one check or more, or no check: key", what)
		return nil
	}
	out := make([]Check, 0, len(items))
	for _, item := range items {
		out = append(out, r.check(item, what))
	}
	return out
}

// checkKinds names the keys that say what a check probes.
const checkKinds = "tcp: host:port, http: URL, smtp: host:port or file: PATH"

func (r *reader) check(n *yaml.Node, what string) Check {
	c := Check{Interval: defaultCheckInterval, Timeout: defaultCheckTimeout, Rise: 2, Fall: 2}
	var kinds []string // the kinds written, right or wrong
	var riseSet, fallSet bool
	var sourceNode, caNode, insecureNode, startTLSNode *yaml.Node
	startTLSBad := false // written, but neither true nor false: reported there
	kind := func(k string) { kinds = append(kinds, k) }
	r.fields(n, what, map[string]func(*yaml.Node){
		"tcp": func(v *yaml.Node) {
			kind("tcp")
			if s, ok := r.scalar(v, what+" tcp"); ok && r.probeTarget(v, what+" tcp", s) {
				c.TCP = s
			}
		},
		"http": func(v *yaml.Node) {
			kind("http")
			if s, ok := r.scalar(v, what+" http"); ok {
				if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
					r.errorf(v, "%s http %q: want an http:// or https:// URL", what, s)
					return
				}
				c.HTTP = s
			}
		},
		"smtp": func(v *yaml.Node) {
			kind("smtp")
			if s, ok := r.scalar(v, what+" smtp"); ok && r.probeTarget(v, what+" smtp", s) {
				c.SMTP = s
			}
		},
		"file": func(v *yaml.Node) {
			kind("file")
			if s, ok := r.pathValue(v, what+" file", "a file holding up or down"); ok {
				c.File = s
			}
		},
		"starttls": func(v *yaml.Node) {
			startTLSNode = v
			word, ok := r.choice(v, what+" starttls", "true", "false")
			c.StartTLS, startTLSBad = word == "true", !ok
		},
		"insecure": func(v *yaml.Node) { insecureNode, c.Insecure = v, r.boolValue(v, what+" insecure") },
		"ca_file": func(v *yaml.Node) {
			caNode = v
			if s, ok := r.pathValue(v, what+" ca_file", "a PEM file of CA certificates"); ok {
				c.CAFile = s
			}
		},
		"source": func(v *yaml.Node) {
			sourceNode = v
			if s, ok := r.scalar(v, what+" source"); ok {
				a, err := netip.ParseAddr(s)
				if err != nil || a.Zone() != "" {
					r.errorf(v, "%s source %q: want an IP address of this machine, e.g. 192.0.2.1", what, s)
					return
				}
				c.Source = a.Unmap()
			}
		},
		"interval": func(v *yaml.Node) { c.Interval, _ = r.duration(v, what+" interval") },
		"timeout":  func(v *yaml.Node) { c.Timeout, _ = r.duration(v, what+" timeout") },
		"rise":     func(v *yaml.Node) { riseSet, c.Rise = true, int(must(r.uint32Value(v, what+" rise", 1, 100))) },
		"fall":     func(v *yaml.Node) { fallSet, c.Fall = true, int(must(r.uint32Value(v, what+" fall", 1, 100))) },
	})
	if r.probe != nil {
		return c
	}
	switch {
	case len(kinds) == 0 && deref(n).Kind == yaml.MappingNode:
		r.errorf(n, "%s: want %s", what, checkKinds)
	case len(kinds) > 1:
		r.errorf(n, "%s: want one of %s in each check, not %s; write a list of checks for several", what, checkKinds, strings.Join(kinds, " and "))
	}
	if c.File != "" {
		// Another monitor has already decided: its word counts at once.
		if !riseSet {
			c.Rise = 1
		}
		if !fallSet {
			c.Fall = 1
		}
		if sourceNode != nil {
			r.warnf(sourceNode, "%s: source has no effect on a file check, which sends nothing", what)
		}
	}
	// An smtp written wrong was reported where it was written: the TLS
	// keys beside it are not reported again.
	smtp := slices.Contains(kinds, "smtp")
	tlsOnly := func(node *yaml.Node, key string) {
		if node != nil && (!smtp || !c.StartTLS && !startTLSBad) {
			r.errorf(node, "%s: %s is for an smtp check with starttls: true", what, key)
		}
	}
	tlsOnly(caNode, "ca_file")
	tlsOnly(insecureNode, "insecure")
	if startTLSNode != nil && !smtp && len(kinds) == 1 {
		r.errorf(startTLSNode, "%s: starttls is for an smtp check", what)
	}
	if c.Insecure && c.CAFile != "" {
		r.errorf(caNode, "%s: ca_file and insecure: true together; insecure skips the verification ca_file is for", what)
	} else if c.CAFile != "" && c.SMTP != "" && c.StartTLS {
		r.caFile(caNode, what, c.CAFile)
	}
	if c.Source.IsValid() {
		r.sourceFamily(sourceNode, what, c)
	}
	if c.Timeout > c.Interval && c.Interval > 0 {
		r.errorf(n, "%s: timeout %s is longer than interval %s", what, c.Timeout, c.Interval)
	}
	return c
}

// maxCAFile bounds a ca_file: a bundle of every public root is 200 KiB.
const maxCAFile = 1 << 20

// caFile reports a ca_file that cannot be read or holds no certificate,
// here, at load: found by the check instead, it would fail every
// handshake and take the link, and its MX, down.
func (r *reader) caFile(n *yaml.Node, what, path string) {
	pem, err := readBounded(path, maxCAFile)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once
		}
		r.errorf(n, "%s ca_file %s: %v", what, path, err)
		return
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		r.errorf(n, "%s ca_file %s: want PEM certificates (BEGIN CERTIFICATE), found none", what, path)
	}
}

// sourceFamily reports a source whose family cannot reach the target,
// when the target is written as an address.
func (r *reader) sourceFamily(n *yaml.Node, what string, c Check) {
	host, _, err := net.SplitHostPort(c.TCP + c.SMTP)
	if c.HTTP != "" {
		u, uerr := url.Parse(c.HTTP)
		host, err = "", uerr
		if uerr == nil {
			host = u.Hostname()
		}
	}
	if err != nil {
		return
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return // a name: its addresses of the source's family are used
	}
	if a.Unmap().Is4() != c.Source.Is4() {
		r.errorf(n, "%s: source %s cannot reach %s, an address of the other family", what, c.Source, host)
	}
}

// probeTarget checks a probe's host:port: the host a name or an address, so
// that nothing else (a user or a token before an @) can be written in it
// and shown wherever the check is.
func (r *reader) probeTarget(n *yaml.Node, what, s string) bool {
	if !r.hostPort(n, what, s) {
		return false
	}
	host, _, _ := net.SplitHostPort(s)
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			r.errorf(n, "%s %q: want host:port, the host a name or an address", what, s)
			return false
		}
	}
	if host == "" {
		r.errorf(n, "%s %q: want host:port with a host, e.g. mx1.example.com:25", what, s)
		return false
	}
	return true
}

// pathValue reads a file's path at v, which what names: not empty, made
// absolute by relPath; of says what the file holds, for the error.
func (r *reader) pathValue(v *yaml.Node, what, of string) (string, bool) {
	s, ok := r.scalar(v, what)
	if !ok {
		return "", false
	}
	if s == "" {
		r.errorf(v, "%s: want the path of %s", what, of)
		return "", false
	}
	return r.relPath(s), true
}

// relPath makes a path written in the configuration absolute, relative to
// the configuration's directory.
func (r *reader) relPath(s string) string {
	if filepath.IsAbs(s) {
		return filepath.Clean(s)
	}
	return filepath.Join(filepath.Dir(AbsPath(r.file)), s)
}
