#!/usr/bin/env bash
# perf.sh (part of make bench-dns, which needs nothing outside this
# repository): side-by-side UDP throughput and CPU cost of DNS servers already
# listening on 127.0.0.1. The load generator is pinned to CPU 0 (servers
# should run on CPU 1). Rounds alternate servers so that machine drift hits
# all of them alike.
#   saturation: dnsperf offers as much as it can; median qps per server.
#   fixed:      dnsperf offers RATE qps; server CPU microseconds per answer.
# usage: [PERF_MODE=tcp] perf.sh QUERYFILE SECONDS ROUNDS RATE name=port:pid [...]
# Prints one line per server with medians and ratios to the first server.
set -euo pipefail
qf=$1 secs=$2 rounds=$3 rate=$4; shift 4
declare -A sat cpu
ticks() { sed "s/.*) //" "/proc/$1/stat" | awk '{print $12+$13}'; }
hz=$(getconf CLK_TCK)
for r in $(seq "$rounds"); do
  for spec in "$@"; do
    name=${spec%%=*} rest=${spec#*=} port=${rest%%:*} pid=${rest##*:}
    q=$(taskset -c 0 dnsperf -s 127.0.0.1 -p "$port" -m "${PERF_MODE:-udp}" -d "$qf" -l "$secs" -c 8 -Q 2000000 -T 1 2>&1 \
        | awk '/Queries per second/ {print int($4)}')
    sat[$name]="${sat[$name]:-} ${q:-0}"
    t0=$(ticks "$pid")
    out=$(taskset -c 0 dnsperf -s 127.0.0.1 -p "$port" -m "${PERF_MODE:-udp}" -d "$qf" -l "$secs" -c 8 -Q "$rate" -T 1 2>&1)
    t1=$(ticks "$pid")
    done_q=$(echo "$out" | awk '/Queries completed/ {print $3}')
    us=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="${done_q:-1}" 'BEGIN{printf "%.2f", d / hz * 1e6 / n}')
    cpu[$name]="${cpu[$name]:-} $us"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
first=${1%%=*}
bs=$(echo "${sat[$first]}" | median); bc=$(echo "${cpu[$first]}" | median)
for spec in "$@"; do
  name=${spec%%=*}
  s=$(echo "${sat[$name]}" | median); c=$(echo "${cpu[$name]}" | median)
  printf '%-10s qps=%-7s qps_ratio_to_%s=%-5s cpu_us_per_answer=%-6s cpu_ratio_to_%s=%s\n' \
    "$name" "$s" "$first" "$(awk -v a="$s" -v b="$bs" 'BEGIN{printf "%.2f", a/b}')" \
    "$c" "$first" "$(awk -v a="$c" -v b="$bc" 'BEGIN{printf "%.2f", a/b}')"
done
