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

	"github.com/mxdns/mxdns/route"
)

// routeFlags describes route's one flag for -h and the man page; route
// parses its arguments by hand.
func routeFlags(w io.Writer) *flag.FlagSet {
	fs := newFlagSet("route", w)
	fs.Bool("json", false, "print the delivery plan as JSON")
	return fs
}

// routeUsage is the synopsis, for a usage error.
func routeUsage() string {
	return "usage: " + synopsis("route", routeFlags(io.Discard)) + "\n"
}

const defaultRouteServer = "127.0.0.1:5353"

// runRoute parses its arguments by hand: dig-style "@server" and flags may
// come in any order, which the flag package does not allow.
func runRoute(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var domain, server string
	asJSON := false
	for _, a := range args {
		switch {
		case a == "-json" || a == "--json":
			asJSON = true
		case a == "-h" || a == "-help" || a == "--help":
			routeFlags(stderr).Usage()
			return nil
		case strings.HasPrefix(a, "@") && server == "":
			server = serverAddr(a[1:])
		case strings.HasPrefix(a, "-"):
			fmt.Fprintf(stderr, "mxdns route: unknown flag %s\n\n%s", a, routeUsage())
			return &exitError{code: 2}
		case domain == "":
			domain = a
		default:
			fmt.Fprintf(stderr, "mxdns route: unexpected argument %q\n\n%s", a, routeUsage())
			return &exitError{code: 2}
		}
	}
	if domain == "" {
		fmt.Fprint(stderr, routeUsage())
		return &exitError{code: 2}
	}
	if server == "" {
		server = defaultRouteServer
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	plan, err := route.Resolve(ctx, route.Client(server, 3*time.Second), domain)
	if err != nil {
		return fmt.Errorf("route %s via %s: %w", domain, server, err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(plan)
	}
	return route.WriteText(stdout, plan)
}

// serverAddr adds port 53 to a server written without one; IPv6 may be
// written bare (::1) or bracketed ([::1]:5353).
func serverAddr(s string) string {
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), "53")
}
