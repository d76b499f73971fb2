#!/usr/bin/env bash
# mxdns check -resolve against a real resolver: Debian's unbound serves
# the zone files of a fixture world (cmd/mxdns/testdata/mailworld, ten
# domains with known problems, five of them in the configuration checked)
# and the check must print exactly the findings of the golden files, the
# same as against the test's own resolver; the MTA-STS policy, the BIMI
# logo and the MX hosts' SMTP are servers of the test. The harness's
# auth-zone support is checked too. make test skips these where unbound
# is missing; here they are required.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need unbound unbound
need unbound-control unbound
MXDNS_REQUIRE_UNBOUND=1 go test -count=1 -run 'World|MailCheck' ./cmd/mxdns
MXDNS_REQUIRE_UNBOUND=1 go test -count=1 -run 'UnboundAuthZones|UnboundConfig' ./internal/harness
passed=1
finish
