#!/usr/bin/env bash
# Dynamic updates with the clients people run (internal/acmetest):
# nsupdate and knsupdate add and delete an ACME challenge and are refused
# with the right rcodes; lego's RFC 2136 provider obtains a certificate
# from Pebble, whose resolver is mxdns, across a restart of mxdns. Pebble
# and lego are built from their own module (internal/acmetest/tools), and
# must build here: MXDNS_REQUIRE_ACME=1 makes a missing tool a failure,
# not a skip. With the module and build caches warm (make test builds the
# tools first) the step takes seconds; cold, a few minutes at most.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need nsupdate bind9-dnsutils
need knsupdate knot-dnsutils
rc=0
MXDNS_REQUIRE_ACME=1 go test -count=1 -timeout=5m -v -run 'TestUpdateClients|TestLegoObtainsACertificateThroughMxdns' \
	./internal/acmetest >"$work/acme.log" 2>&1 || rc=$?
grep -E '^(=== RUN|--- |    --- |PASS|FAIL|ok )' "$work/acme.log" || true
if [ "$rc" -ne 0 ]; then
	echo "acme: go test failed ($rc):"
	cat "$work/acme.log"
fi
exit "$rc"
