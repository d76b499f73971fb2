package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/outbound"
	"github.com/mxdns/mxdns/route"
	"github.com/mxdns/mxdns/zone"
)

// outboundFlags describes outbound's flags for -h and the man page;
// outbound parses its arguments by hand, as route does.
func outboundFlags(w io.Writer) *flag.FlagSet {
	fs := newFlagSet("outbound", w)
	fs.String("config", defaultConfig, "configuration `file`: the links' outbound identities, and the data asked without @SERVER")
	fs.Bool("json", false, "print the report as JSON")
	return fs
}

func outboundUsage() string {
	return "usage: " + synopsis("outbound", outboundFlags(io.Discard)) + "\n"
}

// runOutbound reports, per link, what a receiver sees of mail sent over
// it: from our own data, or with @SERVER as that server answers.
func runOutbound(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var domain, server string
	config := defaultConfig
	asJSON := false
	bad := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "mxdns outbound: "+format+"\n\n%s", append(a, outboundUsage())...)
		return &exitError{code: 2}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-json" || a == "--json":
			asJSON = true
		case a == "-h" || a == "-help" || a == "--help":
			outboundFlags(stderr).Usage()
			return nil
		case a == "-config" || a == "--config":
			if i+1 == len(args) {
				return bad("-config wants a file")
			}
			i++
			config = args[i]
		case strings.HasPrefix(a, "-config=") || strings.HasPrefix(a, "--config="):
			_, config, _ = strings.Cut(a, "=")
		case strings.HasPrefix(a, "@") && server == "":
			server = serverAddr(a[1:])
		case strings.HasPrefix(a, "-"):
			return bad("unknown flag %s", a)
		case domain == "":
			domain = a
		default:
			return bad("unexpected argument %q", a)
		}
	}
	snap, diags := zone.Load(config, nil)
	if snap == nil {
		for _, d := range diags.Errors() {
			fmt.Fprintln(stderr, d.String())
		}
		return fmt.Errorf("outbound: %s does not load", config)
	}
	var ids []outbound.Identity
	for _, l := range snap.Settings().Links {
		if addrs := l.Outbound.Addrs(); len(addrs) > 0 {
			ids = append(ids, outbound.Identity{Link: l.Name, HELO: l.Outbound.HELO, Addrs: addrs})
		}
	}
	if len(ids) == 0 {
		return fmt.Errorf("outbound: %s: %w", config, outbound.ErrNoIdentity)
	}
	ex, source := ourData(snap), "our data ("+config+")"
	if server != "" {
		ex, source = route.Client(server, 3*time.Second), server
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rep, err := outbound.Resolve(ctx, ex, ids, domain)
	if err != nil {
		return fmt.Errorf("outbound via %s: %w", source, err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return outbound.WriteText(stdout, rep, source)
}

// ourData answers from the snapshot as the server would, every link up,
// to a query that arrived on no link's address.
func ourData(snap *zone.Snapshot) route.Exchange {
	return func(_ context.Context, q *dns.Msg) (*dns.Msg, error) {
		res := snap.Lookup(q.Question[0], zone.Client{Link: zone.NoLink, Up: zone.AllLinks})
		m := new(dns.Msg)
		m.SetReply(q)
		m.Rcode, m.Authoritative = res.Rcode, res.Authoritative
		m.Answer, m.Ns, m.Extra = res.Answer, res.Ns, res.Extra
		return m, nil
	}
}
