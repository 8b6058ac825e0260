#!/usr/bin/env node
// Product search (`distinct: true`: a product with several catalog images counts once, with
// its best image's score) against the plain search of the same k on the same index, in WASM
// under node, one query at a time. The plain search is the baseline: a distinct search scans
// the same codes, so its cost over the baseline is what finding products costs.
//
//   npm run bench:distinct                  # synthetic catalogs, readable table
//   npm run bench:distinct -- --json        # JSON records
//   npm run bench:distinct -- --index build/grocery/open.sfi   # a real catalog index too
//
// Record: { catalog, items, products, quantizer, k, plain_ms, distinct_ms, ratio } (medians
// of per-query times over --queries queries, after warm-up).
import { readFileSync } from 'node:fs';
import { buildIndex, loadIndex } from '../js/shopframe.mjs';
import { generateDataset } from './lib/data.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const json = args.includes('--json');
const queries = Number(flag('--queries', 300));
const indexFile = flag('--index', null);
const K = [5, 50];

// Catalog shapes: the grocery catalog's (81 products, about 67 views each, 80-d codes after
// adaptation) and a large shop where each item is its own product.
const SHAPES = [
  { catalog: 'grocery-like', products: 81, perProduct: 67, d: 80, quantizer: 'sq8' },
  { catalog: 'one image per product', products: 20000, perProduct: 1, d: 80, quantizer: 'sq8' },
  { catalog: 'one image per product, ivf', products: 20000, perProduct: 1, d: 80, quantizer: 'ivf128,sq8' },
  { catalog: '2,000 products x 10 images, ivf', products: 2000, perProduct: 10, d: 80, quantizer: 'ivf128,sq8' },
];

function median(xs) { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; }

function timeSearches(index, qs, dim, options) {
  const t = [];
  for (let i = 0; i < Math.min(20, qs.length / dim); ++i) index.searchRaw(qs.subarray(i * dim, (i + 1) * dim), options);
  for (let i = 0; i < qs.length / dim; ++i) {
    const q = qs.subarray(i * dim, (i + 1) * dim);
    const t0 = performance.now();
    index.searchRaw(q, options);
    t.push(performance.now() - t0);
  }
  return median(t);
}

function measure(catalog, index, qs, dim, products) {
  const out = [];
  for (const k of K) {
    const plain = timeSearches(index, qs, dim, { k });
    const distinct = timeSearches(index, qs, dim, { k, distinct: true });
    out.push({ catalog, items: index.size, products, quantizer: index.info().quantizer, k,
      plain_ms: +plain.toFixed(4), distinct_ms: +distinct.toFixed(4), ratio: +(distinct / plain).toFixed(2) });
  }
  return out;
}

const records = [];
for (const s of SHAPES) {
  const n = s.products * s.perProduct;
  const data = generateDataset(n, { d: s.d, clusters: s.products, queries });
  // A product's images are one cluster's members, as a product's photos are near each other.
  const items = Array.from(data.baseCluster, (c, i) => ({ id: s.perProduct === 1 ? `item${i}` : `p${c}`, category: `c${c % 8}` }));
  const index = await loadIndex(await buildIndex({ vectors: data.base, dim: s.d, items, quantizer: s.quantizer }));
  records.push(...measure(s.catalog, index, data.queries, s.d, new Set(items.map((it) => it.id)).size));
  index.close();
}
if (indexFile) {
  const index = await loadIndex(readFileSync(indexFile));
  const ids = new Set(Array.from({ length: index.size }, (_, i) => index.item(i).id));
  // Queries: the index's own items' directions are unknown here, so random unit vectors in
  // its input space (the transform runs in both searches alike).
  const qs = generateDataset(1, { d: index.dim, clusters: 1, queries }).queries;
  records.push(...measure(indexFile, index, qs, index.dim, ids.size));
  index.close();
}

if (json) {
  console.log(JSON.stringify(records, null, 1));
} else {
  console.log('catalog | items | products | quantizer | k | plain ms | distinct ms | distinct / plain');
  console.log('--- | ---: | ---: | --- | ---: | ---: | ---: | ---:');
  for (const r of records) {
    console.log([r.catalog, r.items, r.products, r.quantizer, r.k, r.plain_ms.toFixed(3), r.distinct_ms.toFixed(3), `${r.ratio}x`].join(' | '));
  }
}
