#!/usr/bin/env bash
# Secondaries that learn every zone from mxdns's catalog zone (RFC 9432,
# issue #17): three real Knot secondaries, told only the primary, the key
# and the catalog's name, serve the hundred zones of a generated set with
# mxdns's serials; a zone file saved is served by all three within 5 s,
# one deleted is dropped within 5 s, a group's zones get its template, and
# a restart of mxdns changes nothing in the catalog
# (internal/e2e/fleet_test.go); with transfer_view: current a secondary's
# MX and A answers follow a link down and back (fleetview_test.go). The Knot secondary of the harness is
# proven against a primary of its own (internal/harness). make test skips
# these where Knot is missing; here they are required.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need knotd knot
need kdig knot-dnsutils
MXDNS_REQUIRE_KNOT=1 go test -count=1 -run Fleet ./internal/e2e
MXDNS_REQUIRE_KNOT=1 go test -count=1 -run KnotSecondary ./internal/harness
passed=1
finish
