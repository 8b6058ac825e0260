#!/usr/bin/env bash
# Incremental build of the native (build/native) and WASM (build/wasm) trees, and the browser
# SDK bundle (build/web, once npm ci has installed esbuild).
#   tools/build.sh            both
#   tools/build.sh native     only native
#   tools/build.sh wasm       only WASM
#   tools/build.sh asan       native with ASan+UBSan (build/asan)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}  # Debian's emcc needs acorn from here
jobs=$(nproc 2>/dev/null || echo 2)
tools/fetch-deps.sh

configure() {  # dir, then extra cmake args
  local dir=$1; shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    "$@" -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
}

build_native() {
  configure build/native cmake
  cmake --build build/native -j"$jobs"
}
build_wasm() {
  configure build/wasm emcmake cmake
  cmake --build build/wasm -j"$jobs"
  if [ -d node_modules/esbuild ]; then node tools/build-web.mjs; fi  # the browser SDK bundle (build/web)
}
build_asan() {
  configure build/asan cmake -DSF_SANITIZE=ON -DSF_BUILD_BENCH=OFF
  cmake --build build/asan -j"$jobs"
}

case "${1:-all}" in
  native) build_native ;;
  wasm) build_wasm ;;
  asan) build_asan ;;
  all) build_native; build_wasm ;;
  *) echo "usage: tools/build.sh [native|wasm|asan|all]" >&2; exit 2 ;;
esac
