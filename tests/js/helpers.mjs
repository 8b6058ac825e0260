// Shared test data: deterministic vectors and JSONL catalogs.
export function rng(seed) {
  const mask = (1n << 64n) - 1n;
  let s = (BigInt(seed) * 0x9E3779B97F4A7C15n + 1n) & mask;  // a 64-bit state, or values exceed 1
  return () => {
    s ^= (s << 13n) & mask; s ^= s >> 7n; s ^= (s << 17n) & mask;
    return Number(s >> 11n) / 2 ** 53;
  };
}

/** n unit vectors in `clusters` clusters, row-major Float32Array. */
export function clusteredVectors(n, dim, clusters, seed) {
  const r = rng(seed);
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dim }, () => r() - 0.5));
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; ++i) {
    const c = centres[i % clusters];
    let norm = 0;
    for (let j = 0; j < dim; ++j) {
      const v = c[j] + 0.5 * (r() - 0.5);
      out[i * dim + j] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (let j = 0; j < dim; ++j) out[i * dim + j] /= norm;
  }
  return out;
}

export const CATEGORIES = ['Fruit/Apple', 'Fruit/Pear', 'Dairy/Milk', 'Vegetables/Leek'];

export function catalogLines(n, dim, seed = 3) {
  const v = clusteredVectors(n, dim, 8, seed);
  const lines = [];
  for (let i = 0; i < n; ++i) {
    lines.push(JSON.stringify({
      id: `sku-${i}`, title: `Product ${i} \u00e9`, category: CATEGORIES[i % CATEGORIES.length],
      price: 1 + (i % 5), currency: 'EUR', url: `https://shop.example/p/${i}`, images: [`img/${i}.jpg`],
      embedding: Array.from(v.subarray(i * dim, (i + 1) * dim)),
    }));
  }
  return { lines, vectors: v };
}

/** Exact top-k ids by cosine over unit rows. */
export function exactTopK(vectors, dim, query, k) {
  const n = vectors.length / dim;
  let qn = 0;
  for (let j = 0; j < dim; ++j) qn += query[j] * query[j];
  qn = Math.sqrt(qn);
  const scores = [];
  for (let i = 0; i < n; ++i) {
    let s = 0;
    for (let j = 0; j < dim; ++j) s += vectors[i * dim + j] * query[j];
    scores.push([s / qn, i]);
  }
  scores.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return scores.slice(0, k).map((x) => x[1]);
}
