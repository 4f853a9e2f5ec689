#!/usr/bin/env bash
# Sets up, builds and runs every test: formatting, then the whole suite in the default
# (RelWithDebInfo, warnings as errors) build and again under ASan + UBSan.
# Usage: scripts/test.sh [preset...]   (default: default asan)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh

echo "== clang-format check"
mapfile -t sources < <(git ls-files '*.cc' '*.h' 2>/dev/null || find . -name '*.cc' -o -name '*.h')
if ((${#sources[@]} > 0)); then
  clang-format --dry-run -Werror "${sources[@]}"
fi

presets=("$@")
if ((${#presets[@]} == 0)); then presets=(default asan); fi
for preset in "${presets[@]}"; do
  echo "== build ($preset)"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  echo "== test ($preset)"
  ctest --preset "$preset"
done
