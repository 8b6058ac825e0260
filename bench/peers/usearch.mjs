// usearch (npm, native N-API addon, HNSW). Built once per connectivity with all cores,
// saved to a temp file for its size, then reloaded per expansion_search (usearch's JS API
// fixes expansion_search at construction) and searched with one thread.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { timeQueries } from './common.mjs';

export const engine = 'usearch';
export const runtime = 'native';

export const SETTINGS = [
  { M: 16, efC: 128, ef: [32, 64, 128] },
];

export async function run({ base, queries, n, d, k = 10, tmpDir = os.tmpdir(), buildThreads = 0, settings = SETTINGS }) {
  const require = createRequire(import.meta.url);
  const usearch = require('usearch');
  const out = [];
  for (const s of settings) {
    const mk = (ef) => new usearch.Index({ dimensions: d, metric: 'ip', quantization: 'f32', connectivity: s.M, expansion_add: s.efC, expansion_search: ef });
    const idx = mk(s.ef[0]);
    const keys = new BigUint64Array(n);
    for (let i = 0; i < n; i++) keys[i] = BigInt(i);
    const t0 = performance.now();
    idx.add(keys, base.subarray(0, n * d), buildThreads);
    const build_s = (performance.now() - t0) / 1000;
    const file = path.join(tmpDir, `usearch-${process.pid}-${n}-${s.M}.usearch`);
    idx.save(file);
    const bytes = fs.statSync(file).size;
    for (const ef of s.ef) {
      const ix = mk(ef);
      ix.load(file);
      const t = timeQueries(queries, d, k, (q) => ix.search(q, k, 1).keys);
      out.push({ setting: `M=${s.M},efC=${s.efC},ef=${ef}`, build_s, bytes, build_threads: buildThreads || os.availableParallelism(), ...t });
    }
    fs.rmSync(file, { force: true });
  }
  return out;
}
