#!/usr/bin/env bash
# Builds abseil with ThreadSanitizer for the `tsan` preset, into build/deps/abseil-tsan.
#
# TSan sees a lock only if the code that takes it is instrumented, and Debian's libabsl is
# not: every absl::Mutex would look like no lock at all and every guarded field like a race.
# So the tsan build links its own abseil, compiled from Debian's source of the very version
# Debian ships (fetched from deb.debian.org and checked against Debian's SHA-256), with
# -fsanitize=thread by clang-14, the compiler of the tsan preset (GCC 12's TSan runtime crashes
# in Debian's libprotobuf: a Map lookup segfaults even in a five-line program). Idempotent: a
# finished build is reused.
# Usage: scripts/tsan_deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."

version=20220623.1
sha256=abfe2897f3a30edaa74bc34365afe3c2a3cd012091a97dc7e008f7016adcd5fe
url="http://deb.debian.org/debian/pool/main/a/abseil/abseil_${version}.orig.tar.gz"
deps=$PWD/build/deps
prefix=$deps/abseil-tsan
stamp=$prefix/.built-$version-clang-14

if [[ -f $stamp ]]; then exit 0; fi
mkdir -p "$deps"
tarball=$deps/abseil_${version}.orig.tar.gz
if [[ ! -f $tarball ]] || ! echo "$sha256  $tarball" | sha256sum -c --status; then
  echo "tsan_deps: fetching $url" >&2
  curl -fsSL --retry 3 -o "$tarball.part" "$url"
  echo "$sha256  $tarball.part" | sha256sum -c --status || {
    echo "tsan_deps: checksum mismatch for $url" >&2
    exit 1
  }
  mv "$tarball.part" "$tarball"
fi
src=$deps/abseil-$version
rm -rf "$src" "$deps/abseil-build" "$prefix"
tar -xzf "$tarball" -C "$deps"
echo "tsan_deps: building abseil $version with -fsanitize=thread" >&2
cmake -S "$src" -B "$deps/abseil-build" -G Ninja \
  -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_STANDARD=17 -DABSL_PROPAGATE_CXX_STD=ON \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_TESTING=OFF -DABSL_BUILD_TESTING=OFF \
  -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
cmake --build "$deps/abseil-build" >/dev/null
cmake --install "$deps/abseil-build" >/dev/null
rm -rf "$src" "$deps/abseil-build"
touch "$stamp"
