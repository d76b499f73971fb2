#!/usr/bin/env bash
# linkflap.sh: does a tight health check hold under CPU contention?
# Serves one link checked by `interval: 1s, timeout: 100ms, fall: 1`
# against a local TCP port, starts two busy loops, sends 20,000 q/s of
# dnsperf for SECONDS, and fails if the link ever went down. A link that
# flaps here would withdraw its MX on a merely busy machine.
#
#   [MXDNS=bin] scripts/linkflap.sh [SECONDS] [RATE]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60} rate=${2:-20000}
dns=127.0.0.1:25353 admin=127.0.0.1:29153 probe=29999

if ! command -v dnsperf >/dev/null 2>&1; then
	sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
	$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y dnsperf
fi
mxdns=${MXDNS:-}
if [ -z "$mxdns" ]; then
	make -s build
	mxdns=$PWD/bin/mxdns
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# The probe target: the kernel completes a TCP handshake from the listen
# backlog, so only mxdns's own scheduling is measured, not the target's.
python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $probe)); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()
" & pids+=($!)
for _ in $(seq 100); do
	(exec 3<>/dev/tcp/127.0.0.1/$probe) 2>/dev/null && break
	sleep 0.1
done

cat >"$work/config.yaml" <<YAML
listen: ["$dns"]
admin: "$admin"
rrl: off
links:
  wan1:
    check: {tcp: "127.0.0.1:$probe", interval: 1s, timeout: 100ms, fall: 1}
zones:
  example.com:
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;mx2"]}
      mx1: {a: {wan1: 203.0.113.25}}
      mx2: {a: 198.51.100.25}
      ns1: {a: 203.0.113.53}
YAML
printf 'example.com MX\nmx1.example.com A\nns1.example.com A\n' >"$work/queries"

"$mxdns" serve -config "$work/config.yaml" -state-dir "$work/state" 2>"$work/log" & pids+=($!)
up=""
for _ in $(seq 100); do
	if dig +short +time=1 +tries=1 @"${dns%:*}" -p "${dns#*:}" mx1.example.com A 2>/dev/null | grep -q 203.0.113.25; then
		up=1; break
	fi
	sleep 0.1
done
[ -n "$up" ] || { echo "linkflap: wan1 never came up"; cat "$work/log"; exit 1; }
# Anything logged about links from here on is a flap.
before=$(grep -c 'msg="link ' "$work/log" || true)

sh -c 'while :; do :; done' & pids+=($!)
sh -c 'while :; do :; done' & pids+=($!)
dnsperf -s "${dns%:*}" -p "${dns#*:}" -d "$work/queries" -l "$secs" -Q "$rate" -c 4 >"$work/dnsperf" 2>&1
grep -E 'Queries per second|Queries lost' "$work/dnsperf" | sed 's/^ */dnsperf: /'

after=$(grep -c 'msg="link ' "$work/log" || true)
if [ "$after" -ne "$before" ]; then
	echo "linkflap: FAIL: wan1 changed state $((after - before)) times under load:"
	grep 'msg="link ' "$work/log" | tail -n +$((before + 1))
	exit 1
fi
echo "linkflap: ok: wan1 stayed up for ${secs}s with two busy loops and $rate q/s"
