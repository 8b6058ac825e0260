// Deterministic clustered synthetic vectors for the index benchmark.
//
// N unit vectors in D dims drawn from `clusters` anisotropic Gaussian clusters:
//   centre_c  ~ uniform on the unit sphere
//   scale_cj  = sigma * exp(spread * g)       (per-cluster, per-dimension std-dev)
//   x         = normalise(centre_c + scale_c ⊙ g)
// Queries are fresh members of random clusters (never in the base set), perturbed by a
// further isotropic step of `queryNoise` x the cluster's mean scale, then normalised.
// Every stream is seeded: the same arguments give bit-identical arrays on every run, and
// the base set for a smaller N is a prefix of the base set for a larger N (queries do not
// depend on N at all), so results across N are comparable.

export const DEFAULTS = Object.freeze({
  d: 256,
  clusters: 1000,
  queries: 1000,
  seed: 20240611,
  sigma: 0.05,      // mean per-dimension std-dev of a cluster (noise norm ~ sigma*sqrt(D))
  spread: 0.5,      // log-normal spread of per-dimension scales (anisotropy)
  queryNoise: 0.5,  // query perturbation, as a fraction of the cluster's mean scale
});

// sfc32: small, fast, well-distributed 32-bit generator; seeded via splitmix32.
export function makeRng(seed) {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix(), b = splitmix(), c = splitmix(), d = splitmix();
  const u32 = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32();
  // uniform in (0, 1): 32 bits, never exactly 0
  const uniform = () => (u32() + 0.5) / 4294967296;
  let spare = NaN;
  const gauss = () => {
    if (spare === spare) { const g = spare; spare = NaN; return g; }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const th = 2 * Math.PI * uniform();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
  const int = (n) => Math.floor(uniform() * n);
  return { u32, uniform, gauss, int };
}

function normalise(v, off, d) {
  let s = 0;
  for (let j = 0; j < d; j++) s += v[off + j] * v[off + j];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let j = 0; j < d; j++) v[off + j] *= inv;
}

export function makeClusters(opts = {}) {
  const o = { ...DEFAULTS, ...opts };
  const { d, clusters: k } = o;
  const rng = makeRng(o.seed ^ 0x5eed0001);
  const centres = new Float32Array(k * d);
  const scales = new Float32Array(k * d);
  const meanScale = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < d; j++) centres[c * d + j] = rng.gauss();
    normalise(centres, c * d, d);
    let m = 0;
    for (let j = 0; j < d; j++) {
      const s = o.sigma * Math.exp(o.spread * rng.gauss());
      scales[c * d + j] = s;
      m += s;
    }
    meanScale[c] = m / d;
  }
  return { d, k, centres, scales, meanScale, opts: o };
}

function member(cl, rng, out, off) {
  const { d, k, centres, scales } = cl;
  const c = rng.int(k);
  for (let j = 0; j < d; j++) out[off + j] = centres[c * d + j] + scales[c * d + j] * rng.gauss();
  return c;
}

// Returns { base: Float32Array(n*d), queries: Float32Array(nq*d), d, n, nq, baseCluster, queryCluster }.
export function generateDataset(n, opts = {}) {
  const cl = makeClusters(opts);
  const o = cl.opts;
  const d = cl.d;
  const base = new Float32Array(n * d);
  const baseCluster = new Uint16Array(n);
  const rb = makeRng(o.seed ^ 0x5eed0002);
  for (let i = 0; i < n; i++) {
    baseCluster[i] = member(cl, rb, base, i * d);
    normalise(base, i * d, d);
  }
  const nq = o.queries;
  const queries = new Float32Array(nq * d);
  const queryCluster = new Uint16Array(nq);
  const rq = makeRng(o.seed ^ 0x5eed0003);
  for (let i = 0; i < nq; i++) {
    const c = member(cl, rq, queries, i * d);
    queryCluster[i] = c;
    const eps = o.queryNoise * cl.meanScale[c];
    for (let j = 0; j < d; j++) queries[i * d + j] += eps * rq.gauss();
    normalise(queries, i * d, d);
  }
  return { base, queries, d, n, nq, baseCluster, queryCluster, opts: o };
}

// Stable short hex key of the generator parameters (used for cache file names).
export function datasetKey(n, opts = {}) {
  const o = { ...DEFAULTS, ...opts };
  const s = JSON.stringify([n, o.d, o.clusters, o.queries, o.seed, o.sigma, o.spread, o.queryNoise, 'v1']);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return `n${n}-d${o.d}-${h.toString(16).padStart(8, '0')}`;
}
