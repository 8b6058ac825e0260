// shopframe in WASM under node, through the public JS API (js/shopframe.mjs).
import { timeQueries } from './common.mjs';

export const engine = 'shopframe';
export const runtime = 'wasm';

// settings: [{ quantizer, search: [{ nprobe, rerank }] }] (nprobe/rerank 0 = index default)
export async function run({ base, queries, n, d, k = 10, settings, seed = 1 }) {
  const sf = await import('../../js/shopframe.mjs');
  const out = [];
  for (const s of settings) {
    const t0 = performance.now();
    let bytes;
    try {
      bytes = await sf.buildIndex({ vectors: base.subarray(0, n * d), dim: d, quantizer: s.quantizer, seed });
    } catch (err) {
      process.stderr.write(`  WARNING: shopframe wasm ${s.quantizer} skipped: ${err.message ?? err}\n`);
      continue;
    }
    const build_s = (performance.now() - t0) / 1000;
    const index = await sf.loadIndex(bytes);
    try {
      for (const p of s.search) {
        const opts = { k };
        if (p.nprobe) opts.nprobe = p.nprobe;
        if (p.rerank) opts.rerank = p.rerank;
        const t = timeQueries(queries, d, k, (q) => index.search(q, opts).map((h) => h.item));
        out.push({ setting: settingName(s.quantizer, p), build_s, bytes: bytes.length, build_threads: 1, ...t });
      }
    } finally {
      index.close?.();
    }
  }
  return out;
}

export function settingName(quantizer, p) {
  let s = quantizer;
  if (p.nprobe) s += `,nprobe=${p.nprobe}`;
  if (p.rerank) s += `,rerank=${p.rerank}`;
  return s;
}
