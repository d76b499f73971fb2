#!/usr/bin/env bash
# bench-dns.sh: queries/s, CPU per answer, latency and a random-name
# (NXDOMAIN) flood of mxdns beside Knot and NSD serving the same zone:
# servers pinned to CPU 1, dnsperf to CPU 0, rounds alternating between
# servers (scripts/perf.sh). See CONTRIBUTING.md.
#
#   [MXDNS=bin] [MXDNS_OLD=bin] [NSD=0] [DNSSEC=0] scripts/bench-dns.sh [SECONDS] [ROUNDS] [RATE] [LIGHT]
#
# RATE (default 40,000 q/s) is where CPU per answer and latency are
# measured, LIGHT (default 10,000) a second latency point. MXDNS is the
# binary to measure (default: bin/mxdns, built); MXDNS_OLD, when set, is
# measured beside it as mxdns-old, to compare two builds in one run.
# NSD=0 leaves NSD out. The zone is example.com from config.example.yaml,
# exported with `mxdns export` so every server answers from the same
# records. Knot and NSD are measured when installed; dnsperf is installed
# when missing. Rate limiting is off in every server. Then, unless
# DNSSEC=0, a signed round: every query with DO set, to mxdns serving the
# zone unsigned and signed (dnssec: on) and to Knot signing it itself
# (ECDSA P-256, one CSK, NSEC), the random-name flood included.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5} rounds=${2:-3} rate=${3:-40000} light=${4:-10000}

if ! command -v dnsperf >/dev/null 2>&1; then
	sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
	$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y dnsperf
fi
mxdns=${MXDNS:-}
if [ -z "$mxdns" ]; then
	make -s build
	mxdns=bin/mxdns
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

"$mxdns" export -config config.example.yaml example.com >"$work/example.com.zone"
cat >"$work/queries.txt" <<'Q'
example.com MX
example.com A
mx1.example.com A
mx2.example.com A
www.example.com A
_submission._tcp.example.com SRV
nx.example.com A
example.com TXT
Q
# The flood: 100,000 random names under the zone, each one NXDOMAIN and
# each a cache miss the first time (the same file every run).
awk 'BEGIN {srand(15); for (i = 0; i < 100000; i++) {l = ""; for (j = 0; j < 12; j++) l = l substr("abcdefghijklmnopqrstuvwxyz0123456789", int(rand() * 36) + 1, 1); print l ".example.com A"}}' >"$work/nx.txt"

# A free port for each server, taken from the kernel.
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_up PORT: polls with dig until the server answers, at most 10 s.
wait_up() {
	local deadline=$((SECONDS + 10))
	until dig @127.0.0.1 -p "$1" +time=1 +tries=1 +short example.com SOA >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || { echo "bench-dns: server on port $1 did not start" >&2; exit 1; }
		sleep 0.1
	done
}

# pin_threads PID: moves every thread of PID onto CPU 1. Knot sets the
# affinity of each UDP worker itself at start (worker i to CPU i mod
# cores), so its one worker left the `taskset -c 1` it was started with
# and ran on CPU 0 beside dnsperf, a cheaper wake-up than any server
# pinned to CPU 1 gets. Applied to every server alike, and checked.
pin_threads() {
	taskset -a -p -c 1 "$1" >/dev/null
	local t
	for t in /proc/"$1"/task/*; do
		[ "$(taskset -p "${t##*/}" | awk '{print $NF}')" = 2 ] ||
			{ echo "bench-dns: thread ${t##*/} of $1 is not on CPU 1" >&2; exit 1; }
	done
}

specs=()
# start_mxdns NAME BINARY: serves config.example.yaml with rate limiting
# off (dnsperf from one address is a flood by its measure).
start_mxdns() {
	local port dir=$work/$1
	port=$(free_port)
	mkdir -p "$dir"
	{ echo "rrl: off"; [ "${3:-}" = signed ] && echo "dnssec: on"; sed -e "s/127\.0\.0\.1:5353/127.0.0.1:$port/" -e "s/127\.0\.0\.1:9153/127.0.0.1:0/" config.example.yaml; } >"$dir/config.yaml"
	[ -d zones ] && cp -r zones "$dir/"
	taskset -c 1 "$2" serve -config "$dir/config.yaml" -state-dir "$dir/state" -log-format json >"$dir/mxdns.log" 2>&1 &
	pids+=($!)
	wait_up "$port"
	pin_threads "${pids[-1]}"
	specs+=("$1=$port:${pids[-1]}")
}
start_mxdns mxdns "$mxdns"
if [ -n "${MXDNS_OLD:-}" ]; then start_mxdns mxdns-old "$MXDNS_OLD"; fi

