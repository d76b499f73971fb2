#!/usr/bin/env bash
# make chaos: the bad changes of issue #13 (empty, truncated and broken
# saves, kill -9 with a broken file, chmod 000, /dev/zero, a FIFO, an
# alias bomb) under a steady dnsperf load; every answer for a served name
# must stay right, RSS under 512 MiB, serials only increasing. At most
# 3 minutes: the run itself takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need dnsperf dnsperf
timeout 150 make -s chaos
