#!/usr/bin/env bash
# Proxy benchmark (issue "client, proxy, conformance", point 11): starts kvstore_server
# (--in_memory, so the store's own cost stays small and steady next to the proxy's) and
# kvstore_test_proxy on free ports, then runs build/default/bench/kvstore_proxy_bench: ReadRow
# and MutateRow directly with kvstore::Client and through the proxy at 1 and 16 callers, and a
# no-op gRPC call (health Check) on the proxy's server as the ceiling.
# Usage: bench/proxy_bench.sh   (BENCH_SECONDS=2 per cell, BENCH_ROUNDS=3 rounds of every cell;
#        about 100 seconds)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${BENCH_SECONDS:-2}"
rounds="${BENCH_ROUNDS:-3}"

source bench/lib.sh

kv_port=$(free_port)
build/default/store/kvstore_server --port="$kv_port" --in_memory </dev/null \
  >"$work/kv.log" 2>&1 &
pids+=($!)
wait_port "$kv_port"
proxy_port=$(free_port)
build/default/proxy/kvstore_test_proxy --port="$proxy_port" </dev/null \
  >"$work/proxy.log" 2>&1 &
pids+=($!)
wait_port "$proxy_port"

build/default/bench/kvstore_proxy_bench --store="127.0.0.1:$kv_port" \
  --proxy="127.0.0.1:$proxy_port" --seconds="$seconds" --rounds="$rounds"
