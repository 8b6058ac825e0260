// Shared helpers for the JS-side engine adapters.
export const now = () => performance.now();

export function percentile(sorted, p) {
  if (!sorted.length) return 0;
  const pos = p * (sorted.length - 1), lo = Math.floor(pos), hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

// Runs searchFn(queryVector) -> array-like of ids (best first) for every query: a warm-up
// pass over the first `warmup` queries, then each query timed on its own (one thread).
// Returns { p50_ms, p99_ms, mean_ms, ids: Int32Array(nq*k) }.
export function timeQueries(queries, d, k, searchFn, { warmup = 100 } = {}) {
  const nq = queries.length / d;
  const qv = [];
  for (let i = 0; i < nq; i++) qv.push(queries.subarray(i * d, i * d + d));
  for (let i = 0; i < Math.min(warmup, nq); i++) searchFn(qv[i]);
  const lat = new Float64Array(nq);
  const ids = new Int32Array(nq * k).fill(-1);
  for (let i = 0; i < nq; i++) {
    const t0 = now();
    const r = searchFn(qv[i]);
    lat[i] = now() - t0;
    const m = Math.min(k, r.length);
    for (let j = 0; j < m; j++) ids[i * k + j] = Number(r[j]);
  }
  const sorted = Array.from(lat).sort((a, b) => a - b);
  let mean = 0;
  for (const x of lat) mean += x;
  return { p50_ms: percentile(sorted, 0.5), p99_ms: percentile(sorted, 0.99), mean_ms: mean / nq, ids };
}
