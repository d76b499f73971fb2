#!/usr/bin/env bash
# dnsviz, an outside validator, probes the example zone on mxdns, signed
# (EDNS compatibility checks included), and with the zone's key as its
# trust anchor must find no error and no warning: every signature, NSEC
# proof and the DNSKEY set validate.
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

# The trust anchor: the DNSKEY the server publishes, checked against the
# DS that `mxdns dnssec ds` gives the registrar.
dig @127.0.0.1 -p "$port" +short +norecurse example.com DNSKEY | sed 's/^/example.com. 3600 IN DNSKEY /' >"$work/anchor.txt"
ds=$(bin/mxdns dnssec ds example.com -config "$work/config.yaml" -state-dir "$work/state" | awk '{print $5, $6, $7, $8}')
if ! python3 - "$work/anchor.txt" "$ds" <<'PY'
import base64, hashlib, struct, sys
owner, ttl, cls, typ, flags, proto, alg, *key = open(sys.argv[1]).read().split()
tag, dsalg, dtype, digest = sys.argv[2].split()
rdata = struct.pack("!HBB", int(flags), int(proto), int(alg)) + base64.b64decode("".join(key))
wire = b"".join(bytes([len(l)]) + l.encode() for l in owner.rstrip(".").split(".")) + b"\0"
ok = dtype == "2" and hashlib.sha256(wire + rdata).hexdigest().upper() == digest.upper()
sys.exit(0 if ok else 1)
PY
then
	echo "FAIL the DNSKEY served does not match mxdns dnssec ds: $ds"
	cat "$work/anchor.txt"
	failed=$((failed + 1))
	finish
fi
passed=$((passed + 1))
echo "ok   the DNSKEY served matches mxdns dnssec ds"

if ! timeout 300 dnsviz probe -A -E -x "example.com+:ns1.example.com=127.0.0.1:$port" example.com \
	>"$work/probe.json" 2>"$work/probe.err"; then
	echo "FAIL dnsviz probe:"
	cat "$work/probe.err"
	failed=$((failed + 1))
	finish
fi
# grok -t checks for pygraphviz.release, which Debian 12's pygraphviz 1.7
# lacks (it has __version__): give it one, or grok refuses to run.
mkdir -p "$work/pyshim"
cat >"$work/pyshim/sitecustomize.py" <<'PY'
import sys, types
try:
    import pygraphviz
    if not hasattr(pygraphviz, "release"):
        release = types.ModuleType("pygraphviz.release")
        release.version = pygraphviz.__version__
        sys.modules["pygraphviz.release"] = pygraphviz.release = release
except ImportError:
    pass
PY
export PYTHONPATH="$work/pyshim"
dnsviz grok -t "$work/anchor.txt" <"$work/probe.json" >"$work/grok.json"
warnings=$(dnsviz grok -l warning -t "$work/anchor.txt" <"$work/probe.json")
if [ -n "$warnings" ]; then
	failed=$((failed + 1))
	echo "FAIL dnsviz grok -l warning prints something:"
	head -c 4000 <<<"$warnings"
	echo
else
	passed=$((passed + 1))
	echo "ok   dnsviz grok -l warning with the trust anchor prints nothing"
fi

# Every "errors" and "warnings" entry anywhere in grok's tree is a failure,
# and the zone must be SECURE under the anchor.
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
zone = doc.get("example.com.", {})
if zone.get("status") != "NOERROR":
    found.append("example.com. status %r, want NOERROR" % zone.get("status"))
if zone.get("delegation", {}).get("status") not in (None, "SECURE") or "SECURE" not in json.dumps(zone):
    found.append("example.com. is not SECURE under the trust anchor")
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
