#!/usr/bin/env bash
# Quality on the Grocery Store Dataset's val split (docs/quality.md): closed set with and
# without catalog adaptation, and the open set (10 products dropped from the catalog).
# Outputs in build/grocery/: *.sfi indexes, eval-*.json metrics, eval-*.html reports.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/setup.sh >/dev/null
g=build/grocery
node tools/grocery.mjs --out "$g"
sf() { node bin/shopframe.mjs "$@"; }
sf catalog build $g/catalog.jsonl -o $g/adapted.sfi --adapt --json > $g/build-adapted.json
sf catalog build $g/catalog.jsonl -o $g/raw.sfi --no-adapt --json > $g/build-raw.json
sf catalog build $g/catalog-open.jsonl -o $g/open.sfi --json > $g/build-open.json
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
