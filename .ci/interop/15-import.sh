#!/usr/bin/env bash
# `mxdns import` of a zone file as found in the wild (HINFO, NAPTR, TXT
# escapes, a DKIM key split in 3 strings, SPF and DMARC split too): the
# types mxdns does not serve are skipped with warnings naming their lines,
# and mxdns serving the import (with the mail helpers) answers as Knot
# serving the original does for every name and type it kept. TXT strings
# are compared joined: mxdns splits every 255 octets, and SPF, DKIM and
# DMARC readers join them.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
. .ci/lib.sh
need knotd knot
need ss iproute2

original=zonefile/testdata/import/example.net.zone
bin/mxdns import -helpers "$original" >"$work/imported.yaml" 2>"$work/import.err"
warned=$(sed -n 's/^.*:\([0-9]*\): warning: .* \([A-Z]*\): mxdns does not serve.*/\1 \2/p' "$work/import.err" | tr '\n' ' ')
if [ "$warned" = "11 HINFO 12 NAPTR 23 NAPTR " ]; then
	passed=$((passed + 1)); echo "ok   import warns of the skipped records"
else
	failed=$((failed + 1)); echo "FAIL import warnings:"; sed 's/^/    /' "$work/import.err"
fi
if grep -q 'dkim: {selector: s2026' "$work/imported.yaml" && grep -q 'dmarc: ' "$work/imported.yaml" && grep -q 'spf: ' "$work/imported.yaml"; then
	passed=$((passed + 1)); echo "ok   import writes the mail helpers"
else
	failed=$((failed + 1)); echo "FAIL mail helpers:"; sed 's/^/    /' "$work/imported.yaml"
fi

printf 'listen: ["127.0.0.1:5353"]\nzone_files: ["imported.yaml"]\n' >"$work/import-config.yaml"
start_server "$work/import-config.yaml"

kport=$(pick_port)
mkdir -p "$work/knot"
cp "$original" "$work/knot/example.net.zone"
cat >"$work/knot/knot.conf" <<K
server:
    rundir: "$work/knot"
    listen: 127.0.0.1@$kport
log:
  - target: stderr
    any: warning
database:
    storage: "$work/knot"
zone:
  - domain: example.net
    storage: "$work/knot"
    file: example.net.zone
    zonefile-sync: -1
    journal-content: none
K
knotd -c "$work/knot/knot.conf" >"$work/knot.log" 2>&1 &
knot_pid=$!
stop_knot() {
	kill "$knot_pid" 2>/dev/null || true
	wait "$knot_pid" 2>/dev/null || true
	cleanup
}
trap stop_knot EXIT
deadline=$((SECONDS + 10))
until [ -n "$(dig @127.0.0.1 -p "$kport" +time=1 +tries=1 +short example.net SOA 2>/dev/null)" ]; do
	if [ $SECONDS -ge $deadline ] || ! kill -0 "$knot_pid" 2>/dev/null; then
		echo "knotd did not come up:"; cat "$work/knot.log"; exit 1
	fi
	sleep 0.1
done

# answer PORT NAME TYPE: the status and the answer section, sorted, with
# a TXT record's strings joined.
answer() {
	local out
	out=$(dig @127.0.0.1 -p "$1" +time=2 +tries=1 +norecurse "$2" "$3")
	sed -n 's/.*status: \([A-Z]*\),.*/status \1/p' <<<"$out"
	dig @127.0.0.1 -p "$1" +time=2 +tries=1 +norecurse +noall +answer "$2" "$3" | sed 's/" "//g' | sort
}

# Every name and type mxdns serves from the import, and a name that does
# not exist.
queries=$(bin/mxdns export -config "$work/config.yaml" example.net | awk '$1 !~ /^\$/ {print $1, $4}' | sort -u)
queries+=$'\nnope.example.net. A'
while read -r qname qtype; do
	want=$(answer "$kport" "$qname" "$qtype")
	got=$(answer "$port" "$qname" "$qtype")
	tally "same answer: $qname $qtype" "$qname $qtype" "$want" "$got"
done <<<"$queries"

finish
