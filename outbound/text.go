package outbound

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText prints the report for people: one line per sending address,
// the HELO names' addresses and the domain's DMARC, then every warning.
// source says where the answers came from ("our data (config.yaml)",
// "127.0.0.1:53").
func WriteText(w io.Writer, r *Report, source string) error {
	b := &strings.Builder{}
	if r.Domain != "" {
		fmt.Fprintf(b, "Mail from %s sent over each link, as %s shows it:\n\n", bare(r.Domain), source)
	} else {
		fmt.Fprintf(b, "Mail sent over each link, as %s shows it (name a DOMAIN for its SPF and DMARC):\n\n", source)
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	head := "LINK\tSENDS FROM\tPTR\tHELO\tFCrDNS"
	if r.Domain != "" {
		head += "\tSPF\tDMARC"
	}
	fmt.Fprintln(tw, head)
	for _, l := range r.Links {
		for _, a := range l.Addresses {
			ptr := strings.Join(trim(a.PTR), ", ")
			switch {
			case a.PTRUnknown:
				ptr = "not served here"
			case ptr == "":
				ptr = "none"
			}
			fcrdns := "ok"
			switch {
			case l.HELOUnknown:
				fcrdns = "unknown"
			case !a.FCrDNS:
				fcrdns = "FAILS"
			}
			line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", l.Name, a.IP, ptr, bare(l.HELO), fcrdns)
			if r.Domain != "" {
				line += "\t" + a.SPF + "\t" + a.DMARC
			}
			fmt.Fprintln(tw, line)
		}
	}
	tw.Flush()
	fmt.Fprintln(b)
	seen := make(map[string]bool)
	for _, l := range r.Links {
		if seen[l.HELO] {
			continue
		}
		seen[l.HELO] = true
		addrs := strings.Join(l.HELOAddresses, ", ")
		switch {
		case l.HELOUnknown:
			addrs = "not known to this server"
		case addrs == "":
			addrs = "no address"
		}
		fmt.Fprintf(b, "HELO %s: %s\n", bare(l.HELO), addrs)
	}
	switch {
	case r.Domain == "":
	case r.DMARCUnknown:
		fmt.Fprintf(b, "DMARC of %s: not known to this server\n", bare(r.Domain))
	case r.DMARC == nil:
		fmt.Fprintf(b, "DMARC of %s: none published at _dmarc.%s\n", bare(r.Domain), bare(r.Domain))
	case r.DMARC.Org != "":
		fmt.Fprintf(b, "DMARC of %s: policy %s, from the record of its organizational domain %s (its sp=, else p=); passes by SPF where SPF passes (envelope sender and From %s); elsewhere only DKIM can make it pass\n",
			bare(r.Domain), r.DMARC.Policy, bare(r.DMARC.Org), bare(r.Domain))
	default:
		fmt.Fprintf(b, "DMARC of %s: p=%s, passes by SPF where SPF passes (envelope sender and From %s); elsewhere only DKIM can make it pass\n",
			bare(r.Domain), r.DMARC.Policy, bare(r.Domain))
	}
	for _, warning := range r.Warnings {
		fmt.Fprintf(b, "warning: %s\n", warning)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
