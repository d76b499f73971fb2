#!/usr/bin/env bash
# The mail walk-through (docs/mail.md) checks clean, serves its
# helper records and PTRs, and `mxdns route` plans delivery from it.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh

# check: passes without errors or warnings, silently.
if out=$(bin/mxdns check -strict config.mail.example.yaml 2>&1) && [ -z "$out" ]; then
	passed=$((passed + 1)); echo "ok   check"
else
	failed=$((failed + 1)); echo "FAIL check:"; echo "$out" | sed 's/^/    /'
fi

start_server config.mail.example.yaml

expect "SPF" "+short example.com TXT" <<'X'
"v=spf1 mx -all"
X
expect "DMARC" "+short _dmarc.example.com TXT" <<'X'
"v=DMARC1; p=reject; rua=mailto:dmarc@example.com"
X
expect "MTA-STS" "+short _mta-sts.example.com TXT" <<'X'
"v=STSv1; id=20261123"
X
expect "TLS-RPT" "+short _smtp._tls.example.com TXT" <<'X'
"v=TLSRPTv1; rua=mailto:tlsrpt@example.com"
X
expect "null MX" "+short printer.example.com MX" <<'X'
0 .
X
expect "auto PTR wan1" "+short -x 192.0.2.25" <<'X'
mx1.example.com.
X
expect "auto PTR wan2" "+short -x 198.51.100.26" <<'X'
mx2.example.com.
X

# DKIM: the strings of the TXT record, joined, are the key in the config,
# over UDP with EDNS and over TCP.
key=$(sed -n 's/.*dkim: {selector: s2026, key: "\([^"]*\)"}.*/\1/p' config.mail.example.yaml)
for transport in +notcp +tcp; do
	got=$(dig @127.0.0.1 -p "$port" +time=2 +tries=1 +short "$transport" +bufsize=1232 s2026._domainkey.example.com TXT | sed 's/" "//g; s/"//g')
	if [ "$got" = "v=DKIM1; k=rsa; p=$key" ]; then
		passed=$((passed + 1)); echo "ok   DKIM intact ($transport)"
	else
		failed=$((failed + 1)); echo "FAIL DKIM ($transport): $got"
	fi
done

# route: the plan a sending MTA follows.
expect_route() {
	local name=$1 want got
	shift
	want=$(cat)
	got=$(bin/mxdns route "$@" "@127.0.0.1:$port" 2>&1) || true
	if [ "$got" = "$want" ]; then
		passed=$((passed + 1)); echo "ok   $name"
	else
		failed=$((failed + 1)); echo "FAIL $name: mxdns route $*"
		diff -u <(echo "$want") <(echo "$got") | sed 's/^/    /' || true
	fi
}
expect_route "route example.com" example.com <<'X'
example.com: senders try, in order (RFC 5321 §5.1):
  1. preference 10
     mx1.example.com
       192.0.2.25     PTR mx1.example.com
       198.51.100.25  PTR mx1.example.com
  2. preference 20
     mx2.example.com
       198.51.100.26  PTR mx2.example.com
X
expect_route "route null MX" printer.example.com <<'X'
printer.example.com accepts no mail (null MX, RFC 7505): senders bounce at once
X
expect_route "route NXDOMAIN" nope.example.com <<'X'
nope.example.com does not exist (NXDOMAIN): mail to it bounces at once
X
if bin/mxdns route example.com "@127.0.0.1:$port" -json | grep -q '"status": "mx"'; then
	passed=$((passed + 1)); echo "ok   route -json"
else
	failed=$((failed + 1)); echo "FAIL route -json"
fi

finish
