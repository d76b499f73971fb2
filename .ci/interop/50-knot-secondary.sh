#!/usr/bin/env bash
# A real Knot secondary follows mxdns: it transfers every example zone with
# TSIG, answers a fixed query set exactly as mxdns does, and serves an
# edit within 5 s of the reload thanks to NOTIFY. Clients without the key
# get nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need knotd knot
need kdig knot-dnsutils
need ss iproute2
make build >/dev/null

secret="c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
zones="example.com example.org 113.0.203.in-addr.arpa"

# Knot's port is chosen first, free of any UDP or TCP socket: mxdns must
# know where to send NOTIFY before Knot can start.
while :; do
	kport=$(pick_port)
	[ -z "$(ss -Hantu "sport = :$kport")" ] && break
done
knot_pid=""
stop_knot() {
	if [ -n "$knot_pid" ]; then kill "$knot_pid" 2>/dev/null || true; wait "$knot_pid" 2>/dev/null || true; fi
	cleanup
}
trap stop_knot EXIT

# The secret lives in a file of its own, as systemd's LoadCredential=
# hands it over; relative to the config's directory.
echo "$secret" >"$work/xfr.key"
cat - config.example.yaml >"$work/xfr.yaml" <<Y
tsig_keys:
  xfr-key: {algorithm: hmac-sha256, secret_file: xfr.key}
transfer:
  allow: ["key:xfr-key"]
  notify: ["127.0.0.1:$kport"]
Y
start_server "$work/xfr.yaml"
echo "mxdns on port $port, knot on port $kport"

mkdir -p "$work/knot"
cat >"$work/knot/knot.conf" <<K
server:
    rundir: "$work/knot"
    listen: 127.0.0.1@$kport
log:
  - target: stderr
    any: info
database:
    storage: "$work/knot"
key:
  - id: xfr-key
    algorithm: hmac-sha256
    secret: $secret
remote:
  - id: mxdns
    address: 127.0.0.1@$port
    key: xfr-key
acl:
  - id: notify-from-mxdns
    address: 127.0.0.1
    key: xfr-key
    action: notify
template:
  - id: default
    storage: "$work/knot"
    master: mxdns
    acl: notify-from-mxdns
    zonefile-sync: -1
    zonefile-load: none
    journal-content: none
zone:
$(for z in $zones; do echo "  - domain: $z"; done)
K
knotd -c "$work/knot/knot.conf" >"$work/knot.log" 2>&1 &
knot_pid=$!

serial() { dig @127.0.0.1 -p "$1" +time=1 +tries=1 +short "$2" SOA 2>/dev/null | awk '{print $3}'; }

# wait_serial ZONE SECONDS: until Knot serves mxdns's serial of ZONE.
wait_serial() {
	local z=$1 deadline=$((SECONDS + $2)) want
	want=$(serial "$port" "$z")
	while [ $SECONDS -lt "$deadline" ]; do
		if ! kill -0 "$knot_pid" 2>/dev/null; then echo "knotd exited:"; cat "$work/knot.log"; return 1; fi
		[ -n "$want" ] && [ "$(serial "$kport" "$z")" = "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

check() {
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name"
	fi
}

for z in $zones; do
	check "knot transferred $z with TSIG" wait_serial "$z" 10
done

# answer PORT NAME TYPE: status and the answer section, TTLs included, sorted.
answer() {
	dig @127.0.0.1 -p "$1" +time=2 +tries=1 +norecurse "$2" "$3" | sed -n 's/.*status: \([A-Z]*\),.*/status \1/p'
	dig @127.0.0.1 -p "$1" +time=2 +tries=1 +norecurse +noall +answer "$2" "$3" | sort
}
# same NAME TYPE: mxdns and Knot agree. A lost UDP reply on a busy CI
# machine is asked again; a real difference persists over the 3 tries.
same() {
	local a b try
	for try in 1 2 3; do
		a=$(answer "$port" "$1" "$2")
		b=$(answer "$kport" "$1" "$2")
		[ "$a" = "$b" ] && return 0
		sleep 0.2
	done
	diff -u <(echo "$a") <(echo "$b") | sed 's/^/    /'
	return 1
}
while read -r qname qtype; do
	check "same answer: $qname $qtype" same "$qname" "$qtype"
done <<'Q'
example.com SOA
example.com NS
example.com MX
example.com TXT
example.com A
mx1.example.com A
mx1.example.com AAAA
mx2.example.com A
ns1.example.com A
www.example.com CNAME
host.dyn.example.com A
_submission._tcp.example.com SRV
_imaps._tcp.example.com SRV
nope.example.com A
mx1.example.com MX
example.org MX
example.org TXT
example.org NS
25.113.0.203.in-addr.arpa PTR
53.113.0.203.in-addr.arpa PTR
99.113.0.203.in-addr.arpa PTR
Q

# Clients without the key get nothing.
# kdig fails on an error reply; what it says is what is checked.
refused() { { kdig @127.0.0.1 -p "$port" +timeout=2 +retry=0 AXFR example.com 2>&1 || true; } | grep -q 'REFUSED'; }
check "AXFR without TSIG is REFUSED" refused
notauth() {
	{ kdig @127.0.0.1 -p "$port" +timeout=2 +retry=0 -y "hmac-sha256:xfr-key:b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItMTI=" AXFR example.com 2>&1 || true; } | grep -q BADSIG
}
check "AXFR with a wrong secret is NOTAUTH, TSIG error BADSIG" notauth
signed() {
	kdig @127.0.0.1 -p "$port" +timeout=2 +retry=0 -y "hmac-sha256:xfr-key:$secret" AXFR example.com 2>&1 | grep -c 'SOA' | grep -qx 2
}
check "AXFR with the key starts and ends with the SOA" signed

# An edit reaches Knot within 5 s: the reload NOTIFYs, Knot transfers.
printf '      new: {a: 192.0.2.77}\n' >>"$work/zones/example.org.yaml"
kill -HUP "$pid"
edit_served() {
	local deadline=$((SECONDS + 5))
	while [ $SECONDS -lt "$deadline" ]; do
		[ "$(dig @127.0.0.1 -p "$kport" +time=1 +tries=1 +short new.example.org A)" = "192.0.2.77" ] && return 0
		sleep 0.1
	done
	return 1
}
check "knot serves the edit within 5 s" edit_served
# Knot may serve the edit before mxdns has read its acknowledgement.
new_serial=$(serial "$port" example.org)
acknowledged() {
	local deadline=$((SECONDS + 5))
	while [ $SECONDS -lt "$deadline" ]; do
		grep -q "notify acknowledged\" zone=example.org. target=127.0.0.1:$kport serial=$new_serial" "$work/server.log" && return 0
		sleep 0.1
	done
	return 1
}
check "mxdns logged the acknowledged NOTIFY of serial $new_serial" acknowledged
check "same answer after the edit" same new.example.org A

if [ "$failed" -ne 0 ]; then echo "knot log:"; cat "$work/knot.log"; fi
finish
