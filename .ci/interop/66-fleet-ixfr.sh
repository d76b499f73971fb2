#!/usr/bin/env bash
# A real Knot secondary follows mxdns by IXFR (internal/e2e/fleetixfr_test.go):
# it transfers the zones whole once; an edit of one record reaches it by
# NOTIFY and an incremental IXFR, a small fraction of the zone, within 5 s;
# after mxdns restarts the next edit still does, from the journal in the
# state directory; and a signed zone follows by IXFR too, its copy on Knot
# passing kzonecheck with DNSSEC checks. make test skips it where Knot is
# missing; here it is required. It takes seconds; the timeout bounds a hang.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need knotd knot
need kdig knot-dnsutils
need kzonecheck knot-dnssecutils
MXDNS_REQUIRE_KNOT=1 go test -count=1 -timeout 110s -run FleetIXFR ./internal/e2e
passed=1
finish
