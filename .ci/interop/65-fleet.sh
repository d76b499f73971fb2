#!/usr/bin/env bash
# Issue #17, a fleet of real Knot secondaries (internal/e2e/fleet*_test.go):
# - TestFleetScenario: three secondaries that know only the primary, the
#   key and the catalog's name follow mxdns: with transfer_view: current
#   a link going down changes their MX and A answers within interval x
#   fall + 5 s and back; edits reach all three within 5 s by IXFR, also
#   after mxdns restarts, a signed zone's too, which then validates in
#   unbound at a secondary;
# - TestFleetCatalog: the hundred zones of a generated set, a zone file
#   added or deleted within 5 s, a group's template, a restart that
#   changes nothing in the catalog;
# - TestFleetIXFR: the transferred size of an IXFR is the difference's,
#   and the signed copy passes kzonecheck;
# - TestFleetTransferView: one secondary follows a link down and back.
# The harness's Knot secondary is proven against a primary of its own.
# make test skips these where Knot or unbound is missing; here they are
# required.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need knotd knot
need kdig knot-dnsutils
need kzonecheck knot-dnssecutils
need unbound unbound
need unbound-control unbound
MXDNS_REQUIRE_KNOT=1 MXDNS_REQUIRE_UNBOUND=1 go test -count=1 -timeout 300s -run Fleet ./internal/e2e
MXDNS_REQUIRE_KNOT=1 go test -count=1 -run KnotSecondary ./internal/harness
passed=1
finish
