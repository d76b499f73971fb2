#!/usr/bin/env bash
# Issue #21, the status page (GET / on the admin address) read in
# Debian's headless Chromium: the binary runs with two links checked by
# TCP; one target closes and a zone file gets a YAML error; the page
# must show the link down, the MX withdrawn with it and why, and the
# file's error at file:line:col. make test skips this where chromium is
# missing; here it is required.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need chromium chromium
MXDNS_REQUIRE_CHROMIUM=1 go test -count=1 -timeout 300s -run 'StatusPageInChromium' ./internal/e2e
passed=1
finish
