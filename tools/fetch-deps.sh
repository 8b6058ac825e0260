#!/usr/bin/env bash
# Prepare third-party single-file sources in build/deps (never committed):
#   build/deps/include/catch2/catch.hpp   Catch2 v2 from Debian's `catch2`
#   build/deps/include/stb/stb_image.h   from Debian's `libstb-dev`
#   build/deps/include/simdjson.h         simdjson 3.0.1 amalgamation (apt-get source simdjson)
#   build/deps/simdjson/simdjson.cpp
# emcc refuses -I/usr/include, so headers are copied into a private include dir.
# Idempotent: does nothing when the files are already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deps="$root/build/deps"
mkdir -p "$deps/include/catch2" "$deps/simdjson"

# stb_image (libstb-dev) for JPEG/PNG decoding.
if [ ! -f "$deps/include/stb/stb_image.h" ]; then
  mkdir -p "$deps/include/stb"
  cp /usr/include/stb/stb_image.h "$deps/include/stb/stb_image.h"
fi

if [ ! -f "$deps/include/catch2/catch.hpp" ]; then
  cp /usr/include/catch2/catch.hpp "$deps/include/catch2/catch.hpp"
fi

if [ ! -f "$deps/simdjson/simdjson.cpp" ] || [ ! -f "$deps/include/simdjson.h" ]; then
  work="$deps/apt-src"
  mkdir -p "$work/lists/partial"
  cat > "$work/deb-src.sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  aptopts=(-o "Dir::Etc::SourceList=$work/deb-src.sources" -o Dir::Etc::SourceParts=/dev/null
           -o "Dir::State::Lists=$work/lists" -o Debug::NoLocking=1 -qq)
  apt-get "${aptopts[@]}" update
  (cd "$work" && apt-get "${aptopts[@]}" source --download-only simdjson=3.0.1-1 2>/dev/null)
  tar -xzf "$work"/simdjson_3.0.1.orig.tar.gz -C "$work" \
    simdjson-3.0.1/singleheader/simdjson.cpp simdjson-3.0.1/singleheader/simdjson.h
  cp "$work/simdjson-3.0.1/singleheader/simdjson.cpp" "$deps/simdjson/simdjson.cpp"
  cp "$work/simdjson-3.0.1/singleheader/simdjson.h" "$deps/include/simdjson.h"
fi
