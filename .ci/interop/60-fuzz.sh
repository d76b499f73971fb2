#!/usr/bin/env bash
# Every fuzz target for 30 s: the YAML loader and the packet path. A crash
# leaves its input under testdata/fuzz/ to be kept as a regression seed.
set -euo pipefail
cd "$(dirname "$0")/../.."
make fuzz FUZZTIME=30s
