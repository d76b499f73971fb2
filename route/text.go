package route

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText prints the plan for people: groups in the order a sender tries
// them, then every warning.
func WriteText(w io.Writer, p *Plan) error {
	b := &strings.Builder{}
	d := strings.TrimSuffix(p.Domain, ".")
	if len(p.CNAME) > 0 {
		fmt.Fprintf(b, "%s is an alias: %s\n", d, strings.Join(trim(p.CNAME), " -> "))
	}
	switch p.Status {
	case StatusNXDomain:
		fmt.Fprintf(b, "%s does not exist (NXDOMAIN): mail to it bounces at once\n", d)
	case StatusNullMX:
		fmt.Fprintf(b, "%s accepts no mail (null MX, RFC 7505): senders bounce at once\n", d)
	case StatusNoRoute:
		fmt.Fprintf(b, "%s has no MX and no address: mail to it bounces (RFC 5321 §5.1)\n", d)
	case StatusImplicit:
		fmt.Fprintf(b, "%s has no MX: mail goes to its own address (implicit MX, RFC 5321 §5.1)\n", d)
	case StatusMX:
		fmt.Fprintf(b, "%s: senders try, in order (RFC 5321 §5.1):\n", d)
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for i, g := range p.Groups {
		if p.Status == StatusMX {
			if len(g.Hosts) == 1 {
				fmt.Fprintf(tw, "  %d. preference %d\n", i+1, g.Preference)
			} else {
				fmt.Fprintf(tw, "  %d. preference %d, random among %d hosts\n", i+1, g.Preference, len(g.Hosts))
			}
		}
		for _, h := range g.Hosts {
			name := strings.TrimSuffix(h.Name, ".")
			if len(h.CNAME) > 0 {
				name += " (CNAME to " + strings.Join(trim(h.CNAME), " -> ") + ")"
			}
			fmt.Fprintf(tw, "     %s\n", name)
			switch {
			case h.Unknown:
				fmt.Fprintf(tw, "       addresses not known to this server\n")
			case len(h.Addresses) == 0:
				fmt.Fprintf(tw, "       no address: skipped\n")
			}
			for _, a := range h.Addresses {
				ptr := "no PTR"
				if a.PTRUnknown {
					ptr = "PTR not served here"
				}
				if len(a.PTR) > 0 {
					ptr = "PTR " + strings.Join(trim(a.PTR), ", ")
				}
				fmt.Fprintf(tw, "       %s\t%s\n", a.IP, ptr)
			}
			if h.DANE != nil {
				fmt.Fprintf(tw, "       %s\n", daneLine(h.DANE))
			}
		}
	}
	tw.Flush()
	for _, warning := range p.Warnings {
		fmt.Fprintf(b, "warning: %s\n", warning)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func trim(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.TrimSuffix(n, ".")
	}
	return out
}
