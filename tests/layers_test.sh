#!/usr/bin/env bash
# scripts/check_layers.py must pass this tree and fail a tree with a forbidden
# include (storage -> http, http -> storage, client -> store), naming the file.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${KVSTORE_PYTHON3:-python3}
"$python" "$root/scripts/check_layers.py" "$root"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
check_rejects() {  # FILE INCLUDE
  rm -rf "$work/tree" && mkdir -p "$work/tree/$(dirname "$1")"
  printf '#include "%s"\n' "$2" >"$work/tree/$1"
  if out=$("$python" "$root/scripts/check_layers.py" "$work/tree" 2>&1); then
    echo "FAIL: $1 including $2 passed the check" >&2
    exit 1
  fi
  grep -q "$1: includes $2" <<<"$out" || { echo "FAIL: unclear report: $out" >&2; exit 1; }
}
check_rejects store/storage/engine_extra.cc store/http/http_server.h
check_rejects store/storage/engine_extra.cc store/injection/injection_registry.h
check_rejects store/storage/engine_extra.cc store/api/seed_table.h
check_rejects store/http/http_extra.cc store/storage/engine.h
check_rejects store/injection/x.h store/http/http_server.h
check_rejects client/x.cc store/api/data_api.h
check_rejects common/x.h client/client.h
# Allowed directions pass.
mkdir -p "$work/ok/store/api" "$work/ok/proxy"
printf '#include "store/storage/engine.h"\n#include "common/coding.h"\n' >"$work/ok/store/api/a.cc"
printf '#include "client/client.h"\n#include "absl/status/status.h"\n' >"$work/ok/proxy/p.cc"
"$python" "$root/scripts/check_layers.py" "$work/ok"
echo "layers_test: ok"
