// Experiment (docs/quality.md, "Novelty in the un-adapted features"): does the raw feature
// space keep what tells an unseen twin from the catalog product it matches, which the catalog
// adaptation (LDA, learned on the catalog's own products) may project away?
//
// For every labeled photo: the adapted index's fused ranking (what the engine decides on) and
// the same regions' fused scores in an un-adapted index of the same catalog; then, for several
// rules, the best coverage of in-catalog photos (right top-1) that keeps out-of-catalog photos
// under 2% (an oracle: the threshold is chosen on these very photos).
//
//   node tools/grocery.mjs
//   npx shopframe catalog build build/grocery/catalog-open.jsonl -o build/grocery/open.sfi
//   npx shopframe catalog build build/grocery/catalog-open.jsonl -o build/grocery/open-raw.sfi --no-adapt
//   node tools/experiments/open_set_novelty.mjs build/grocery/open.sfi build/grocery/open-raw.sfi \
//        build/grocery/queries-open-all.jsonl build/grocery/novelty-rows.jsonl
import { readFileSync, writeFileSync } from 'node:fs';
import { createEngine } from '../../js/engine.mjs';
import { loadIndex } from '../../js/shopframe.mjs';
import { fuseMatches } from '../../js/decide.mjs';
import { readLabeled } from '../../js/node/cli_vision.mjs';

// A missing or bad file ends the run with its message, not a stack trace.
process.on('uncaughtException', (e) => { console.error(`open_set_novelty: ${e.message}`); process.exit(1); });
const [adaptedPath, rawPath, labeled, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node tools/experiments/open_set_novelty.mjs ADAPTED.sfi RAW.sfi QUERIES.jsonl OUT_ROWS.jsonl');
  process.exit(2);
}
const engine = await createEngine({ index: readFileSync(adaptedPath) });
const raw = await loadIndex(readFileSync(rawPath));
const queries = await readLabeled(labeled);
if (!queries.length) throw new Error(`${labeled}: no queries`);
const rows = [];
for (const q of queries) {
  const res = await engine.analyzeEncoded(readFileSync(q.image), { k: 71, embeddings: true });
  const rawTop = fuseMatches(res.regions.map((r) => raw.search(r.embedding, { k: 71, distinct: true })), 71);
  const rawScore = new Map(rawTop.map((m) => [m.id, m.score]));
  rows.push({
    image: q.shown, expected: q.expected, category: q.expectedCategory,
    adapted: res.top.slice(0, 10).map((m) => [m.id, +m.score.toFixed(4), m.category]),
    raw: rawTop.slice(0, 10).map((m) => [m.id, +m.score.toFixed(4)]),
    rawOfTop1: rawScore.get(res.top[0].id) ?? null,
  });
}
await engine.close();
writeFileSync(out, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

const outOfCatalog = rows.filter((r) => r.expected === null).length;
const inCatalog = rows.length - outOfCatalog;
const maxFalse = Math.floor(0.02 * outOfCatalog);
const features = rows.map((r) => {
  const [top1, score1] = r.adapted[0];
  const agree = r.raw[0][0] === top1;
  return {
    known: r.expected !== null, right: r.expected === top1, score1, margin: score1 - r.adapted[1][1],
    rawScore: r.rawOfTop1 ?? -1,
    // the raw space's own margin for the adapted top-1 (negative when raw ranks another first)
    rawMargin: agree ? r.raw[0][1] - r.raw[1][1] : (r.rawOfTop1 ?? -1) - r.raw[0][1],
  };
});
function oracle(rule) {
  const ranked = features.map((f) => ({ f, v: rule(f) })).sort((a, b) => b.v - a.v);
  let right = 0, wrong = 0, falseOut = 0, best = { coverage: 0, right: 0, wrong: 0, false: 0 };
  for (const { f } of ranked) {
    if (!f.known) ++falseOut; else if (f.right) ++right; else ++wrong;
    if (falseOut <= maxFalse) best = { coverage: +(right / inCatalog).toFixed(3), right, wrong, false: falseOut };
  }
  return best;
}
const rules = {
  'adapted top-1 score': (f) => f.score1,
  'adapted top-1/top-2 margin': (f) => f.margin,
  'raw score of the adapted top-1': (f) => f.rawScore,
  'raw margin of the adapted top-1': (f) => f.rawMargin,
  'adapted margin + raw margin': (f) => f.margin + f.rawMargin,
  'adapted score + 0.5 raw score': (f) => f.score1 + 0.5 * f.rawScore,
};
console.log(`${rows.length} photos, ${inCatalog} in the catalog, ${outOfCatalog} not (<= 2%: ${maxFalse} false)`);
for (const [name, rule] of Object.entries(rules)) console.log(name.padEnd(34), JSON.stringify(oracle(rule)));
const quantile = (a, p) => a.slice().sort((x, y) => x - y)[Math.floor(p * (a.length - 1))].toFixed(3);
const rightRaw = features.filter((f) => f.right).map((f) => f.rawScore);
const outRaw = features.filter((f) => !f.known).map((f) => f.rawScore);
console.log(`raw score of the adapted top-1, 10th/50th/90th percentile: right in-catalog ${[0.1, 0.5, 0.9].map((p) => quantile(rightRaw, p)).join(' / ')}; out of catalog ${[0.1, 0.5, 0.9].map((p) => quantile(outRaw, p)).join(' / ')}`);
