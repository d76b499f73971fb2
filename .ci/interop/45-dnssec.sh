#!/usr/bin/env bash
# A real validating resolver checks mxdns's signatures: Debian's unbound,
# trusting only the DS `mxdns dnssec ds` prints, must return AD=1 for every
# type mail needs, a wildcard, NODATA, NXDOMAIN, an automatic reverse zone
# and link-dependent answers before and after a link fails
# (internal/e2e/dnssec_test.go), and at every step of a ZSK and a CSK
# rollover run on a fast clock (server/rollover_test.go). The resolver
# harness is itself proven against another signer, Knot, with the DS its
# keymgr prints: AD=1 where it should be, SERVFAIL for a wrong anchor
# (internal/harness/unbound_test.go). make test skips these where unbound
# or Knot is missing; here they are required.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need unbound unbound
need unbound-control unbound
need knotd knot
need keymgr knot
MXDNS_REQUIRE_UNBOUND=1 go test -count=1 -run 'Unbound|DNSSEC|DANE|Rollover|Parents' ./internal/... ./server ./route
passed=1
finish
