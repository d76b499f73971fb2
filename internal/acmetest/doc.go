// Package acmetest holds the tests of dynamic updates with the clients
// people use: nsupdate (BIND) and knsupdate (Knot) add and delete a TXT
// record, and lego obtains a certificate from Pebble, the ACME test
// server, through mxdns's updates, all against the real binary on
// loopback.
//
// Pebble and lego are built from the module in tools/, which has a
// go.mod of its own: neither is ever a dependency of the mxdns binary.
// Where they cannot be built (no network and no module cache), or
// nsupdate or knsupdate is missing, the tests skip, unless
// MXDNS_REQUIRE_ACME=1, as CI sets it (.ci/interop/75-acme.sh).
package acmetest
