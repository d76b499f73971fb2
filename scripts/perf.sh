#!/usr/bin/env bash
# perf.sh (part of make bench-dns, which needs nothing outside this
# repository): side-by-side UDP throughput, CPU cost and latency of DNS
# servers already listening on 127.0.0.1. The load generator is pinned to
# CPU 0 (servers should run on CPU 1). Rounds alternate servers so that
# machine drift hits all of them alike.
#   saturation: dnsperf offers as much as it can; median qps per server,
#               and how busy the server's CPU was meanwhile (below 100%,
#               dnsperf's one thread, not the server, set the pace).
#   fixed:      dnsperf offers RATE qps; server CPU microseconds per answer,
#               and the mean and 99th percentile latency of the replies.
#   light:      the same at LIGHT qps (default 10,000): latency only.
#   nxflood:    saturation with NXQUERIES (random names, every one a cache
#               miss), when set; median qps.
# Latency is dnsperf's own, per reply (-v), over every reply of the run.
# DNSPERF_FLAGS are added to every dnsperf run (-D: queries with DO set).
# usage: [PERF_MODE=tcp] [LIGHT=10000] [NXQUERIES=file] [DNSPERF_FLAGS=-D] perf.sh QUERYFILE SECONDS ROUNDS RATE name=port:pid [...]
# Prints one line per server with medians and ratios to the first server.
set -euo pipefail
qf=$1 secs=$2 rounds=$3 rate=$4; shift 4
mode=${PERF_MODE:-udp} light=${LIGHT:-10000} nxqf=${NXQUERIES:-}
declare -A sat busy cpu m_hi p_hi m_lo p_lo nx
ticks() { sed "s/.*) //" "/proc/$1/stat" | awk '{print $12+$13}'; }
hz=$(getconf CLK_TCK)
perf() { # PORT QUERYFILE RATE [dnsperf flags]
	local port=$1 f=$2 q=$3; shift 3
	# shellcheck disable=SC2086
	taskset -c 0 dnsperf -s 127.0.0.1 -p "$port" -m "$mode" -d "$f" -l "$secs" -c 8 -Q "$q" -T 1 ${DNSPERF_FLAGS:-} "$@" 2>&1
}
qps() { awk '/Queries per second/ {print int($4)}'; }
# latency: mean and p99 in µs from dnsperf -v reply lines ("> RCODE name type seconds").
latency() {
	awk '$1 == ">" && $2 != "T" && $NF ~ /^[0-9.]+$/ {print $NF * 1e6}' | sort -g |
		awk '{a[NR]=$1; s+=$1} END {if (NR == 0) {print "- -"; exit} i=int(NR*0.99); if (i < 1) i=1; printf "%.0f %.0f\n", s/NR, a[i]}'
}
for r in $(seq "$rounds"); do
	for spec in "$@"; do
		name=${spec%%=*} rest=${spec#*=} port=${rest%%:*} pid=${rest##*:}
		t0=$(ticks "$pid")
		q=$(perf "$port" "$qf" 2000000 | qps)
		t1=$(ticks "$pid")
		sat[$name]="${sat[$name]:-} ${q:-0}"
		busy[$name]="${busy[$name]:-} $(awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$secs" 'BEGIN{printf "%.0f", d / hz / s * 100}')"
		t0=$(ticks "$pid")
		out=$(perf "$port" "$qf" "$rate" -v)
		t1=$(ticks "$pid")
		done_q=$(echo "$out" | awk '/Queries completed/ {print $3}')
		us=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="${done_q:-1}" 'BEGIN{printf "%.2f", d / hz * 1e6 / n}')
		cpu[$name]="${cpu[$name]:-} $us"
		read -r m p < <(echo "$out" | latency)
		m_hi[$name]="${m_hi[$name]:-} $m" p_hi[$name]="${p_hi[$name]:-} $p"
		if [ "$light" -gt 0 ]; then
			read -r m p < <(perf "$port" "$qf" "$light" -v | latency)
			m_lo[$name]="${m_lo[$name]:-} $m" p_lo[$name]="${p_lo[$name]:-} $p"
		fi
		if [ -n "$nxqf" ]; then
			q=$(perf "$port" "$nxqf" 2000000 | qps)
			nx[$name]="${nx[$name]:-} ${q:-0}"
		fi
	done
done
median() { tr ' ' '\n' | awk NF | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "-")}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if (b + 0 > 0 && a != "-") printf "%.2f", a/b; else printf "-"}'; }
first=${1%%=*}
declare -A base
for k in sat busy cpu m_hi p_hi m_lo p_lo nx; do
	declare -n arr=$k
	base[$k]=$(echo "${arr[$first]:-}" | median)
done
printf '%-12s %8s %5s %5s  %7s %5s  %15s %15s  %8s %5s\n' "" "qps" "ratio" "busy" "cpu_us" "ratio" \
	"lat_$([ "$light" -gt 0 ] && echo "$light" || echo -)_us" "lat_${rate}_us" "nx_qps" "ratio"
printf '%-12s %8s %5s %5s  %7s %5s  %15s %15s  %8s %5s\n' "" "" "" "" "/answer" "" "mean/p99" "mean/p99" "" ""
for spec in "$@"; do
	name=${spec%%=*}
	declare -A v=()
	for k in sat busy cpu m_hi p_hi m_lo p_lo nx; do
		declare -n arr=$k
		v[$k]=$(echo "${arr[$name]:-}" | median)
	done
	printf '%-12s %8s %5s %5s  %7s %5s  %15s %15s  %8s %5s\n' "$name" \
		"${v[sat]}" "$(ratio "${v[sat]}" "${base[sat]}")" "${v[busy]}%" "${v[cpu]}" "$(ratio "${v[cpu]}" "${base[cpu]}")" \
		"${v[m_lo]}/${v[p_lo]}" "${v[m_hi]}/${v[p_hi]}" "${v[nx]}" "$(ratio "${v[nx]}" "${base[nx]}")"
done
echo "(medians of $rounds rounds of $secs s; ratios to $first; busy: the server's CPU use during the qps run;"
echo " latency from dnsperf -v, over $mode)"
