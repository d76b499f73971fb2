#!/usr/bin/env bash
# Every fuzz target for its default run count (about 30 s each): the YAML
# loader and the packet path. A crash leaves its input under testdata/fuzz/ to be kept as a regression seed.
set -euo pipefail
cd "$(dirname "$0")/../.."
make fuzz
