# Shared by the interop steps: package installs, a scratch dir, starting
# bin/mxdns on a free port, and dig expectations with a pass/fail count.

# need CMD PACKAGE...: installs the Debian packages when CMD is missing.
# apt-get update runs at most once per CI run.
need() {
	local cmd=$1
	shift
	command -v "$cmd" >/dev/null 2>&1 && return 0
	local sudo=""
	if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
	if [ ! -e /tmp/mxdns-ci-apt-updated ]; then
		$sudo apt-get update
		touch /tmp/mxdns-ci-apt-updated
	fi
	# Another installer (a second CI run, unattended-upgrades) may hold
	# dpkg's lock: wait for it rather than fail the step.
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -o DPkg::Lock::Timeout=600 "$@"
}

need dig bind9-dnsutils
make -s build # cheap when nothing changed; never test a stale binary

work=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

if [ -d zones ]; then cp -r zones "$work/zones"; fi

# start_server tries random high ports until one binds and answers.
# pick_port: a random port below the kernel's ephemeral range (where the
# client sockets of earlier steps live) that no socket uses now.
pick_port() {
	local lo hi p
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
	for _ in $(seq 50); do
		p=$((10000 + RANDOM % (lo - 10000)))
		[ -z "$(ss -Hantu "sport = :$p" 2>/dev/null)" ] && break
	done
	echo "$p"
}

# start_server [CONFIG]: serves CONFIG (default config.example.yaml) with
# 127.0.0.1:5353 rewritten to a free port and admin 127.0.0.1:9153 to
# port 0; sets $port and $pid.
start_server() {
	local try deadline config=${1:-config.example.yaml}
	for try in 1 2 3 4 5; do
		port=$(pick_port)
		# The admin port is the kernel's choice: 9153 may be taken.
		sed -e "s/127\.0\.0\.1:5353/127.0.0.1:$port/" -e "s/127\.0\.0\.1:9153/127.0.0.1:0/" "$config" >"$work/config.yaml"
		bin/mxdns serve -config "$work/config.yaml" -state-dir "$work/state" >"$work/server.log" 2>&1 &
		pid=$!
		deadline=$((SECONDS + 10))
		while [ $SECONDS -lt $deadline ]; do
			if ! kill -0 "$pid" 2>/dev/null; then break; fi
			if dig @127.0.0.1 -p "$port" +time=1 +tries=1 +short example.com SOA >/dev/null 2>&1; then
				return 0
			fi
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=""
		echo "interop: server did not come up on port $port (try $try):" >&2
		cat "$work/server.log" >&2
	done
	return 1
}


passed=0
failed=0

# expect NAME "DIG ARGS" <<< EXPECTED: compares dig's sorted output with the
# expected lines and prints the diff on mismatch.
expect() {
	local name=$1 args=$2 want got
	want=$(sort)
	# shellcheck disable=SC2086
	got=$(dig @127.0.0.1 -p "$port" +time=2 +tries=1 $args 2>&1 | sort) || true
	tally "$name" "$args" "$want" "$got"
}

# expect_header NAME "DIG ARGS" "status=S flags=F": checks the reply header.
expect_header() {
	local name=$1 args=$2 want=$3 out got
	# shellcheck disable=SC2086
	out=$(dig @127.0.0.1 -p "$port" +time=2 +tries=1 $args 2>&1) || true
	got="status=$(sed -n "s/.*status: \([A-Z]*\),.*/\1/p" <<<"$out") flags=$(sed -n "s/^;; flags: \([a-z ]*\);.*/\1/p" <<<"$out")"
	tally "$name" "$args" "$want" "$got"
}

# tally NAME "DIG ARGS" WANT GOT: counts a check, with the diff on mismatch.
tally() {
	if [ "$4" = "$3" ]; then
		passed=$((passed + 1))
		echo "ok   $1"
	else
		failed=$((failed + 1))
		echo "FAIL $1: dig $2"
		diff -u <(echo "$3") <(echo "$4") | sed 's/^/    /' || true
	fi
}

# finish: prints the step's tally and fails it on any mismatch.
finish() {
	echo "interop: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] || { echo "server log:"; cat "$work/server.log"; exit 1; }
}
