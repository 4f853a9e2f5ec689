#!/usr/bin/env bash
# Checks the per-test timelines (--timeline_dir) against real runs:
#  1. with --timeline=all, a passing retry test gets a page and its JSON, and
#     the JSON matches the run: three attempts at the store (503, 503, 200),
#     spaced by at least the spec's backoff (B(n)/2: 5 ms, then 10 ms), the
#     proxy RPC that made them, the point's two fires; the page is one
#     self-contained file (no scripts, links or fetched resources);
#  2. by default only failed tests get one: against a deliberately broken
#     proxy (one attempt per call) the retry test fails and has a timeline
#     showing its single attempt and the failed assertion, the passing test
#     has none, and the JUnit XML links the page from the failed test only;
#  3. --timeline with a bad value stops the run (exit 2).
# Usage: timeline_test.sh HARNESS TESTDATA_DIR
set -uo pipefail
harness=$1
testdata=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "timeline_test: $*" >&2; exit 1; }
retry='FaultTest.ReadRow_Retry_TransientError'

"$harness" --timeline_dir="$out/all" --timeline=all \
  --gtest_filter="*ReadRow_Retry_TransientError" >"$out/log1" 2>&1 ||
  fail "the retry test failed against the reference proxy: $(tail -5 "$out/log1")"
[[ -f $out/all/$retry.html && -f $out/all/$retry.json ]] || fail "no files: $(ls "$out/all")"
python3 - "$out/all/$retry.json" <<'PY' || fail "the JSON does not match the run"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["test"] == "FaultTest.ReadRow_Retry_TransientError" and not d["failed"], d["test"]
armed = max(e["seq"] for e in d["events"]
            if e["injection"] == "request.parsed" and e["phase"] == "armed")
reads = [r for r in d["requests"] if r["route"] == ":readRows" and r["seq"] > armed]
assert [r["status"] for r in reads] == [503, 503, 200], [r["status"] for r in reads]
assert reads[0]["injections"] == ["request.parsed"] and reads[2]["injections"] == []
for n, floor_us in ((1, 5000 - 1000), (2, 10000 - 1000)):
    gap = reads[n]["start_us"] - reads[n - 1]["end_us"]
    assert gap >= floor_us, f"gap before retry {n}: {gap} us"
rpcs = [r for r in d["rpcs"] if r["method"] == "ReadRow"]
assert len(rpcs) == 1 and rpcs[0]["code"] == 0, rpcs
# (Causal order only: the store stamps an answer's end after writing it,
# which may come after the proxy has already answered.)
assert rpcs[0]["start_us"] <= reads[0]["start_us"] and reads[2]["start_us"] <= rpcs[0]["end_us"]
fired = [e for e in d["events"] if e["injection"] == "request.parsed" and e["phase"] == "fired"]
assert len(fired) == 2, len(fired)
assert d["failures"] == []
PY
page=$out/all/$retry.html
grep -q '<div class="lane"><div class="name">store requests (journal)' "$page" || fail "no lanes"
grep -q ':readRows 503' "$page" || fail "the page does not show the failed attempts"
if grep -Eiq '<script|<link|https?://|url\(|@import|<img|<iframe' "$page"; then
  fail "the page is not self-contained: $(grep -Eio '<script|<link|https?://[^" ]*|url\(|@import|<img|<iframe' "$page" | head -3)"
fi

"$harness" --proxy_binary="$testdata/single_attempt_proxy.py" --timeline_dir="$out/failed" \
  --gtest_filter="*ReadRow_Retry_TransientError:*ReadRow_Generic_ReturnsTheRow" \
  --gtest_output="xml:$out/junit.xml" >"$out/log2" 2>&1
status=$?
[[ $status == 1 ]] || fail "exit status $status against the broken proxy, want 1"
grep -q '1 passed, 1 failed' "$out/log2" || fail "summary: $(tail -1 "$out/log2")"
[[ $(ls "$out/failed") == "$retry.html"$'\n'"$retry.json" ]] ||
  fail "want files for the failed test only, got: $(ls "$out/failed")"
python3 - "$out/failed/$retry.json" <<'PY' || fail "the failed test's JSON does not match the run"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["failed"], "not marked failed"
reads = [r["status"] for r in d["requests"] if r["route"] == ":readRows"]
assert reads == [503], reads
assert d["failures"] and "fault_test.h" in d["failures"][0]["where"], d["failures"]
rpc = [r for r in d["rpcs"] if r["method"] == "ReadRow"][0]
assert rpc["code"] == 14, rpc
assert any(f["at_us"] >= rpc["end_us"] for f in d["failures"]), "assertion before the call ended"
PY
grep -q 'fault_test.h' "$out/failed/$retry.html" || fail "the page does not show the assertion"
grep -A4 "name=\"ReadRow_Retry_TransientError\"" "$out/junit.xml" |
  grep -q "name=\"timeline\" value=\"$out/failed/$retry.html\"" ||
  fail "the JUnit XML does not link the failed test's timeline"
grep -A4 'name="ReadRow_Generic_ReturnsTheRow"' "$out/junit.xml" | grep -q timeline &&
  fail "the passing test has a timeline link"

"$harness" --timeline=sometimes --gtest_filter=none >"$out/log3" 2>&1
[[ $? == 2 ]] || fail "--timeline=sometimes did not stop the run"
grep -q -- '--timeline must be failed or all' "$out/log3" || fail "no message: $(cat "$out/log3")"
echo "timeline_test: ok"
