// Exact (brute-force) inner-product top-k in plain JS.
//  - searchOne: one query, one thread (the 'bruteforce-js' engine).
//  - exactTopK: all queries, blocked over queries and spread over worker threads
//    (ground truth; 100k x 1000 x 256 takes ~8 s on 2 cores).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import os from 'node:os';

// Insert (score, id) into a descending top-k list held in sc/id at offset o; returns new min.
function pushTop(sc, ids, o, k, s, i) {
  let p = o + k - 1;
  while (p > o && sc[p - 1] < s) { sc[p] = sc[p - 1]; ids[p] = ids[p - 1]; p--; }
  sc[p] = s; ids[p] = i;
  return sc[o + k - 1];
}

export function searchOne(base, n, d, q, k = 10) {
  const sc = new Float64Array(k).fill(-Infinity);
  const ids = new Int32Array(k).fill(-1);
  let min = -Infinity;
  for (let i = 0, off = 0; i < n; i++, off += d) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < d; j += 4) {
      s0 += base[off + j] * q[j];
      s1 += base[off + j + 1] * q[j + 1];
      s2 += base[off + j + 2] * q[j + 2];
      s3 += base[off + j + 3] * q[j + 3];
    }
    const s = (s0 + s1) + (s2 + s3);
    if (s > min) min = pushTop(sc, ids, 0, k, s, i);
  }
  return ids;
}

// Queries [q0, q1) against the whole base; writes ids into out (nq*k Int32, shared).
// Four queries share each pass over a base row (register blocking, ~1.7 G madd/s/thread).
function blockRange(base, n, d, queries, q0, q1, k, out) {
  let qa = q0;
  for (; qa + 4 <= q1; qa += 4) {
    const sc = new Float64Array(4 * k).fill(-Infinity);
    const ids = new Int32Array(4 * k).fill(-1);
    let m0 = -Infinity, m1 = -Infinity, m2 = -Infinity, m3 = -Infinity;
    const o0 = qa * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
    for (let i = 0, off = 0; i < n; i++, off += d) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      for (let j = 0; j < d; j += 2) {
        const x = base[off + j], y = base[off + j + 1];
        a0 += x * queries[o0 + j]; b0 += y * queries[o0 + j + 1];
        a1 += x * queries[o1 + j]; b1 += y * queries[o1 + j + 1];
        a2 += x * queries[o2 + j]; b2 += y * queries[o2 + j + 1];
        a3 += x * queries[o3 + j]; b3 += y * queries[o3 + j + 1];
      }
      const s0 = a0 + b0, s1 = a1 + b1, s2 = a2 + b2, s3 = a3 + b3;
      if (s0 > m0) m0 = pushTop(sc, ids, 0, k, s0, i);
      if (s1 > m1) m1 = pushTop(sc, ids, k, k, s1, i);
      if (s2 > m2) m2 = pushTop(sc, ids, 2 * k, k, s2, i);
      if (s3 > m3) m3 = pushTop(sc, ids, 3 * k, k, s3, i);
    }
    out.set(ids, qa * k);
  }
  for (; qa < q1; qa++) out.set(searchOne(base, n, d, queries.subarray(qa * d, qa * d + d), k), qa * k);
}

export async function exactTopK(base, queries, n, d, k = 10, { threads = os.availableParallelism?.() ?? os.cpus().length } = {}) {
  if (d % 4 !== 0) throw new Error('exactTopK: d must be a multiple of 4');
  const nq = queries.length / d;
  const toShared = (a, C) => {
    if (a.buffer instanceof SharedArrayBuffer) return a;
    const s = new C(new SharedArrayBuffer(a.byteLength)); s.set(a); return s;
  };
  const sb = toShared(base.subarray(0, n * d), Float32Array);
  const sq = toShared(queries, Float32Array);
  const out = new Int32Array(new SharedArrayBuffer(nq * k * 4));
  threads = Math.max(1, Math.min(threads, nq));
  const per = Math.ceil(nq / threads);
  const jobs = [];
  for (let t = 0; t < threads; t++) {
    const q0 = t * per, q1 = Math.min(nq, q0 + per);
    if (q0 >= q1) continue;
    jobs.push(new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), { workerData: { base: sb, queries: sq, n, d, k, q0, q1, out } });
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', (c) => c !== 0 && reject(new Error(`exact worker exited ${c}`)));
    }));
  }
  await Promise.all(jobs);
  return new Int32Array(out);
}

if (!isMainThread && workerData && workerData.out) {
  const { base, queries, n, d, k, q0, q1, out } = workerData;
  blockRange(base, n, d, queries, q0, q1, k, out);
  parentPort.postMessage('done');
}

// recall@k: |approx ∩ exact| / k averaged over queries. approx: array-like nq*k (-1 = none).
export function recallAtK(approx, exact, nq, k = 10) {
  let hit = 0;
  for (let q = 0; q < nq; q++) {
    const truth = new Set();
    for (let j = 0; j < k; j++) truth.add(exact[q * k + j]);
    for (let j = 0; j < k; j++) if (truth.has(approx[q * k + j])) hit++;
  }
  return hit / (nq * k);
}
