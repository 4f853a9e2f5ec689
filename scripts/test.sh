#!/usr/bin/env bash
# Sets up, builds and runs every test: formatting, then the whole suite in the default
# (RelWithDebInfo, warnings as errors) build and under ASan + UBSan; the clang build, whose
# -Wthread-safety analysis of the lock annotations is its check (built, not run again); and
# the store and client suites under ThreadSanitizer; then each libFuzzer target for a short,
# bounded time (KVSTORE_FUZZ_SECONDS, default 15 s each; see README.md, "Development").
# Usage: scripts/test.sh [preset...]   (default: default asan clang tsan fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh

echo "== clang-format check"
mapfile -t sources < <(git ls-files '*.cc' '*.h' 2>/dev/null || find . -name '*.cc' -o -name '*.h')
if ((${#sources[@]} > 0)); then
  clang-format --dry-run -Werror "${sources[@]}"
fi

presets=("$@")
if ((${#presets[@]} == 0)); then presets=(default asan clang tsan fuzz); fi
for preset in "${presets[@]}"; do
  if [[ $preset == fuzz ]]; then
    echo "== fuzz (${KVSTORE_FUZZ_SECONDS:-15}s per target)"
    scripts/fuzz.sh "${KVSTORE_FUZZ_SECONDS:-15}"
    continue
  fi
  if [[ $preset == tsan ]]; then scripts/tsan_deps.sh; fi
  echo "== build ($preset)"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  if [[ $preset == clang ]]; then
    echo "== clang: -Wthread-safety found nothing (the build is the check)"
    continue
  fi
  echo "== test ($preset)"
  ctest --preset "$preset"
done
