#!/usr/bin/env bash
# The Grafana dashboard (contrib/grafana/mxdns.json): every query parsed
# by Prometheus's promtool, besides the checks make test runs (structure,
# metric names against a real server's /metrics). make test skips the
# promtool check where it is missing; here it is required.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need promtool prometheus
MXDNS_REQUIRE_PROMTOOL=1 go test -count=1 ./contrib/grafana
passed=1
finish
