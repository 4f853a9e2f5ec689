#!/usr/bin/env bash
# Usage: install_test.sh SOURCE_DIR BUILD_DIR
# 1. cmake --install of BUILD_DIR into a temporary prefix; a consumer project outside the
#    repository finds it with find_package(kvstore), links kvstore::client, and its one call
#    fails UNAVAILABLE against a closed port.
# 2. A parent project adds the repository with add_subdirectory: kvstore::client exists and
#    no include path leaks to a target that does not link it.
set -euo pipefail
src=$1
build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
for f in bin/kvstore_server include/client/client.h include/common/status_http.h \
         include/kvstore/v1/data.pb.h share/kvstore/protos/kvstore/v1/data.proto \
         lib/cmake/kvstore/kvstoreConfig.cmake; do
  [[ -e $work/prefix/$f ]] || { echo "FAIL: $f not installed" >&2; exit 1; }
done
cmake -S "$src/tests/install/consumer" -B "$work/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$work/consumer/consumer" "127.0.0.1:$port"

cmake -S "$src/tests/install/parent" -B "$work/parent" -G Ninja \
  -DKVSTORE_SOURCE_DIR="$src" -DKVSTORE_WITH_GRPC=OFF >/dev/null
cmake --build "$work/parent" --target without_kvstore >/dev/null
echo "install_test: ok"
