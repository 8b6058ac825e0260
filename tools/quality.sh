#!/usr/bin/env bash
# Quality on the Grocery Store Dataset's val split (docs/quality.md): closed set with and
# without catalog adaptation, and the open set (10 products dropped from the catalog).
# Outputs in build/grocery/: *.sfi indexes, eval-*.json metrics, eval-*.html reports.
#
#   tools/quality.sh                      # the default embedder
#   tools/quality.sh --embedder NAME      # another models/NAME.json, outputs in build/grocery-NAME/
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
usage() { echo "usage: tools/quality.sh [--embedder NAME] (NAME: a manifest in models/)" >&2; exit 2; }
g=build/grocery embedder=()
case "${1:-}" in
  '') ;;
  --embedder)
    [[ -n "${2:-}" && -f "models/$2.json" ]] || usage
    g=build/grocery-$2 embedder=(--embedder "$2") ;;
  *) usage ;;
esac
tools/setup.sh >/dev/null
node tools/grocery.mjs --out "$g"
sf() { node bin/shopframe.mjs "$@"; }
# analyze, eval and calibrate follow the embedder the index names, so only builds need it.
sf catalog build $g/catalog.jsonl -o $g/adapted.sfi --adapt "${embedder[@]}" --json > $g/build-adapted.json
sf catalog build $g/catalog.jsonl -o $g/raw.sfi --no-adapt "${embedder[@]}" --json > $g/build-raw.json
sf catalog build $g/catalog-open.jsonl -o $g/open.sfi "${embedder[@]}" --json > $g/build-open.json
for run in "adapted queries" "raw queries" "open queries-open"; do
  set -- $run
  sf eval --catalog $g/$1.sfi --labeled $g/$2.jsonl --report $g/eval-$1.html > $g/eval-$1.json
  echo "== $1 ($2)"; node -e "const m=require('./$g/eval-$1.json'); console.log(JSON.stringify({r1:m.recall_at_1,r5:m.recall_at_5,coverage:m.coverage,precision:m.precision,fsr:m.false_suggestion_rate,oracle:m.oracle_at_max_false_rate}))"
done
# Calibration on photos apart from the catalog: half a of the open-set queries, then
# evaluation on half b.
sf calibrate --catalog $g/open.sfi --labeled $g/queries-open-a.jsonl -o $g/open-calibrated.sfi --report $g/calibrate-open.html > $g/calibrate-open.json
sf eval --catalog $g/open-calibrated.sfi --labeled $g/queries-open-b.jsonl --report $g/eval-open-calibrated.html > $g/eval-open-calibrated.json
echo "== open, calibrated on half a, evaluated on half b"
node -e "const m=require('./$g/eval-open-calibrated.json'); console.log(JSON.stringify({r1:m.recall_at_1,coverage:m.coverage,precision:m.precision,fsr:m.false_suggestion_rate,categories:m.category_suggestions}))"
