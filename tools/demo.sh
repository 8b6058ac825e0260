#!/usr/bin/env bash
# The main job, end to end: set-up, then build a demo catalog index and search it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/setup.sh
node tools/demo.mjs "$@"
