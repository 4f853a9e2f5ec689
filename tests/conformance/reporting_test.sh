#!/usr/bin/env bash
# Checks the harness's reporting against real failures: with a store binary
# that cannot start, every test fails in its setup. One of the two tests run
# is a listed known failure: it must be a <skipped> with its reason in the
# JUnit XML, the other a <failure>; the Markdown report names the failing
# test's rules; --expect_tests and --strict_known_failures fail the run when
# they should. Usage: reporting_test.sh HARNESS TESTDATA_DIR
set -uo pipefail
harness=$1
testdata=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "reporting_test: $*" >&2; exit 1; }
two='*ReadRow_Generic_ReturnsTheRow:*ReadRow_Generic_MissingRowIsOkWithNoRow'

"$harness" --store_binary=/nonexistent --gtest_filter="$two" \
  --known_failures="$testdata/known_failures_with_reasons.txt" \
  --gtest_output="xml:$out/junit.xml" --report="$out/report.md" \
  --expect_tests=2 >"$out/log" 2>&1
status=$?
[[ $status == 1 ]] || fail "exit status $status, want 1 (one unlisted failure)"
grep -q '1 failed, 1 known-failed' "$out/log" || fail "summary: $(tail -1 "$out/log")"
grep -q '<skipped message="known failure: the store binary is missing on purpose"' \
  "$out/junit.xml" || fail "no <skipped> with the reason in the JUnit XML"
grep -A3 'name="ReadRow_Generic_MissingRowIsOkWithNoRow"' "$out/junit.xml" |
  grep -q '<failure' || fail "no <failure> for the unlisted test"
grep -q '| ReadRow | ❌ 0/2 (1 known) API-1, API-2 |' "$out/report.md" ||
  fail "report matrix: $(cat "$out/report.md")"
grep -q 'ReadRow_Generic_MissingRowIsOkWithNoRow` (API-2)' "$out/report.md" ||
  fail "report failures: $(cat "$out/report.md")"

"$harness" --gtest_filter='*ReadRow_Generic_ReturnsTheRow' --expect_tests=3 \
  >"$out/log" 2>&1 && fail "--expect_tests=3 with one test passed the run"
grep -q '1 tests ran, --expect_tests=3' "$out/log" || fail "no --expect_tests message"

"$harness" --gtest_filter='*ReadRow_Generic_ReturnsTheRow' --strict_known_failures \
  --known_failures="$testdata/known_failures_with_reasons.txt" >"$out/log" 2>&1 &&
  fail "--strict_known_failures passed with a listed test passing"
grep -q 'listed as known failures passed' "$out/log" || fail "no known-passed note"
echo "reporting_test: ok"
