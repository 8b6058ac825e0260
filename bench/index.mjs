#!/usr/bin/env node
// shopframe index benchmark: shopframe (WASM under node, and native) against peers on a
// deterministic clustered synthetic set, all measured by this one script.
//
//   npm run bench:index                      # N = 10k and 100k, readable table on stdout
//   npm run bench:index -- --json            # same, JSON array of records on stdout
//   npm run bench:index -- --quick           # N = 10k only
//   npm run bench:index -- --n 1000000       # N = 1M: shopframe native + faiss only
//   options: --n 10000,100000  --engines shopframe,shopframe-native,faiss,usearch,hnswlib-wasm,bruteforce-js
//            --queries 1000  --seed 20240611  --threads T (build threads for faiss/usearch; default all cores)
//
// Record: { engine, runtime, N, D, setting, build_s, bytes_per_vector, p50_ms, p99_ms,
//           recall_at_10, build_threads }. Latency is one query at a time on one thread
// (warm-up first), p50/p99 over all queries; recall@10 is against exact inner-product
// search (ground truth cached in bench/out/). Progress goes to stderr.
// Native harnesses come from build/native/bench (run `npm run build` first).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateDataset, datasetKey, DEFAULTS } from './lib/data.mjs';
import { exactTopK, recallAtK } from './lib/exact.mjs';
import { writeMatrix, writeInt32, readInt32 } from './lib/io.mjs';

// ---------------------------------------------------------------- settings (tune here)
// shopframe (both runtimes): quantizer strings, each with one or more search settings
// ({} = the index's stored defaults; nprobe / rerank override them).
export const SHOPFRAME_SETTINGS = [
  { quantizer: 'flat', search: [{}] },
  { quantizer: 'sq8', search: [{}] },
  // The <= 300 B/vector target (D=256: 256 code bytes + list ids + centroids).
  { quantizer: 'ivf1024,sq8', search: [{ nprobe: 8 }, { nprobe: 16 }, { nprobe: 32 }, { nprobe: 64 }] },
  { quantizer: 'ivf1024,pq32,rr:sq8', search: [{ nprobe: 16 }, { nprobe: 32 }] },
  // The <= 48 B/vector compact target: 32 code bytes + 4 B list ids + centroids.
  { quantizer: 'ivf1024,pq32', search: [{ nprobe: 16 }, { nprobe: 64 }] },
  { quantizer: 'pca128,ivf1024,pq32', search: [{ nprobe: 16 }, { nprobe: 64 }] },
  { quantizer: 'ivf1024,pq64', search: [{ nprobe: 16 }] },   // pqM needs D % M == 0 (D=256)
];
// FAISS factory strings and ParameterSpace settings. "PQ32np" = PQ32 without polysemous
// training (index_factory's default for IVF-PQ; it only reorders centroids for Hamming
// filtering, which is off at search time, and costs minutes of build time).
export const FAISS_SETTINGS = [
  { factory: 'Flat', params: [''] },
  { factory: 'HNSW32', params: ['efSearch=64', 'efSearch=128'] },
  { factory: 'IVF1024,SQ8', params: ['nprobe=16'] },
  { factory: 'IVF1024,PQ32np', params: ['nprobe=16', 'nprobe=64'] },
];
export const HNSW_SETTINGS = [{ M: 16, efC: 128, ef: [32, 64, 128] }];   // usearch and hnswlib-wasm
export const DEFAULT_NS = [10000, 100000];
export const QUICK_NS = [10000];
const ALL_ENGINES = ['bruteforce-js', 'shopframe', 'shopframe-native', 'faiss', 'usearch', 'hnswlib-wasm'];
const LARGE_N_ENGINES = ['shopframe-native', 'faiss'];   // used by default when N > 100k
const K = 10;

// ---------------------------------------------------------------- arguments
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = process.argv.slice(2);
const opt = { json: false, quick: false, ns: null, engines: null, queries: DEFAULTS.queries, seed: DEFAULTS.seed, threads: 0 };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const val = () => { if (i + 1 >= args.length) die(`missing value for ${a}`); return args[++i]; };
  if (a === '--json') opt.json = true;
  else if (a === '--quick') opt.quick = true;
  else if (a === '--n' || a === '-n') opt.ns = val().split(',').map(parseCount);
  else if (a.startsWith('--n=')) opt.ns = a.slice(4).split(',').map(parseCount);
  else if (a === '--engines') opt.engines = val().split(',');
  else if (a === '--queries') opt.queries = parseCount(val());
  else if (a === '--seed') opt.seed = Number(val());
  else if (a === '--threads') opt.threads = Number(val());
  else if (a === '--help' || a === '-h') { process.stderr.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 18).join('\n') + '\n'); process.exit(0); }
  else die(`unknown argument ${a} (see --help)`);
}
for (const e of opt.engines ?? []) if (!ALL_ENGINES.includes(e)) die(`unknown engine ${e}; one of ${ALL_ENGINES.join(', ')}`);
const ns = opt.ns ?? (opt.quick ? QUICK_NS : DEFAULT_NS);
const buildThreads = opt.threads || os.availableParallelism();

