#!/usr/bin/env bash
# Sets up, builds and runs the system: kvstore_server on 127.0.0.1:4000 (data in ./kvstore-data)
# and kvstore_test_proxy on 127.0.0.1:9999 (gRPC, its clients talking to that store).
# Extra arguments go to the server, e.g. scripts/run.sh --in_memory
# Ctrl-C (or SIGTERM) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh default >&2
proxy_port="${KVSTORE_PROXY_PORT:-9999}"
build/default/store/kvstore_server "$@" &
server=$!
build/default/proxy/kvstore_test_proxy --port="$proxy_port" &
proxy=$!
stop() { kill -TERM "$server" "$proxy" 2>/dev/null || true; }
trap stop INT TERM
echo "store: http://127.0.0.1:4000 (curl 'http://127.0.0.1:4000/set?hello=world')" >&2
echo "proxy: grpcurl -plaintext 127.0.0.1:$proxy_port list" >&2
# Either one exiting stops the other.
wait -n "$server" "$proxy" || true
stop
wait || true
