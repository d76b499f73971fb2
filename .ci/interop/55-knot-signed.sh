#!/usr/bin/env bash
# A signed zone flows to a real secondary: mxdns signs the example zones,
# a Knot secondary transfers them with TSIG, kzonecheck accepts the copy
# Knot serves (every RRSIG, the NSEC chain, the DNSKEY set), and BIND's
# validator delv, with the DS `mxdns dnssec ds` prints as its trust
# anchor, fully validates answers from mxdns and from Knot alike.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need knotd knot
need kdig knot-dnsutils
need kzonecheck knot-dnssecutils
need delv bind9-dnsutils
need ss iproute2
make build >/dev/null

secret="c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
zones="example.com example.org 113.0.203.in-addr.arpa"
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

denial=${DENIAL:-nsec}
echo "denial: $denial"
cat - config.example.yaml >"$work/signed.yaml" <<Y
dnssec: {denial: $denial}
tsig_keys:
  xfr-key: {algorithm: hmac-sha256, secret: "$secret"}
transfer:
  allow: ["key:xfr-key", "127.0.0.1"]
  notify: ["127.0.0.1:$kport"]
Y
start_server "$work/signed.yaml"
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
  - id: from-mxdns
    address: 127.0.0.1
    key: xfr-key
    action: notify
  - id: to-local
    address: 127.0.0.1
    action: transfer
template:
  - id: default
    storage: "$work/knot"
    master: mxdns
    acl: [from-mxdns, to-local]
    zonefile-sync: -1
    zonefile-load: none
    journal-content: none
zone:
$(for z in $zones; do echo "  - domain: $z"; done)
K
knotd -c "$work/knot/knot.conf" >"$work/knot.log" 2>&1 &
knot_pid=$!

serial() { dig @127.0.0.1 -p "$1" +time=1 +tries=1 +short "$2" SOA 2>/dev/null | awk '{print $3}'; }
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
# zonecheck ZONE: Knot's copy, as Knot transfers it, passes kzonecheck
# with DNSSEC checks on, and holds signatures.
zonecheck() {
	local z=$1 f="$work/$1.knot.zone"
	dig @127.0.0.1 -p "$kport" +time=5 +tries=1 AXFR "$z" +nocmd +nostats +nocomments >"$f" || return 1
	[ "$(awk '$4 == "RRSIG"' "$f" | wc -l)" -gt 0 ] || { echo "    no RRSIG in Knot's copy"; return 1; }
	kzonecheck -o "$z" -d on "$f" 2>&1 | sed 's/^/    /'
	return "${PIPESTATUS[0]}"
}
# validated PORT NAME TYPE: delv fully validates the answer, or the
# proof of its absence, with the zone's DS as trust anchor.
validated() {
	local zone=$2 out
	case $2 in *.in-addr.arpa) zone=113.0.203.in-addr.arpa ;; *example.org) zone=example.org ;; *) zone=example.com ;; esac
	bin/mxdns dnssec ds "$zone" -config "$work/config.yaml" -state-dir "$work/state" |
		awk '{printf "trust-anchors { %s static-ds %s %s %s \"%s\"; };\n", $1, $5, $6, $7, $8}' >"$work/anchor-$zone.conf"
	out=$(delv @127.0.0.1 -p "$1" -a "$work/anchor-$zone.conf" +root="$zone" +tcp "$2" "$3" 2>&1)
	grep -q "fully validated" <<<"$out" && return 0
	sed 's/^/    /' <<<"$out"
	return 1
}

for z in $zones; do
	check "knot transferred signed $z" wait_serial "$z" 10
	check "kzonecheck -d on accepts knot's copy of $z ($denial)" zonecheck "$z"
done
while read -r qname qtype; do
	check "delv validates from mxdns: $qname $qtype" validated "$port" "$qname" "$qtype"
	check "delv validates from knot: $qname $qtype" validated "$kport" "$qname" "$qtype"
done <<'Q'
example.com MX
mx1.example.com A
mx1.example.com AAAA
_submission._tcp.example.com SRV
example.com TXT
host.dyn.example.com A
nope.example.com A
mx1.example.com MX
example.org MX
25.113.0.203.in-addr.arpa PTR
Q

if [ "$failed" -ne 0 ]; then echo "knot log:"; cat "$work/knot.log"; fi
finish
if [ "$denial" = nsec ]; then
	stop_knot
	trap - EXIT
	exec env DENIAL=nsec3 bash "$0"
fi
