package server

import "github.com/mxdns/mxdns/zone"

// upLinks derives the up set from the links' manual states and the health
// verdicts seen so far (by link name, so they survive a reload that
// reorders links). A manual state wins; a link with no verdict is up.
func upLinks(links []zone.Link, healthy map[string]bool) zone.LinkSet {
	var up zone.LinkSet
	for i, l := range links {
		if i >= zone.MaxLinks {
			break
		}
		switch l.State {
		case zone.LinkDown:
			continue
		case zone.LinkAuto:
			if ok, seen := healthy[l.Name]; seen && !ok && l.Check != nil {
				continue
			}
		}
		up = up.With(i)
	}
	return up
}
