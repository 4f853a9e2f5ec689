#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the benchmarks need, and the
# console test's npm packages. Idempotent: packages already present are skipped, so a second
# run costs a dpkg query.
# Usage: scripts/install_deps.sh [--bench]   (--bench adds wrk, nginx, redis and webdis)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git clang-format clang libclang-rt-14-dev
  libboost-dev libboost-system-dev
  librocksdb-dev
  libabsl-dev
  libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
  libre2-dev
  libgtest-dev libgmock-dev
  curl procps python3
  python3-protobuf python3-grpcio
  chromium fonts-dejavu-core
)
# Node.js for the console's browser test (tests/console): the machine's own if it has one.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then packages+=(nodejs npm); fi
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(wrk nginx-light redis-server webdis)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  echo "install_deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The browser test's driver, puppeteer-core, pinned by tests/console/package-lock.json (it
# drives the system Chromium above; it downloads no browser).
console="$(dirname "$0")/../tests/console"
if [[ ! -f "$console/node_modules/.package-lock.json" ||
      "$console/package-lock.json" -nt "$console/node_modules/.package-lock.json" ]]; then
  echo "install_deps: npm ci in tests/console" >&2
  (cd "$console" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
