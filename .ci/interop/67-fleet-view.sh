#!/usr/bin/env bash
# Link state to the fleet: the real binary with two links whose TCP
# checks the test answers or refuses, transfer_view: current, and NOTIFY
# to a real Knot secondary; when a link goes down Knot's MX and A answers
# change within interval × fall + 5 s, and back within interval × rise +
# 5 s of its recovery, each under a higher serial
# (internal/e2e/fleetview_test.go). make test skips it where Knot is
# missing; here it is required.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need knotd knot
need kdig knot-dnsutils
MXDNS_REQUIRE_KNOT=1 go test -count=1 -run FleetTransferView ./internal/e2e
passed=1
finish
