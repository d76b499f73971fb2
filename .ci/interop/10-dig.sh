#!/usr/bin/env bash
# The example config answers dig as README.md shows.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
start_server

expect "MX" "+short example.com MX" <<'X'
10 mx1.example.com.
20 mx2.example.com.
X
expect "A" "+short mx1.example.com A" <<'X'
203.0.113.25
X
expect "SRV" "+short _submission._tcp.example.com SRV" <<'X'
0 1 587 mx1.example.com.
X
expect "PTR" "+short -x 203.0.113.25" <<'X'
mx1.example.com.
X
expect_header "NXDOMAIN" "+norecurse nope.example.com A" "status=NXDOMAIN flags=qr aa"
expect "TCP MX" "+tcp +short example.com MX" <<'X'
10 mx1.example.com.
20 mx2.example.com.
X
expect_header "flags: AA set, RD echoed, RA clear" "example.com MX" "status=NOERROR flags=qr aa rd"

finish
