#!/usr/bin/env bash
# The WAN links walk-through of docs/links.md, on free ports: two links on
# 127.0.0.1 and 127.0.0.2, a tcp and an http health target this script
# starts and kills, and answers that must change within interval × fall +
# 1s (and back within interval × rise + 1s); then a manual state at a reload.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need python3 python3

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

targets=()
stop_targets() {
	local p
	for p in "${targets[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	targets=()
}
trap 'stop_targets; cleanup' EXIT

# target PORT: an HTTP server (also a TCP target) on 127.0.0.1:PORT; sets $target_pid.
target() {
	python3 -m http.server "$1" --bind 127.0.0.1 --directory "$work" >/dev/null 2>&1 &
	target_pid=$!
	targets+=("$target_pid")
	local deadline=$((SECONDS + 10))
	until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || { echo "interop: target on $1 did not start" >&2; exit 1; }
		sleep 0.05
	done
}

port=$(free_port)
tcp_port=$(free_port)
http_port=$(free_port)
admin_port=$(free_port)
sed -e "s/:5353/:$port/g" -e "s/127\.0\.0\.1:2525/127.0.0.1:$tcp_port/" \
	-e "s/127\.0\.0\.1:8080/127.0.0.1:$http_port/" -e "s/127\.0\.0\.1:9153/127.0.0.1:$admin_port/" \
	config.links.example.yaml >"$work/config.yaml"
target "$tcp_port"
tcp_pid=$target_pid
target "$http_port"

bin/mxdns serve -config "$work/config.yaml" -state-dir "$work/state" >"$work/server.log" 2>&1 &
pid=$!
deadline=$((SECONDS + 10))
until dig @127.0.0.1 -p "$port" +time=1 +tries=1 +short example.com SOA >/dev/null 2>&1; do
	[ $SECONDS -lt $deadline ] || { echo "interop: server did not start" >&2; cat "$work/server.log"; exit 1; }
	sleep 0.1
done

# ask SERVER ARGS...: sorted +short answers from one listen address.
ask() {
	local server=$1
	shift
	dig @"$server" -p "$port" +time=1 +tries=1 +short "$@" 2>&1 | sort | paste -sd' ' -
}

# within NAME SECONDS WANT SERVER ARGS...: polls until the answer is WANT.
within() {
	local name=$1 limit=$2 want=$3 server=$4 start got
	shift 4
	start=$(date +%s%N)
	while :; do
		got=$(ask "$server" "$@")
		if [ "$got" = "$want" ]; then
			passed=$((passed + 1))
			echo "ok   $name ($(( ($(date +%s%N) - start) / 1000000 ))ms)"
			return 0
		fi
		if [ $(( $(date +%s%N) - start )) -gt $((limit * 1000000000)) ]; then
			failed=$((failed + 1))
			echo "FAIL $name: dig @$server $*: got '$got', want '$want' within ${limit}s"
			return 0
		fi
		sleep 0.05
	done
}

# Both links up (the first checks may still be pending; up is the default).
within "MX, both up" 3 "10 mx1.example.com. 20 mx2.example.com. 30 backup.example.com." 127.0.0.1 example.com MX
within "www over wan1" 1 "203.0.113.80" 127.0.0.1 www.example.com A
within "www over wan2" 1 "198.51.100.80 198.51.100.81" 127.0.0.2 www.example.com A
within "www over no link" 1 "198.51.100.80 198.51.100.81 203.0.113.80" 127.0.0.3 www.example.com A
within "vpn failover, wan1 first" 1 "203.0.113.90" 127.0.0.2 vpn.example.com A
# The outbound side: each link's sending address has the PTR of its helo,
# and spf's links term lists every link's address.
within "PTR of wan1's outbound address" 1 "mx1.example.com." 127.0.0.1 -x 203.0.113.25
within "PTR of wan2's outbound address" 1 "mx2.example.com." 127.0.0.2 -x 198.51.100.25
within "spf links" 1 '"v=spf1 mx ip4:203.0.113.25 ip4:198.51.100.25 -all"' 127.0.0.1 example.com TXT
if bin/mxdns outbound -config "$work/config.yaml" example.com "@127.0.0.1:$port" | grep -Eq '^wan2 +198\.51\.100\.25 +mx2\.example\.com +mx2\.example\.com +ok +pass'; then
	passed=$((passed + 1)); echo "ok   mxdns outbound"
else
	failed=$((failed + 1)); echo "FAIL mxdns outbound:"; bin/mxdns outbound -config "$work/config.yaml" example.com "@127.0.0.1:$port"
fi
expect_ttl=$(dig @127.0.0.1 -p "$port" +noall +answer www.example.com A | awk '{print $2}')
if [ "$expect_ttl" = 30 ]; then passed=$((passed + 1)); echo "ok   link_ttl caps www"; else failed=$((failed + 1)); echo "FAIL link_ttl: ttl $expect_ttl"; fi

# interval 1s, fall 2, rise 2: changes are due within 3s.
kill "$tcp_pid"; wait "$tcp_pid" 2>/dev/null || true
within "wan1 down: mx1 withdrawn" 3 "20 mx2.example.com. 30 backup.example.com." 127.0.0.1 example.com MX
within "wan1 down: www over wan1 answers wan2" 1 "198.51.100.80 198.51.100.81" 127.0.0.1 www.example.com A
within "wan1 down: vpn fails over" 1 "198.51.100.90" 127.0.0.1 vpn.example.com A

target "$tcp_port"
within "wan1 back: mx1 published" 3 "10 mx1.example.com. 20 mx2.example.com. 30 backup.example.com." 127.0.0.1 example.com MX

# A manual state, saved while serving.
sed -i 's|^    listen: \["127.0.0.2:'"$port"'"\]|    state: down\n&|' "$work/config.yaml"
within "wan2 state: down: mx2 withdrawn" 3 "10 mx1.example.com. 30 backup.example.com." 127.0.0.1 example.com MX
within "wan2 state: down: www over wan2 answers wan1" 1 "203.0.113.80" 127.0.0.2 www.example.com A

status=$(bin/mxdns status -admin "127.0.0.1:$admin_port")
if grep -Eq '^wan2 +down +down .*state: down in config' <<<"$status"; then
	passed=$((passed + 1)); echo "ok   mxdns status"
else
	failed=$((failed + 1)); echo "FAIL mxdns status:"; echo "$status"
fi

finish
