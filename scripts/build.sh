#!/usr/bin/env bash
# Installs what is missing, then configures and builds one CMake preset (default: "default").
# Usage: scripts/build.sh [default|asan]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-default}"
scripts/install_deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
