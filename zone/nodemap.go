package zone

// nodeMap is a zone's names. A reverse zone patched after a one-file edit
// shares all but the shards the patch writes with the zone before it.
type nodeMap = cowMap[string, *node]
