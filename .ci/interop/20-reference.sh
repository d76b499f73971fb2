#!/usr/bin/env bash
# mxdns answers as Knot DNS and NSD do when they serve the same records as
# RFC 1035 zone files (cmd/mxdns-compare; documented differences in its
# allow.go and in CONTRIBUTING.md, "The reference comparison").
set -euo pipefail
cd "$(dirname "$0")/../.."
# The daemons live in sbin, which a non-root PATH may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
. .ci/lib.sh
need nsd nsd
need knotd knot

go build -o bin/mxdns-compare ./cmd/mxdns-compare
bin/mxdns-compare config.example.yaml testdata/compare/*.yaml