function parseCount(s) {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(String(s).trim());
  if (!m) die(`bad count ${s}`);
  return Math.round(Number(m[1]) * (m[2] ? (/k/i.test(m[2]) ? 1e3 : 1e6) : 1));
}
function die(msg) { process.stderr.write(`bench/index.mjs: ${msg}\n`); process.exit(2); }
const log = (msg) => process.stderr.write(msg + '\n');
// Keep stdout pure: engines (hnswlib-wasm's Emscripten glue in particular) print to console.log.
console.log = console.error;
console.info = console.error;

// ---------------------------------------------------------------- native harnesses
const nativeDir = path.join(root, 'build', 'native', 'bench');
function nativeBinary(name) {
  const p = path.join(nativeDir, name);
  if (!fs.existsSync(p)) {
    throw new Error(`${path.relative(root, p)} not found: run \`npm run build\` first (native build in build/native)`);
  }
  return p;
}
function runHarness(bin, argv) {
  const r = spawnSync(bin, argv, { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 30, encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${path.basename(bin)} exited with ${r.status ?? r.signal}`);
  return JSON.parse(r.stdout);
}

// ---------------------------------------------------------------- engines
// Each returns [{ setting, build_s, bytes, build_threads, p50_ms, p99_ms, ids }].
const engines = {
  'bruteforce-js': { runtime: 'js', name: 'bruteforce-js', run: async (ctx) => (await import('./peers/bruteforce.mjs')).run(ctx) },
  shopframe: {
    runtime: 'wasm', name: 'shopframe',
    run: async (ctx) => {
      const wasm = path.join(root, 'build', 'wasm', 'shopframe_core.mjs');
      if (!fs.existsSync(wasm)) throw new Error('build/wasm/shopframe_core.mjs not found: run `npm run build` first');
      return (await import('./peers/shopframe_wasm.mjs')).run({ ...ctx, settings: SHOPFRAME_SETTINGS });
    },
  },
  'shopframe-native': {
    runtime: 'native', name: 'shopframe',
    run: async (ctx) => {
      const bin = nativeBinary('index_native');
      const { settingName } = await import('./peers/shopframe_wasm.mjs');
      const out = [];
      for (const s of SHOPFRAME_SETTINGS) {
        const params = s.search.map((p) => Object.entries(p).filter(([, v]) => v).map(([k, v]) => `${k}=${v}`).join(','));
        log(`    shopframe native ${s.quantizer} ...`);
        const r = runHarness(bin, ['--base', ctx.files.base, '--queries', ctx.files.queries, '--quantizer', s.quantizer, '--params', params.join(';'), '--k', String(K)]);
        r.runs.forEach((run, i) => out.push({ setting: settingName(s.quantizer, s.search[i]), build_s: r.build_s, bytes: r.bytes, build_threads: r.build_threads, ...run }));
      }
      return out;
    },
  },
  faiss: {
    runtime: 'native', name: 'faiss',
    run: async (ctx) => {
      if (!fs.existsSync(path.join(nativeDir, 'sf_faiss_harness'))) {
        throw new Error('build/native/bench/sf_faiss_harness not found: install libfaiss-dev (apt) and run `npm run build`');
      }
      const bin = nativeBinary('sf_faiss_harness');
      const out = [];
      for (const s of FAISS_SETTINGS) {
        log(`    faiss ${s.factory} ...`);
        const r = runHarness(bin, ['--base', ctx.files.base, '--queries', ctx.files.queries, '--factory', s.factory, '--params', s.params.join(';'), '--k', String(K), '--build-threads', String(buildThreads)]);
        r.runs.forEach((run) => out.push({ setting: run.params ? `${s.factory},${run.params}` : s.factory, build_s: r.build_s, bytes: r.bytes, build_threads: r.build_threads, ...run }));
      }
      return out;
    },
  },
  usearch: { runtime: 'native', name: 'usearch', run: async (ctx) => (await import('./peers/usearch.mjs')).run({ ...ctx, settings: HNSW_SETTINGS, buildThreads }) },
  'hnswlib-wasm': { runtime: 'wasm', name: 'hnswlib-wasm', run: async (ctx) => (await import('./peers/hnswlib.mjs')).run({ ...ctx, settings: HNSW_SETTINGS }) },
};

// ---------------------------------------------------------------- data + ground truth
async function prepare(n) {
  const gopts = { queries: opt.queries, seed: opt.seed };
  const key = datasetKey(n, gopts);
  const dir = path.join(here, 'out', key);
  fs.mkdirSync(dir, { recursive: true });
  let t = performance.now();
  const ds = generateDataset(n, gopts);
  log(`  data: N=${n} D=${ds.d} clusters=${ds.opts.clusters} queries=${ds.nq} (${((performance.now() - t) / 1000).toFixed(1)} s) -> ${path.relative(root, dir)}`);
  const files = { base: path.join(dir, 'base.f32'), queries: path.join(dir, 'queries.f32'), gt: path.join(dir, 'gt.i32') };
  const want = 8 + n * ds.d * 4;
  if (!fs.existsSync(files.base) || fs.statSync(files.base).size !== want) writeMatrix(files.base, ds.base, n, ds.d);
  if (!fs.existsSync(files.queries) || fs.statSync(files.queries).size !== 8 + ds.nq * ds.d * 4) writeMatrix(files.queries, ds.queries, ds.nq, ds.d);
  let gt = fs.existsSync(files.gt) ? readInt32(files.gt, ds.nq * K) : null;
  if (!gt) {
    t = performance.now();
    gt = await exactTopK(ds.base, ds.queries, n, ds.d, K);
    writeInt32(files.gt, gt);
    log(`  ground truth: exact top-${K} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  } else {
    log('  ground truth: cached');
  }
  return { ds, files, gt };
}

// ---------------------------------------------------------------- main
const records = [];
let failures = 0;
for (const n of ns) {
  log(`N=${n}`);
  const { ds, files, gt } = await prepare(n);
  const list = opt.engines ?? (n > 100000 ? LARGE_N_ENGINES : ALL_ENGINES);
  for (const key of list) {
    const e = engines[key];
    log(`  ${key} (${e.runtime}) ...`);
    const t0 = performance.now();
    let results;
    try {
      results = await e.run({ base: ds.base, queries: ds.queries, n, d: ds.d, k: K, files, tmpDir: path.dirname(files.base) });
    } catch (err) {
      failures++;
      log(`  WARNING: ${key} skipped: ${err && err.message ? err.message : err}`);
      continue;
    }
    for (const r of results) {
      const rec = {
        engine: e.name, runtime: e.runtime, N: n, D: ds.d, setting: r.setting,
        build_s: round(r.build_s, 3), bytes_per_vector: round(r.bytes / n, 1),
        p50_ms: round(r.p50_ms, 4), p99_ms: round(r.p99_ms, 4),
        recall_at_10: round(recallAtK(r.ids, gt, ds.nq, K), 4),
        build_threads: r.build_threads,
      };
      records.push(rec);
      log(`    ${rec.setting.padEnd(28)} build ${fmt(rec.build_s, 2).padStart(8)} s  ${fmt(rec.bytes_per_vector, 1).padStart(7)} B/vec  p50 ${fmt(rec.p50_ms, 3)} ms  p99 ${fmt(rec.p99_ms, 3)} ms  recall@10 ${fmt(rec.recall_at_10, 3)}`);
    }
    log(`  ${key} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

if (opt.json) {
  process.stdout.write(JSON.stringify(records, null, 1) + '\n');
} else {
  const cols = [
    ['engine', (r) => r.engine], ['runtime', (r) => r.runtime], ['N', (r) => String(r.N)], ['setting', (r) => r.setting],
    ['build s', (r) => fmt(r.build_s, 2)], ['B/vector', (r) => fmt(r.bytes_per_vector, 1)],
    ['p50 ms', (r) => fmt(r.p50_ms, 3)], ['p99 ms', (r) => fmt(r.p99_ms, 3)], ['recall@10', (r) => fmt(r.recall_at_10, 3)],
  ];
  const rows = records.map((r) => cols.map(([, f]) => f(r)));
  const w = cols.map(([h], i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 4 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  process.stdout.write(line(cols.map(([h]) => h)) + '\n' + w.map((x) => '-'.repeat(x)).join('  ') + '\n');
  for (const row of rows) process.stdout.write(line(row) + '\n');
}
if (failures) log(`${failures} engine(s) failed or were skipped; see warnings above`);
process.exitCode = failures ? 1 : 0;

function round(x, p) { return Number.isFinite(x) ? Number(x.toFixed(p)) : null; }
function fmt(x, p) { return x == null ? '-' : x.toFixed(p); }
