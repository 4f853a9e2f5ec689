#!/usr/bin/env bash
# Power-cut benchmark (issue "fault scripts ...", part 5): acknowledged writes lost to a power
# cut, per --fsync mode. Each round starts a store on disk with --error_injection, 4 writers
# set unique keys over keep-alive connections, storage.write cuts the power (every file back
# to what it had synced, unsynced directory entries gone, the process killed) after about
# BENCH_CUT_AFTER writes, the store restarts on the same directory, and every acknowledged
# key is read back. It runs tests/store/power_cut_test with more rounds and longer runs than
# ctest does (so everysec's syncs, once a second, come into play).
# Usage: bench/power_cut_bench.sh   (BENCH_ROUNDS=5, BENCH_CUT_AFTER=40000: a few seconds of
# writing per round, so that everysec syncs several times; about 2 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${BENCH_ROUNDS:-5}"
after="${BENCH_CUT_AFTER:-40000}"
binary=build/default/tests/store/power_cut_test
[ -x "$binary" ] || cmake --build --preset default --target power_cut_test kvstore_server

out=$(KVSTORE_POWER_CUT_ROUNDS="$rounds" KVSTORE_POWER_CUT_AFTER="$after" "$binary" \
  --gtest_filter='PowerCutTest.Fsync*' 2>&1) || { echo "$out" >&2; exit 1; }
echo "$out" | grep '^fsync=' >&2
echo
echo "| --fsync | rounds | acknowledged writes | lost | lost per round |"
echo "|---|---|---|---|---|"
echo "$out" | sed -nE 's/^POWER_CUT fsync=([a-z]+) rounds=([0-9]+) acknowledged=([0-9]+) lost=([0-9]+)$/\1 \2 \3 \4/p' |
  while read -r mode n acked lost; do
    echo "| $mode | $n | $acked | $lost | $(awk -v l="$lost" -v n="$n" 'BEGIN{printf "%.1f", l / n}') |"
  done
