#!/usr/bin/env bash
# Prepare third-party single-file sources in build/deps (never committed):
#   build/deps/include/catch2/catch.hpp   Catch2 v2 from Debian's `catch2`
#   build/deps/include/stb/stb_image.h    stb_image v2.30 (apt-get source libstb, Debian trixie)
#   build/deps/include/simdjson.h         simdjson 3.0.1 amalgamation (apt-get source simdjson)
#   build/deps/simdjson/simdjson.cpp
# emcc refuses -I/usr/include, so headers are copied into a private include dir.
# Source packages come from deb.debian.org through a private apt state dir (no root needed, the
# machine's sources.list untouched); apt checks them against the signed Sources index.
# Idempotent: does nothing when the files are already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deps="$root/build/deps"
mkdir -p "$deps/include/catch2" "$deps/include/stb" "$deps/simdjson"

apt_source() {  # suite package[=version]...: download source packages into $deps/apt-src/<suite>
  local suite=$1; shift
  local work="$deps/apt-src/$suite"
  mkdir -p "$work/lists/partial"
  cat > "$work/deb-src.sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  local aptopts=(-o "Dir::Etc::SourceList=$work/deb-src.sources" -o Dir::Etc::SourceParts=/dev/null
                 -o "Dir::State::Lists=$work/lists" -o Debug::NoLocking=1 -qq)
  apt-get "${aptopts[@]}" update
  (cd "$work" && apt-get "${aptopts[@]}" source --download-only "$@" 2>/dev/null)
}

# stb_image for JPEG/PNG decoding. bookworm's libstb-dev carries v2.27, whose JPEG Huffman
# decoder indexes out of bounds on corrupt input (found by tools/fuzz.sh, see
# docs/reliability.md); v2.28+ checks the symbol id. trixie's package has v2.30.
stb_version=0.0~git20241109.5c20573+ds
if ! head -n 1 "$deps/include/stb/stb_image.h" 2>/dev/null | grep -q 'v2\.\(2[89]\|3[0-9]\)'; then
  apt_source trixie "libstb=$stb_version-1" || apt_source trixie libstb
  tarball=$(ls "$deps"/apt-src/trixie/libstb_*.orig.tar.xz | tail -n 1)
  rm -rf "$deps/apt-src/trixie/stb" && mkdir -p "$deps/apt-src/trixie/stb"
  tar -xJf "$tarball" -C "$deps/apt-src/trixie/stb" --strip-components=1 --wildcards '*/stb_image.h'
  header="$deps/apt-src/trixie/stb/stb_image.h"
  head -n 1 "$header" | grep -q 'v2\.\(2[89]\|3[0-9]\)' || {
    echo "fetch-deps: $tarball has no stb_image v2.28 or newer" >&2; exit 1; }
  cp "$header" "$deps/include/stb/stb_image.h"
fi

if [ ! -f "$deps/include/catch2/catch.hpp" ]; then
  cp /usr/include/catch2/catch.hpp "$deps/include/catch2/catch.hpp"
fi

if [ ! -f "$deps/simdjson/simdjson.cpp" ] || [ ! -f "$deps/include/simdjson.h" ]; then
  apt_source bookworm simdjson=3.0.1-1
  work="$deps/apt-src/bookworm"
  tar -xzf "$work"/simdjson_3.0.1.orig.tar.gz -C "$work" \
    simdjson-3.0.1/singleheader/simdjson.cpp simdjson-3.0.1/singleheader/simdjson.h
  cp "$work/simdjson-3.0.1/singleheader/simdjson.cpp" "$deps/simdjson/simdjson.cpp"
  cp "$work/simdjson-3.0.1/singleheader/simdjson.h" "$deps/include/simdjson.h"
fi
