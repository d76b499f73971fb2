#!/usr/bin/env bash
# `make run` as a new user starts it, in a clone of its own: saves to
# config.example.yaml (relative path) are served, a broken save keeps the
# last good version, and a restart with the broken file still serves it.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh

repo=$(pwd)
clone="$work/clone"
git clone -q "$repo" "$clone"
# The working tree's current files, so that uncommitted work is what runs.
cp "$repo/config.example.yaml" "$clone/config.example.yaml"
port=$(pick_port)
admin=$(pick_port)
sed -i "s/127\.0\.0\.1:5353/127.0.0.1:$port/; s/127\.0\.0\.1:9153/127.0.0.1:$admin/" "$clone/config.example.yaml"
export XDG_STATE_HOME="$work/xdg"
export GOFLAGS=-buildvcs=false

run_pid=""
start_make_run() {
	(cd "$clone" && exec setsid make run) >>"$work/server.log" 2>&1 &
	run_pid=$!
	local deadline=$((SECONDS + 120))
	until dig @127.0.0.1 -p "$port" +time=1 +tries=1 +short example.com SOA | grep -q .; do
		if [ $SECONDS -ge $deadline ] || ! kill -0 "$run_pid" 2>/dev/null; then
			echo "make run did not serve on port $port:"
			cat "$work/server.log"
			exit 1
		fi
		sleep 0.2
	done
}
stop_make_run() {
	kill -TERM -- "-$run_pid" 2>/dev/null || kill -TERM "$run_pid" 2>/dev/null || true
	wait "$run_pid" 2>/dev/null || true
	run_pid=""
}
trap 'stop_make_run; cleanup' EXIT

# wait_a NAME ADDR: until NAME answers ADDR (30 s).
wait_a() {
	local deadline=$((SECONDS + 30))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(dig @127.0.0.1 -p "$port" +time=1 +tries=1 +short "$1" A)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

start_make_run
check_a() { tally "$1" "+short $2 A" "$3" "$(dig @127.0.0.1 -p "$port" +time=2 +tries=1 +short "$2" A)"; }
check_a "served at start" mx2.example.com 198.51.100.25

sed -i 's/198\.51\.100\.25/198.51.100.26/' "$clone/config.example.yaml" # a save by rename
wait_a mx2.example.com 198.51.100.26 || true
check_a "a save by rename of the relative config is served" mx2.example.com 198.51.100.26

sed 's/198\.51\.100\.26/198.51.100.27/' "$clone/config.example.yaml" >"$work/next.yaml"
cat "$work/next.yaml" >"$clone/config.example.yaml" # a save in place
wait_a mx2.example.com 198.51.100.27 || true
check_a "a save in place is served" mx2.example.com 198.51.100.27

printf 'zones: [\n' >>"$clone/config.example.yaml" # a broken save
deadline=$((SECONDS + 30))
until grep -q 'msg="file error, serving last good copy"' "$work/server.log" || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
check_a "a broken save keeps the last good version" mx2.example.com 198.51.100.27

stop_make_run
start_make_run
check_a "a restart with the broken config serves its last good copy" mx2.example.com 198.51.100.27
finish
