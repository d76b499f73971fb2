package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/mailcheck"
	"github.com/mxdns/mxdns/route"
)

// routeFlags describes route's flags for -h and the man page; route
// parses its arguments by hand.
func routeFlags(w io.Writer) *flag.FlagSet {
	fs := newFlagSet("route", w)
	fs.Bool("json", false, "print the delivery plan as JSON (the same as -format json)")
	fs.String("format", "text", "output `format`: text or json")
	fs.Bool("check", false, "also check the domain's mail records as receivers and the online checkers do: SPF through every include, DMARC, MTA-STS, TLS-RPT, BIMI, the MX hosts")
	fs.String("resolver", "", "with -check: the resolver `address` asked what SERVER does not answer for (host or host:port; default the first nameserver of /etc/resolv.conf); without @SERVER, asked everything")
	fs.Bool("smtp", false, "with -check: connect to every MX host's port 25 and try STARTTLS")
	fs.Duration("timeout", 30*time.Second, "give up after this long (with -check, 2m by default)")
	return fs
}

// routeUsage is the synopsis, for a usage error.
func routeUsage() string {
	return "usage: " + synopsis("route", routeFlags(io.Discard)) + "\n"
}

const defaultRouteServer = "127.0.0.1:5353"

// routeArgs is route's command line.
type routeArgs struct {
	domain, server, resolver string
	json, check, smtp        bool
	timeout                  time.Duration
}

// parseRouteArgs parses by hand: dig-style "@server" and flags may come
// in any order, which the flag package does not allow.
func parseRouteArgs(args []string, stderr io.Writer) (*routeArgs, error) {
	ra := &routeArgs{}
	usageErr := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "mxdns route: "+format+"\n\n%s", append(a, routeUsage())...)
		return &exitError{code: 2}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		// value gives the flag's value, written after "=" or as the next argument.
		next := func() (string, bool) {
			if hasValue {
				return value, true
			}
			if i+1 < len(args) {
				i++
				return args[i], true
			}
			return "", false
		}
		switch {
		case !strings.HasPrefix(a, "-"):
		case name == "h" || name == "help":
			routeFlags(stderr).Usage()
			return nil, &exitError{code: 0}
		case name == "json" || name == "check" || name == "smtp":
			if hasValue {
				return nil, usageErr("-%s takes no value", name)
			}
			ra.json = ra.json || name == "json"
			ra.check = ra.check || name == "check"
			ra.smtp = ra.smtp || name == "smtp"
			continue
		case name == "format":
			v, ok := next()
			if !ok || v != "text" && v != "json" {
				return nil, usageErr("-format must be text or json, not %q", v)
			}
			ra.json = v == "json"
			continue
		case name == "resolver":
			v, ok := next()
			if !ok || v == "" {
				return nil, usageErr("-resolver wants an address")
			}
			ra.resolver = v
			continue
		case name == "timeout":
			v, ok := next()
			d, err := time.ParseDuration(v)
			if !ok || err != nil || d <= 0 {
				return nil, usageErr("-timeout wants a duration such as 30s, not %q", v)
			}
			ra.timeout = d
			continue
		default:
			return nil, usageErr("unknown flag %s", a)
		}
		switch {
		case strings.HasPrefix(a, "@") && ra.server == "":
			ra.server = serverAddr(a[1:])
		case ra.domain == "":
			ra.domain = a
		default:
			return nil, usageErr("unexpected argument %q", a)
		}
	}
	if ra.domain == "" {
		fmt.Fprint(stderr, routeUsage())
		return nil, &exitError{code: 2}
	}
	if !ra.check && (ra.smtp || ra.resolver != "") {
		return nil, usageErr("-smtp and -resolver go with -check")
	}
	if ra.timeout == 0 {
		ra.timeout = 30 * time.Second
		if ra.check {
			ra.timeout = mailRunTimeout
		}
	}
	return ra, nil
}

func runRoute(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ra, err := parseRouteArgs(args, stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ra.timeout)
	defer cancel()
	server, ex := ra.server, route.Exchange(nil)
	if ra.check {
		// What the server asked does not answer for (an authoritative
		// server refuses the names of others) the resolver does.
		addr, err := resolverAddr(ra.resolver)
		if err != nil {
			fmt.Fprintf(stderr, "mxdns route: %v\n", err)
			return &exitError{code: 1}
		}
		if err := probeResolver(ctx, addr); err != nil {
			fmt.Fprintf(stderr, "mxdns route: %v; give another with -resolver ADDR\n", err)
			return &exitError{code: 1}
		}
		ex = route.Client(addr, mailQueryTimeout)
		if server == "" {
			server = addr
		} else {
			ex = orRefused(route.Client(server, 3*time.Second), ex)
		}
	}
	if server == "" {
		server = defaultRouteServer
	}
	plan, err := route.Resolve(ctx, route.Client(server, 3*time.Second), ra.domain)
	if err != nil {
		return fmt.Errorf("route %s via %s: %w", ra.domain, server, err)
	}
	if !ra.check {
		if ra.json {
			return writeJSON(stdout, plan)
		}
		return route.WriteText(stdout, plan)
	}
	opts := mailOptions(ex, ra.smtp, "")
	fs := mailcheck.Check(ctx, opts, []mailcheck.Domain{{Name: ra.domain, PlanShown: true}})
	failed := false
	for _, f := range fs {
		failed = failed || f.Severity == mailcheck.Error
	}
	if ra.json {
		out := struct {
			*route.Plan
			Findings []checkFinding `json:"findings"`
		}{plan, []checkFinding{}}
		for _, f := range fs {
			out.Findings = append(out.Findings, checkFinding{Name: strings.TrimSuffix(f.Name, "."), Check: f.Check, Severity: f.Severity.String(), Message: f.Msg})
		}
		if err := writeJSON(stdout, out); err != nil {
			return err
		}
	} else {
		if err := route.WriteText(stdout, plan); err != nil {
			return err
		}
		if len(fs) == 0 {
			fmt.Fprintf(stdout, "checks: nothing found\n")
		} else {
			fmt.Fprintf(stdout, "checks:\n")
		}
		for _, f := range fs {
			fmt.Fprintln(stdout, f.String())
		}
	}
	if failed {
		return &exitError{code: 1}
	}
	return nil
}

// orRefused asks first, and second what first refuses.
func orRefused(first, second route.Exchange) route.Exchange {
	return func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
		r, err := first(ctx, q)
		if err == nil && r.Rcode == dns.RcodeRefused {
			return second(ctx, q)
		}
		return r, err
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// serverAddr adds port 53 to a server written without one; IPv6 may be
// written bare (::1) or bracketed ([::1]:5353).
func serverAddr(s string) string {
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), "53")
}
