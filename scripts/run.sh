#!/usr/bin/env bash
# Sets up, builds and runs the system: kvstore_server on 127.0.0.1:4000 (data in ./kvstore-data).
# Extra arguments go to the server, e.g. scripts/run.sh --in_memory --port=4001
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh default >&2
exec build/default/store/kvstore_server "$@"
