#!/usr/bin/env bash
# Quality on the Grocery Store Dataset's val split (docs/quality.md): closed set with and
# without catalog adaptation, and the open set (10 products dropped from the catalog).
# Outputs in build/grocery/: *.sfi indexes, eval-*.json metrics, eval-*.html reports,
# records-*.jsonl (what each query got).
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
for run in "adapted queries" "raw queries" "open queries-open" "open queries-open-all"; do
  set -- $run
  sf eval --catalog $g/$1.sfi --labeled $g/$2.jsonl --report $g/eval-$2-$1.html --records $g/records-$2-$1.jsonl > $g/eval-$2-$1.json
  echo "== $1 ($2)"; node -e "const m=require('./$g/eval-$2-$1.json'); console.log(JSON.stringify({r1:m.recall_at_1,r5:m.recall_at_5,coverage:m.coverage,precision:m.precision,fsr:m.false_suggestion_rate,item_or_category:m.item_or_category,oracle:m.oracle_at_max_false_rate}))"
done
# Calibration on photos apart from the catalog, evaluated on out-of-catalog products it never
# saw: calibrate on half a of queries-open-all (half the in-catalog val photos, every photo of
# five of the dropped products), evaluate on half b (the other val photos, the other five
# products); then the other way round.
for fold in "a b" "b a"; do
  set -- $fold
  sf calibrate --catalog $g/open.sfi --labeled $g/queries-open-all-$1.jsonl -o $g/open-calibrated-$1.sfi --report $g/calibrate-open-$1.html > $g/calibrate-open-$1.json
  sf eval --catalog $g/open-calibrated-$1.sfi --labeled $g/queries-open-all-$2.jsonl --report $g/eval-open-calibrated-$1-on-$2.html --records $g/records-open-calibrated-$1-on-$2.jsonl > $g/eval-open-calibrated-$1-on-$2.json
  echo "== open, calibrated on half $1, evaluated on half $2"
  node -e "const m=require('./$g/eval-open-calibrated-$1-on-$2.json'); console.log(JSON.stringify({r1:m.recall_at_1,coverage:m.coverage,precision:m.precision,fsr:m.false_suggestion_rate,categories:m.category_suggestions,item_or_category:m.item_or_category}))"
done
