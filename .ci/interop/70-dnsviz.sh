#!/usr/bin/env bash
# dnsviz, an outside validator, probes the example zone on mxdns (EDNS
# compatibility checks included) and must find no error and no warning.
#
# The step runs in its own network namespace holding only loopback, so no
# probe can leave the machine whatever dnsviz decides to look up; there
# mxdns also listens on 127.0.0.1:53, where dnsviz asks the name servers it
# learns from the zone. See .ci/interop/dnsviz.yaml.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${MXDNS_IN_NETNS:-}" ]; then
	# shellcheck source=../lib.sh
	. .ci/lib.sh
	need dnsviz dnsviz
	need python3 python3
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
	rm -rf "$work"
	trap - EXIT
	exec $sudo env MXDNS_IN_NETNS=1 PATH="$PATH" unshare --net bash "$0"
fi

ip link set lo up
. .ci/lib.sh
start_server .ci/interop/dnsviz.yaml

if ! timeout 300 dnsviz probe -A -E -x "example.com+:ns1.example.com=127.0.0.1:$port" example.com \
	>"$work/probe.json" 2>"$work/probe.err"; then
	echo "FAIL dnsviz probe:"
	cat "$work/probe.err"
	failed=$((failed + 1))
	finish
fi
dnsviz grok <"$work/probe.json" >"$work/grok.json"

# Every "errors" and "warnings" entry anywhere in grok's tree is a failure;
# the zone is unsigned, and grok reports nothing for that by itself.
if python3 - "$work/grok.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
found = []
def walk(x, path):
    if isinstance(x, dict):
        for k, v in x.items():
            if k in ("errors", "warnings") and v:
                found.append("%s/%s: %s" % (path, k, json.dumps(v)))
            walk(v, path + "/" + k)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            walk(v, "%s[%d]" % (path, i))
walk(doc, "")
status = doc.get("example.com.", {}).get("status")
if status != "NOERROR":
    found.append("example.com. status %r, want NOERROR" % status)
print("\n".join(found))
sys.exit(1 if found else 0)
PY
then
	passed=$((passed + 1))
	echo "ok   dnsviz grok: no errors, no warnings"
else
	failed=$((failed + 1))
	echo "FAIL dnsviz grok (full output: $work/grok.json)"
fi
finish
