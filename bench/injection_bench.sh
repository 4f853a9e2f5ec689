#!/usr/bin/env bash
# Error-injection benchmark (issue "error injection", point 7), in one run:
#   1. /get requests/s at 16 connections (wrk, 10,000 keys of 100 bytes) on three servers:
#      without error injection ("off"), with --error_injection and nothing armed but the
#      request journal off ("on", target >= 0.98x of off), and with the journal on as it
#      is by default ("journal", its cost against "on"); each round runs all three in an
#      order that rotates, and each figure is the median of the rounds' ratios (drift in
#      the machine cancels out);
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
start_store on --error_injection --request_journal=false
start_store journal --error_injection

# The stores settled (no flush or compaction running) and warm before measuring.
settle "$port_off"
settle "$port_on"
settle "$port_journal"

wrk_rps() {  # port
  wrk -t1 -c16 -d"${seconds}s" --timeout 5s -s bench/wrk_keys.lua "http://127.0.0.1:$1" \
    -- kv-get 10000 | grep '^RESULT' | sed -E 's/.*rps=([0-9.]+).*non2xx=([0-9]+).*/\1 \2/'
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for which in off on journal; do
  port_var="port_$which"
  seconds=5 wrk_rps "${!port_var}" >/dev/null  # warm-up
done
off="" on="" journal="" ratios="" journal_ratios="" bad=0
orders=("off on journal" "on journal off" "journal off on")
for round in $(seq 1 "$repeat"); do
  # Rotate which goes first, so drift in the machine favours none.
  for which in ${orders[$((round % 3))]}; do
    port_var="port_$which"
    read -r r e < <(wrk_rps "${!port_var}")
    bad=$((bad + e))
    printf -v "${which}_r" '%s' "$r"
    printf -v "$which" '%s' "${!which}$r "
  done
  ratios+="$(awk -v a="$on_r" -v b="$off_r" 'BEGIN{printf "%.3f", a / b}') "
  journal_ratios+="$(awk -v a="$journal_r" -v b="$on_r" 'BEGIN{printf "%.3f", a / b}') "
done
off_rps=$(tr ' ' '\n' <<<"$off" | grep . | median)
on_rps=$(tr ' ' '\n' <<<"$on" | grep . | median)
journal_rps=$(tr ' ' '\n' <<<"$journal" | grep . | median)
echo "rounds (req/s): off: $off| on: $on| journal: $journal| ratios on/off: $ratios|" \
  "journal/on: $journal_ratios" >&2
ratio=$(tr ' ' '\n' <<<"$ratios" | grep . | median)
journal_ratio=$(tr ' ' '\n' <<<"$journal_ratios" | grep . | median)

echo
echo "| workload | result | peer | ratio | target |"
echo "|---|---|---|---|---|"
echo "| /get at 16 conns, --error_injection on, nothing armed (req/s) | ${on_rps%.*} |" \
  "same server without it: ${off_rps%.*} |" \
  "$ratio (median of the rounds' ratios) | >= 0.98 |"
echo "| /get at 16 conns, --error_injection with the request journal (req/s) |" \
  "${journal_rps%.*} | journal off: ${on_rps%.*} | $journal_ratio | (its cost) |"
for mode in --raw --noraw; do
  build/default/bench/kvstore_injection_bench --store="127.0.0.1:$port_on" --subscribers=10 \
    --events=2000 "$mode"
done
echo "non-2xx answers across the wrk runs: $bad"
