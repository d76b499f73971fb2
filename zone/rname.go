package zone

// defaultRName is the SOA RNAME of a zone whose soa: gives none. A
// forward zone's is hostmaster at its apex. A reverse zone's would be
// hostmaster.2.0.192.in-addr.arpa., a mailbox nobody reads: it takes the
// RNAME of the forward zone its first NS lives in, served here, or else
// hostmaster at the parent of that NS (ns1.example.com. gives
// hostmaster.example.com.). zoneOf finds a served zone by origin.
func defaultRName(pz *parsedZone, zoneOf func(origin string) *parsedZone) string {
	own := "hostmaster." + pz.origin
	if !isReverse(pz.origin) || len(pz.ns) == 0 {
		return own
	}
	ns := pz.ns[0].name
	for n := ns; n != "" && n != "."; n = parentName(n) {
		if fz := zoneOf(n); fz != nil && !isReverse(fz.origin) {
			if fz.soa.rname != nil {
				return fz.soa.rname.name
			}
			return "hostmaster." + fz.origin
		}
	}
	if p := parentName(ns); p != "" && p != "." && !isReverse(p) {
		return "hostmaster." + p
	}
	return own
}

// staleRNames lists the reverse zones not rebuilt whose default RNAME
// would now differ: the forward zone their NS lives in was added, removed
// or changed its rname.
func staleRNames(all []defined, zones map[string]*zoneData, built map[string]bool, zoneOf func(string) *parsedZone) []string {
	var out []string
	for _, d := range all {
		o := d.pz.origin
		if built[o] || !isReverse(o) || d.pz.soa.rname != nil {
			continue
		}
		if z := zones[o]; z != nil && z.rname != defaultRName(d.pz, zoneOf) {
			out = append(out, o)
		}
	}
	return out
}
