#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang-14, ASan + UBSan) and runs each for
# SECONDS (default 60), starting from its seed corpus in tests/fuzz/corpus/<target>. A crash,
# a leak, a broken invariant, a hang (10 s per input) or an out-of-memory fails the run; the
# input that caused it is kept in build/fuzz/artifacts/<target>/ (replay it with
# build/fuzz/tests/fuzz/<target> FILE). New inputs found go to build/fuzz/corpus/<target>, not
# into the repository. Prints executions per target at the end.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(fuzz_http_server fuzz_seed_query fuzz_data_api fuzz_row_filter
           fuzz_injection_params fuzz_client_decoders)
fi

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

failed=()
summary=()
for target in "${targets[@]}"; do
  work=build/fuzz/corpus/$target
  artifacts=build/fuzz/artifacts/$target
  mkdir -p "$work" "$artifacts"
  log=build/fuzz/$target.log
  echo "== $target: ${seconds}s"
  status=0
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "build/fuzz/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=8192 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  summary+=("$(printf '%-24s %10s execs %7s/s  %s' "$target" "${execs:-?}" "${rate:-?}" "$cov")")
  if ((status != 0)); then
    failed+=("$target")
    echo "!! $target failed (exit $status); its log: $log"
    grep -E 'ERROR|invariant|Sanitizer|SUMMARY|Test unit written' "$log" | head -20 || true
  fi
done

echo "== fuzz summary (${seconds}s each)"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]} > 0)); then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
