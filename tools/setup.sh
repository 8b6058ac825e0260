#!/usr/bin/env bash
# One-time (and idempotent) set-up on Debian bookworm: system packages, third-party
# single files, npm packages, then an incremental build. Quick when nothing changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Debian packages: compilers and build tools, Emscripten, Catch2 v2, xz (stb source
# tarball), FAISS (benchmark peer), clang (fuzzers / sanitizers), chromium (browser tests).
packages=(cmake g++ make emscripten catch2 xz-utils libfaiss-dev libopenblas0-serial clang ffmpeg libclang-rt-14-dev nodejs chromium fonts-liberation python3-onnx python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

tools/fetch-deps.sh

# npm packages, only when package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

tools/build.sh
