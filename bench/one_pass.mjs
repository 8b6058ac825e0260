#!/usr/bin/env node
// Region embeddings from one embedder pass over the frame (the default: regions pooled from the
// multi-scale maps) against the baseline of one pass per cropped region (`onePass: false`), on
// the same photos, index and detector, in WASM under node, in one script. Photo by photo the two
// engines alternate, so a machine that slows down slows both.
//
//   npm run bench:one-pass                                   # grocery val photos, one thread
//   npm run bench:one-pass -- --photos 100 --threads 2 --json
//   npm run bench:one-pass -- --index X.sfi --labeled Q.jsonl
//
// Needs build/grocery (node tools/grocery.mjs; tools/quality.sh builds adapted.sfi) and the
// models. Record per path: { path, photos, embed_ms, total_ms } (medians), then the ratios
// one pass / crops and how often the two rank the same product first.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createEngine } from '../js/engine.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const json = args.includes('--json');
const indexFile = flag('--index', 'build/grocery/adapted.sfi');
const labeled = flag('--labeled', 'build/grocery/queries.jsonl');
const photos = Number(flag('--photos', 60));
const numThreads = Number(flag('--threads', 1));

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const index = readFileSync(indexFile);
const queries = readFileSync(labeled, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).slice(0, photos);
const engines = {
  'one pass per region (crops, baseline)': await createEngine({ index, numThreads, onePass: false }),
  'one pass per frame (pooled regions)': await createEngine({ index, numThreads }),
};
// Both sides must be what their names say, or the ratio compares crops with crops.
const poolings = Object.values(engines).map((e) => e.vision.embedderInfo.pooling);
if (poolings[0] === 'regions' || poolings[1] !== 'regions') {
  console.error(`bench/one_pass: ${indexFile}'s embedder has no one-pass variant here (poolings: ${poolings.join(', ')})`);
  process.exit(2);
}
const times = Object.fromEntries(Object.keys(engines).map((k) => [k, { embed: [], total: [] }]));
let sameTop = 0;
try {
  const images = queries.map((q) => readFileSync(resolve(dirname(labeled), q.image)));
  for (const engine of Object.values(engines)) await engine.analyzeEncoded(images[0]);  // warm-up
  for (const bytes of images) {
    const tops = [];
    for (const [path, engine] of Object.entries(engines)) {
      const r = await engine.analyzeEncoded(bytes);
      times[path].embed.push(r.timings_ms.embed);
      times[path].total.push(r.timings_ms.total);
      tops.push(r.top[0]?.id);
    }
    if (tops[0] === tops[1]) ++sameTop;
  }
} finally {
  for (const engine of Object.values(engines)) await engine.close();
}
const records = Object.entries(times).map(([path, t]) => ({
  path, photos: queries.length, threads: numThreads, embed_ms: +median(t.embed).toFixed(1), total_ms: +median(t.total).toFixed(1),
}));
const [base, onePass] = records;
const summary = {
  embed_ratio: +(onePass.embed_ms / base.embed_ms).toFixed(2), total_ratio: +(onePass.total_ms / base.total_ms).toFixed(2),
  same_top_product: +(sameTop / queries.length).toFixed(3),
};
if (json) {
  console.log(JSON.stringify({ records, ...summary }));
} else {
  console.log(`${queries.length} photos of ${labeled}, index ${indexFile}, ${numThreads} ORT thread(s); medians, ms`);
  for (const r of records) console.log(`  ${r.path.padEnd(40)} embed ${String(r.embed_ms).padStart(6)}  frame ${String(r.total_ms).padStart(6)}`);
  console.log(`  one pass / crops: embed ${summary.embed_ratio}x, frame ${summary.total_ratio}x; same product first on ${(100 * summary.same_top_product).toFixed(1)}% of photos`);
}
