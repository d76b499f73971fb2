package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mxdns/mxdns/server/ops"
)

const defaultAdmin = "127.0.0.1:9153"

// runStatus fetches the running server's /status and prints it as tables.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", stderr)
	admin := fs.String("admin", defaultAdmin, "admin `address` of the running server (its admin: setting)")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := fetchStatus(ctx, *admin)
	if err != nil {
		return err
	}
	printStatus(stdout, st, time.Now())
	return nil
}

func fetchStatus(ctx context.Context, admin string) (ops.Status, error) {
	var st ops.Status
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	url := "http://" + admin + "/status"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, fmt.Errorf("status: %w (is the server running with admin: %q in its config?)", err, admin)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("status: GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("status: GET %s: bad reply: %w", url, err)
	}
	return st, nil
}

func printStatus(w io.Writer, st ops.Status, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(st.Links) == 0 {
		fmt.Fprintln(tw, "no links")
	} else {
		fmt.Fprintln(tw, "LINK\tSTATE\tSET\tSINCE\tWHY\tCHECK\tLAST CHECK")
		for _, l := range st.Links {
			checks := l.Checks
			if len(checks) == 0 && l.Check != "" { // a server from before links had several checks
				checks = []ops.CheckInfo{{Check: l.Check, Up: true, LastCheck: l.LastCheck}}
			}
			set := l.Manual
			if len(checks) > 1 {
				set += ", " + l.Require
			}
			if len(checks) == 0 {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t-\t-\n", l.Name, l.State, set, ago(now, l.Since), l.Why)
			}
			for i, c := range checks {
				check := c.Check
				if len(checks) > 1 && !c.Up {
					check += " (down)"
				}
				if i == 0 {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Name, l.State, set, ago(now, l.Since), l.Why, check, lastCheck(c.LastCheck, l.Why, now))
				} else {
					fmt.Fprintf(tw, "\t\t\t\t\t%s\t%s\n", check, lastCheck(c.LastCheck, l.Why, now))
				}
			}
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "ZONE\tSERIAL\tFILE")
	for _, z := range st.Zones {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", z.Origin, z.Serial, z.File)
	}
	tw.Flush()
	printSigned(w, st, now)

	if len(st.FilesInError) > 0 {
		fmt.Fprintf(w, "\nfiles in error:\n")
		for _, f := range st.FilesInError {
			fmt.Fprintf(w, "  %s: serving %s since %s\n    %s\n", f.File, f.Serving, ago(now, f.Since), f.Error)
		}
	}

	r := st.Reload
	result := "ok"
	if !r.OK {
		result = "FAILED, last good copies kept"
	}
	fmt.Fprintf(w, "\nlast reload: %s, %s (%d reloads, %d failed)\n", result, ago(now, r.LastTime), r.Count, r.Failures)
	if r.LastError != "" {
		fmt.Fprintf(w, "last reload error:\n%s\n", r.LastError)
	}
	if len(st.Warnings) > 0 {
		fmt.Fprintf(w, "\n%s:\n", plural(len(st.Warnings), "warning"))
		for _, wn := range st.Warnings {
			fmt.Fprintf(w, "%s: %s\n", wn.At, wn.Warning)
		}
	}
}

// lastCheck is a check's latest probe: its verdict, latency, when, and
// its result unless the link's why already says it (then a
// certificate's expiry, which the result would have named).
func lastCheck(c *ops.CheckStatus, why string, now time.Time) string {
	if c == nil {
		return "-"
	}
	verdict := "fail"
	if c.OK {
		verdict = "ok"
	}
	last := fmt.Sprintf("%s %.1fms, %s", verdict, c.LatencyMS, ago(now, c.Time))
	if c.Result != why {
		last += ": " + c.Result
	}
	if c.CertExpiry != nil && c.Result == why {
		// The result, which names the certificate's state, is not shown.
		last += fmt.Sprintf(", certificate until %s", c.CertExpiry.Local().Format(time.DateOnly))
	}
	return last
}

// printSigned lists the signed zones: their keys, how long the
// signatures served last, and the next key event.
func printSigned(w io.Writer, st ops.Status, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := false
	for _, z := range st.Zones {
		d := z.DNSSEC
		if d == nil {
			continue
		}
		if !header {
			fmt.Fprintln(tw, "\nSIGNED ZONE\tKEYS\tSIGNATURES EXPIRE\tNEXT KEY EVENT")
			header = true
		}
		var keys []string
		for _, k := range d.Keys {
			keys = append(keys, fmt.Sprintf("%d %s (%s)", k.Tag, k.Role, k.Signs))
		}
		expiry, next := "-", "none"
		if !d.SignatureExpiry.IsZero() {
			expiry = "not before " + d.SignatureExpiry.Local().Format(time.DateTime)
		}
		if !d.NextKeyEvent.IsZero() {
			next = d.NextKeyEvent.Local().Format(time.DateTime)
		}
		if d.WaitingForDS {
			next = "waiting for the parent's DS (mxdns dnssec ds-seen)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", z.Origin, strings.Join(keys, ", "), expiry, next)
	}
	tw.Flush()
}

// ago renders t as a clock time and how long ago it was.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("%s (%s ago)", t.Local().Format("15:04:05"), d)
}
