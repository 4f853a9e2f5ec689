#!/usr/bin/env bash
# --help of each binary lists its own flags (abseil's default looks for a source
# file named after the binary and printed "No flags matched").
# Usage: help_test.sh BINARY FLAG...
set -uo pipefail
binary=$1
shift
out=$("$binary" --help 2>&1)
status=0
for flag in "$@"; do
  if ! grep -q -- "--$flag " <<<"$out"; then
    echo "FAIL: $(basename "$binary") --help does not list --$flag" >&2
    status=1
  fi
done
if grep -q "No flags matched" <<<"$out"; then
  echo "FAIL: $(basename "$binary") --help: No flags matched" >&2
  status=1
fi
exit $status
