#!/usr/bin/env bash
# Error-injection benchmark (issue "error injection", point 7), in one run:
#   1. /get requests/s at 16 connections (wrk, 10,000 keys of 100 bytes) on a server started
#      with --error_injection and nothing armed, against the same server without it
#      (target >= 0.98x); each round runs both, first one then the other, alternating, and
#      the figure is the median of the rounds' ratios (drift in the machine cancels out);
#   2. event delivery latency from a point firing to each of 10 subscribers receiving it,
#      p50 / p99 (target p99 < 1 ms), with build/default/bench/kvstore_injection_bench: once
#      with raw-socket subscribers (the server's delivery) and once with 10
#      kvstore::InjectionEventStreams (the C++ client library, one reader thread each).
# Usage: bench/injection_bench.sh   (BENCH_REPEAT=7 rounds of BENCH_SECONDS=5; about 3 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
repeat="${BENCH_REPEAT:-7}"
seconds="${BENCH_SECONDS:-5}"

source bench/lib.sh

start_store() {  # name, extra flags... -> sets port_<name>
  local name=$1 port
  shift
  port=$(free_port)
  build/default/store/kvstore_server --port="$port" --data_dir="$work/$name" "$@" \
    </dev/null >"$work/$name.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
  load_seed_keys "$port"
  printf -v "port_$name" '%s' "$port"
}
start_store off
start_store on --error_injection

# Both stores settled (no flush or compaction running) and warm before measuring.
settle "$port_off"
settle "$port_on"

wrk_rps() {  # port
  wrk -t1 -c16 -d"${seconds}s" --timeout 5s -s bench/wrk_keys.lua "http://127.0.0.1:$1" \
    -- kv-get 10000 | grep '^RESULT' | sed -E 's/.*rps=([0-9.]+).*non2xx=([0-9]+).*/\1 \2/'
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
seconds=5 wrk_rps "$port_off" >/dev/null  # warm-up
seconds=5 wrk_rps "$port_on" >/dev/null
off="" on="" ratios="" bad=0
for round in $(seq 1 "$repeat"); do
  # Alternate which goes first, so drift in the machine favours neither.
  if ((round % 2)); then order="off on"; else order="on off"; fi
  for which in $order; do
    port_var="port_$which"
    read -r r e < <(wrk_rps "${!port_var}")
    bad=$((bad + e))
    if [ "$which" = off ]; then off_r=$r; off+="$r "; else on_r=$r; on+="$r "; fi
  done
  ratios+="$(awk -v a="$on_r" -v b="$off_r" 'BEGIN{printf "%.3f", a / b}') "
done
off_rps=$(tr ' ' '\n' <<<"$off" | grep . | median)
on_rps=$(tr ' ' '\n' <<<"$on" | grep . | median)
echo "rounds (req/s): off: $off| on: $on| ratios: $ratios" >&2
ratio=$(tr ' ' '\n' <<<"$ratios" | grep . | median)

echo
echo "| workload | result | peer | ratio | target |"
echo "|---|---|---|---|---|"
echo "| /get at 16 conns, --error_injection on, nothing armed (req/s) | ${on_rps%.*} |" \
  "same server without it: ${off_rps%.*} |" \
  "$ratio (median of the rounds' ratios) | >= 0.98 |"
for mode in --raw --noraw; do
  build/default/bench/kvstore_injection_bench --store="127.0.0.1:$port_on" --subscribers=10 \
    --events=2000 "$mode"
done
echo "non-2xx answers across the wrk runs: $bad"