if command -v knotd >/dev/null 2>&1; then
	kport=$(free_port)
	mkdir -p "$work/knot"
	cat >"$work/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$kport
    rundir: $work/knot
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: $work/knot
zone:
  - domain: example.com
    file: $work/example.com.zone
    zonefile-sync: -1
    journal-content: none
log:
  - target: stderr
    any: warning
CONF
	taskset -c 1 knotd -c "$work/knot.conf" >"$work/knot.log" 2>&1 &
	pids+=($!)
	wait_up "$kport"
	pin_threads "${pids[-1]}"
	specs=("knot=$kport:${pids[-1]}" "${specs[@]}")
fi

if [ "${NSD:-1}" != 0 ] && command -v nsd >/dev/null 2>&1; then
	nport=$(free_port)
	mkdir -p "$work/nsd"
	cat >"$work/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1@$nport
    server-count: 1
    database: ""
    pidfile: "$work/nsd/nsd.pid"
    xfrdfile: "$work/nsd/xfrd.state"
    zonelistfile: "$work/nsd/zone.list"
    logfile: "$work/nsd/nsd.log"
    username: ""
    chroot: ""
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: example.com
    zonefile: $work/example.com.zone
CONF
	taskset -c 1 nsd -d -c "$work/nsd.conf" >"$work/nsd.out" 2>&1 &
	pids+=($!)
	wait_up "$nport"
	# NSD answers from a grandchild process: measure that one's CPU.
	nsdpid=${pids[-1]}
	for child in $(pgrep -P "$nsdpid"); do
		g=$(pgrep -P "$child" | head -n 1)
		[ -n "$g" ] && nsdpid=$g && break
	done
	pin_threads "$nsdpid"
	specs+=("nsd=$nport:$nsdpid")
fi

echo "bench-dns: $secs s x $rounds rounds on $(nproc) cores; CPU per answer at $rate q/s, latency at $light and $rate q/s"
LIGHT=$light NXQUERIES="$work/nx.txt" bash scripts/perf.sh "$work/queries.txt" "$secs" "$rounds" "$rate" "${specs[@]}"
echo "bench-dns: over TCP (8 connections)"
LIGHT=0 PERF_MODE=tcp bash scripts/perf.sh "$work/queries.txt" "$secs" "$rounds" "$rate" "${specs[@]}"

[ "${DNSSEC:-1}" = 0 ] && exit 0
unsigned=""
for spec in "${specs[@]}"; do [ "${spec%%=*}" = mxdns ] && unsigned=$spec; done
specs=()
start_mxdns mxdns-dnssec "$mxdns" signed
signed_specs=("${specs[@]}")
if command -v knotd >/dev/null 2>&1; then
	kport=$(free_port)
	mkdir -p "$work/knot-dnssec"
	cp "$work/example.com.zone" "$work/knot-dnssec/example.com.zone"
	cat >"$work/knot-dnssec.conf" <<CONF
server:
    listen: 127.0.0.1@$kport
    rundir: $work/knot-dnssec
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: $work/knot-dnssec
    kasp-db: $work/knot-dnssec/kasp
policy:
  - id: bench
    algorithm: ecdsap256sha256
    single-type-signing: on
    nsec3: off
zone:
  - domain: example.com
    file: $work/knot-dnssec/example.com.zone
    zonefile-sync: -1
    dnssec-signing: on
    dnssec-policy: bench
log:
  - target: stderr
    any: warning
CONF
	taskset -c 1 knotd -c "$work/knot-dnssec.conf" >"$work/knot-dnssec.log" 2>&1 &
	pids+=($!)
	wait_up "$kport"
	pin_threads "${pids[-1]}"
	# Knot signs after it loads: wait until it answers with an RRSIG.
	deadline=$((SECONDS + 20))
	until dig @127.0.0.1 -p "$kport" +dnssec +time=1 +tries=1 example.com MX | grep -q RRSIG; do
		[ $SECONDS -lt $deadline ] || { echo "bench-dns: knot did not sign" >&2; cat "$work/knot-dnssec.log" >&2; exit 1; }
		sleep 0.2
	done
	signed_specs=("knot-dnssec=$kport:${pids[-1]}" "${signed_specs[@]}")
fi
echo "bench-dns: signed answers: every query with DO set; mxdns unsigned beside mxdns signed and Knot signed"
LIGHT=$light NXQUERIES="$work/nx.txt" DNSPERF_FLAGS=-D bash scripts/perf.sh "$work/queries.txt" "$secs" "$rounds" "$rate" \
	"${signed_specs[@]}" ${unsigned:+"$unsigned"}
