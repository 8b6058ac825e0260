#!/usr/bin/env node
// The edge worker (deploy/) in a real workerd on loopback: requests per second and latency
// under a bounded load (autocannon), cold start, and bundle size against Cloudflare's
// published script size limits, in one script.
//
//   node bench/edge.mjs [--json] [--duration 10] [--connections 8] [--n 100000] [--quantizer ivf1024,sq8] [--cold-runs 3]
//
// /v1/match runs against a synthetic N x 256 index (bench/lib/data.mjs, the index benchmark's
// data set; built once with the JS buildIndex and cached in bench/out/), served from a CATALOG
// data binding as it would come from R2 (at ~27 MB it cannot be bundled). /v1/analyze runs
// against the demo catalog with the real models on one grocery JPEG, when
// build/demo/web/catalog.sfi (node tools/demo.mjs --no-serve), the models and
// ../shared/data/grocery are there; else it is skipped with a note.
//
// Baselines in the same run: GET /v1/health (the worker's no-work answer: routing, JSON, HTTP)
// and index.search in node on the same query (the search alone, no HTTP). Each endpoint runs at
// 1 connection (latency without queueing) and at --connections (throughput; one isolate is one
// thread, so latency there is mostly waiting in line). Latencies are per request as
// autocannon's client sees them (from its 'response' events: its own histogram rounds to whole
// milliseconds). autocannon and workerd share the machine's cores.
// Cold start: spawning workerd to its first 200 on /v1/health (the index copied into WASM
// memory and its checksums verified on that request), and the first /v1/match after it.
// Swap: PUT /v1/catalog with the same index, timed (CATALOG_UPLOAD_LIMIT raised for it).
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import autocannon from 'autocannon';

import { REPO, bundleSize, checkCatalog, collectModules, defaultDetector, embedderFor, resolveModelArg, workerdConfig, writeDist } from '../deploy/build.mjs';
import { buildIndex, loadIndex } from '../js/shopframe.mjs';
import { startWorkerd } from '../tests/worker/workerd.mjs';
import { datasetKey, generateDataset } from './lib/data.mjs';

const { values: opt } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '8' },
    n: { type: 'string', default: '100000' },
    quantizer: { type: 'string', default: 'ivf1024,sq8' },
    'cold-runs': { type: 'string', default: '3' },
  },
});
const DURATION = Number(opt.duration), CONNECTIONS = Number(opt.connections), N = Number(opt.n), COLD_RUNS = Number(opt['cold-runs']);
const LIMITS = { free: 3e6, paid: 10e6 };   // Cloudflare Workers script size, compressed (published limits)
const DEMO_CATALOG = join(REPO, 'build/demo/web/catalog.sfi');
const log = (...a) => console.error('[edge]', ...a);
const now = () => performance.now();
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const round = (x, d = 3) => (x === null || x === undefined ? null : Number(x.toFixed(d)));

// ---------------------------------------------------------------- the 100k index

const CATEGORIES = ['Fruit/Apple', 'Fruit/Pear', 'Dairy/Milk', 'Dairy/Yoghurt', 'Vegetables/Leek', 'Vegetables/Pepper', 'Bakery/Bread', 'Drinks/Juice'];

async function benchIndex() {
  const ds = generateDataset(N);
  const file = join(REPO, 'bench/out', `edge-${datasetKey(N)}-${opt.quantizer.replace(/[^a-z0-9]+/gi, '_')}.sfi`);
  let bytes, buildSeconds = null;
  if (existsSync(file)) {
    bytes = new Uint8Array(await readFile(file));
    log(`index: cached ${file}`);
  } else {
    log(`index: building ${N} x ${ds.d} ${opt.quantizer} (cached afterwards in bench/out/) ...`);
    const items = Array.from({ length: N }, (_, i) => ({
      id: `sku-${i}`, title: `Product ${i}`, category: CATEGORIES[i % CATEGORIES.length], price: 1 + (i % 50) / 4, currency: 'EUR',
      url: `https://shop.example/p/${i}`, image: `https://shop.example/img/${i}.jpg`,
    }));
    const t0 = now();
    bytes = await buildIndex({ vectors: ds.base, dim: ds.d, items, quantizer: opt.quantizer, buildTime: Date.UTC(2026, 0, 1) });
    buildSeconds = (now() - t0) / 1000;
    await mkdir(join(REPO, 'bench/out'), { recursive: true });
    await writeFile(file, bytes);
  }
  return { bytes, query: ds.queries.slice(0, ds.d), dim: ds.d, buildSeconds, file };
}

/** index.search in node on the fixed query: the search alone. */
async function nodeSearch(bytes, query) {
  const index = await loadIndex(bytes);
  try {
    for (let i = 0; i < 200; ++i) index.search(query, { k: 10 });
    const times = [];
    for (let i = 0; i < 3000; ++i) {
      const t0 = now();
      index.search(query, { k: 10 });
      times.push(now() - t0);
    }
    times.sort((a, b) => a - b);
    return { p50_ms: pct(times, 0.5), p99_ms: pct(times, 0.99), info: index.info() };
  } finally {
    index.close();
  }
}

// ---------------------------------------------------------------- workerd

function firstGroceryJpeg() {
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) { const f = walk(join(d, e.name)); if (f) return f; }
      else if (e.name.endsWith('.jpg')) return join(d, e.name);
    }
    return null;
  };
  const root = join(REPO, '..', 'shared', 'data', 'grocery', 'val');
  return existsSync(root) ? walk(root) : null;
}

/** The analyze set-up (demo catalog, default models, a JPEG), or the reason there is none. */
async function analyzeSetup() {
  if (!existsSync(DEMO_CATALOG)) return { skip: `${DEMO_CATALOG} missing (node tools/demo.mjs --no-serve)` };
  const jpeg = firstGroceryJpeg();
  if (!jpeg) return { skip: 'no JPEG under ../shared/data/grocery/val' };
  try {
    const catalog = new Uint8Array(await readFile(DEMO_CATALOG));
    const analyze = { embedder: await resolveModelArg(await embedderFor(catalog), 'embedder'), detector: await resolveModelArg(await defaultDetector(), 'detector'), bucket: false };
    await checkCatalog(catalog, analyze);
    return { analyze, catalog, jpeg, image: new Uint8Array(await readFile(jpeg)) };
  } catch (e) {
    return { skip: `models: ${e.message}` };
  }
}

const running = new Set();   // workerd processes (and starts under way) to stop if this script is interrupted

async function startServices(dir, services) {
  const config = join(dir, `config-${services.map((s) => s.name).join('-')}.capnp`);
  await writeFile(config, workerdConfig({ modules: services[0].modules, configDir: dir, services }));
  const starting = startWorkerd(config, { sockets: services.map((s) => s.name), timeoutMs: 60000 });
  running.add(starting);
  const wd = await starting.finally(() => running.delete(starting));
  running.add(wd);
  const stop = wd.stop;
  wd.stop = () => { running.delete(wd); return stop(); };
  return wd;
}

/** Spawn to first 200 on /v1/health, then the first request of `first` (e.g. a /v1/match). */
async function coldStart(dir, service, first) {
  const t0 = now();
  const wd = await startServices(dir, [service]);
  const listen = now() - t0;
  const url = wd.urls[service.name];
  try {
    let status = 0;
    while (status !== 200) {
      status = (await fetch(`${url}/v1/health`)).status;
      if (status !== 200 && now() - t0 > 60000) throw new Error(`/v1/health still ${status} after 60 s`);
    }
    const health = now() - t0;
    const t1 = now();
    const res = await first(url);
    if (res.status !== 200) throw new Error(`first request: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    return { listen_ms: listen, health_ms: health, first_ms: now() - t1 };
  } finally {
    await wd.stop();
  }
}

function median(runs, key) {
  const v = runs.map((r) => r[key]).sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
}

/** autocannon for `duration` s; latencies from its 'response' events (its histogram has 1 ms steps). */
function load({ url, method = 'GET', headers, body, connections = CONNECTIONS, duration = DURATION }) {
  const times = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, method, headers, body, connections, duration, pipelining: 1 }, (e, r) => {
      if (e) return reject(e);
      times.sort((a, b) => a - b);
      resolve({ rps: r.requests.total / ((r.finish - r.start) / 1000), requests: r.requests.total, p50_ms: pct(times, 0.5), p99_ms: pct(times, 0.99),
        non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, connections });
    });
    instance.on('response', (client, status, bytes, ms) => { if (status === 200) times.push(ms); });
  });
}

// ---------------------------------------------------------------- main

const started = new Date();
const load0 = os.loadavg();
const dir = await mkdtemp(join(os.tmpdir(), 'shopframe-edge-bench-'));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await Promise.allSettled([...running].map(async (wd) => (await wd).stop()));
    await rm(dir, { recursive: true, force: true });
    process.exit(130);
  });
}
try {
  const idx = await benchIndex();
  const node = await nodeSearch(idx.bytes, idx.query);
  log(`index: ${idx.bytes.length} bytes, node index.search p50 ${node.p50_ms.toFixed(3)} ms`);
  const vision = await analyzeSetup();
  if (vision.skip) log(`analyze skipped: ${vision.skip}`);

  // Dists: the worker alone (catalog from the binding), with the demo catalog, with the 100k
  // catalog bundled, and with analyze (models bundled / from an R2 bucket).
  await writeFile(join(dir, 'bench.sfi'), idx.bytes);
  const dist = async (name, o) => collectModules({ dist: await writeDist({ out: join(dir, name), ...o }) });
  const plain = await dist('plain', { catalog: null });
  const bundles = [
    { name: 'match/catalog/health, catalog from R2', modules: plain },
    { name: `the same + ${N / 1000}k x ${idx.dim} catalog bundled (${opt.quantizer})`, modules: await dist('big', { catalog: idx.bytes }) },
  ];
  let analyzeModules = null, demoModules = null;
  if (!vision.skip) {
    demoModules = await dist('demo', { catalog: vision.catalog });
    bundles.splice(1, 0, { name: `the same + demo catalog bundled (${(vision.catalog.length / 1e6).toFixed(1)} MB, ${vision.analyze.embedder.source})`, modules: demoModules });
    analyzeModules = await dist('analyze', { catalog: vision.catalog, analyze: vision.analyze });
    bundles.push({ name: '+ /v1/analyze: ORT + both models bundled, demo catalog', modules: analyzeModules });
    bundles.push({ name: '+ /v1/analyze, models from R2 (--models-bucket), demo catalog', modules: await dist('analyze-r2', { catalog: vision.catalog, analyze: { ...vision.analyze, bucket: true } }) });
  }
  const sizes = bundles.map((b) => {
    const s = bundleSize(b.modules);
    return { bundle: b.name, modules: b.modules.length, bytes: s.raw, gzip_bytes: s.gz, fits_free: s.gz <= LIMITS.free, fits_paid: s.gz <= LIMITS.paid };
  });

  const TOKEN = 'bench-token';
  const matchService = { name: 'match', address: '127.0.0.1:0', modules: plain, bindings: [
    { name: 'CATALOG', dataPath: join(dir, 'bench.sfi') }, { name: 'CATALOG_TOKEN', text: TOKEN },
    { name: 'CATALOG_UPLOAD_LIMIT', text: String(2 * idx.bytes.length) },   // workerd here has the memory; see docs/deploy.md
  ] };
  const jsonBody = JSON.stringify({ embedding: Array.from(idx.query), k: 10 });
  const binBody = Buffer.from(idx.query.buffer, idx.query.byteOffset, idx.query.byteLength);
  const postMatch = (url) => fetch(`${url}/v1/match`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: jsonBody });

  // Cold starts: fresh workerd processes, one at a time.
  log(`cold start: ${COLD_RUNS} runs ...`);
  const coldMatch = [];
  for (let i = 0; i < COLD_RUNS; ++i) coldMatch.push(await coldStart(dir, matchService, postMatch));
  const cold = [{ service: `/v1/match, ${N / 1000}k index (${(idx.bytes.length / 1e6).toFixed(1)} MB)`, runs: coldMatch.length,
    listen_ms: median(coldMatch, 'listen_ms'), health_ms: median(coldMatch, 'health_ms'), first_ms: median(coldMatch, 'first_ms'), first_what: 'first /v1/match' }];
  let analyzeService = null;
  if (!vision.skip) {
    // The worker with a small bundled catalog: no 38 MB binding for workerd to read first.
    const demo = { name: 'demo', address: '127.0.0.1:0', modules: demoModules };
    const demoMatch = (url) => fetch(`${url}/v1/match`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ embedding: Array(vision.analyze.embedder.manifest.embedding_dim).fill(0.01) }) });
    const runs = [];
    for (let i = 0; i < COLD_RUNS; ++i) runs.push(await coldStart(dir, demo, demoMatch));
    cold.push({ service: `/v1/match, demo catalog bundled (${(vision.catalog.length / 1e6).toFixed(1)} MB)`, runs: runs.length, listen_ms: median(runs, 'listen_ms'),
      health_ms: median(runs, 'health_ms'), first_ms: median(runs, 'first_ms'), first_what: 'first /v1/match' });
  }
  if (analyzeModules) {
    analyzeService = { name: 'analyze', address: '127.0.0.1:0', modules: analyzeModules };
    const postImage = (url) => fetch(`${url}/v1/analyze`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: vision.image });
    const runs = [];
    for (let i = 0; i < COLD_RUNS; ++i) runs.push(await coldStart(dir, analyzeService, postImage));
    cold.push({ service: '/v1/analyze, demo catalog, models bundled', runs: runs.length, listen_ms: median(runs, 'listen_ms'),
      health_ms: median(runs, 'health_ms'), first_ms: median(runs, 'first_ms'), first_what: 'first /v1/analyze (ORT start)' });
  }

  // Load: one workerd serving both; each endpoint warmed up, checked once, then loaded.
  const wd = await startServices(dir, analyzeService ? [matchService, analyzeService] : [matchService]);
  const rows = [];
  const swaps = [];
  try {
    const m = wd.urls.match;
    const check = await (await postMatch(m)).json();
    if (check.results?.[0]?.length !== 10) throw new Error(`/v1/match answered ${JSON.stringify(check).slice(0, 200)}`);
    // Each at 1 connection (latency: no queueing) and at --connections (throughput: the
    // isolate saturated, so latency there is mostly waiting in line).
    const endpoints = [
      { endpoint: 'GET /v1/health (baseline)', url: `${m}/v1/health` },
      { endpoint: 'POST /v1/match, JSON, k=10', url: `${m}/v1/match`, method: 'POST', headers: { 'content-type': 'application/json' }, body: jsonBody },
      { endpoint: 'POST /v1/match, float32 body, k=10', url: `${m}/v1/match?k=10`, method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: binBody },
    ];
    const runs = [...endpoints.map((e) => ({ ...e, connections: 1 })), ...endpoints];
    if (analyzeService) {
      // One connection: an isolate analyses one image at a time, more connections only queue.
      runs.push({ endpoint: `POST /v1/analyze, ${vision.jpeg.split('/').pop()}`, url: `${wd.urls.analyze}/v1/analyze`, method: 'POST',
        headers: { 'content-type': 'image/jpeg' }, body: Buffer.from(vision.image), connections: 1, slow: true });
    }
    for (const r of runs) {
      log(`load: ${r.endpoint}, ${r.connections ?? CONNECTIONS} connection(s) (warm-up, then ${DURATION} s) ...`);
      // Warm-up: 2 s of load, or for analyze one awaited request (ORT start): autocannon drops
      // requests still running when it stops, and the worker would finish those (~0.4 s each)
      // inside the measured run.
      if (r.slow) await fetch(r.url, { method: r.method, headers: r.headers, body: r.body }).then((res) => res.arrayBuffer());
      else await load({ ...r, duration: 2 });
      const { slow, ...options } = r;
      rows.push({ endpoint: r.endpoint, ...(await load(options)) });
    }
    // Swapping the index: PUT /v1/catalog with the same 100k index (upload over loopback,
    // full validation, swap), while nothing else runs.
    for (let i = 0; i < 3; ++i) {
      const t0 = now();
      const res = await fetch(`${m}/v1/catalog`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' }, body: idx.bytes });
      const info = await res.json();
      if (res.status !== 200) throw new Error(`PUT /v1/catalog: ${res.status} ${JSON.stringify(info)}`);
      swaps.push(now() - t0);
    }
  } finally {
    await wd.stop();
  }
  for (const r of rows) {
    const base = rows.find((b) => b.endpoint === rows[0].endpoint && b.connections === r.connections) ?? rows[0];
    r.rps_vs_health = r.rps / base.rps;
    r.p50_vs_health = r.p50_ms / base.p50_ms;
  }

  const result = {
    date: started.toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg_start: load0, loadavg_end: os.loadavg() },
    workerd: JSON.parse(await readFile(join(REPO, 'node_modules/workerd/package.json'), 'utf8')).version,
    index: { n: N, dim: idx.dim, quantizer: opt.quantizer, bytes: idx.bytes.length, build_s: idx.buildSeconds, file: idx.file },
    node_search: { p50_ms: node.p50_ms, p99_ms: node.p99_ms },
    load: rows, cold_start: cold, swap_ms: swaps, bundle: sizes, limits: LIMITS, analyze_skipped: vision.skip ?? null,
  };
  if (opt.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    const mb = (n) => (n / 1e6).toFixed(2);
    console.log(`edge worker, ${result.date}, ${result.machine.cpus} cores (${result.machine.model}), load average ${load0.map((x) => x.toFixed(1)).join(' ')} -> ${result.machine.loadavg_end.map((x) => x.toFixed(1)).join(' ')}, workerd ${result.workerd}`);
    console.log(`index: ${N} x ${idx.dim} ${opt.quantizer}, ${mb(idx.bytes.length)} MB${idx.buildSeconds ? `, built in ${idx.buildSeconds.toFixed(1)} s` : ''}; node index.search p50 ${node.p50_ms.toFixed(3)} ms, p99 ${node.p99_ms.toFixed(3)} ms\n`);
    console.log('| endpoint | connections | requests | req/s | p50 ms | p99 ms | non-2xx | errors | req/s vs health | p50 vs health |');
    // ratios: against /v1/health at the same number of connections
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    const f = (x, d) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
    for (const r of rows) console.log(`| ${r.endpoint} | ${r.connections} | ${r.requests} | ${f(r.rps, r.rps < 10 ? 2 : 0)} | ${f(r.p50_ms, 2)} | ${f(r.p99_ms, 2)} | ${r.non2xx} | ${r.errors + r.timeouts} | ${r.rps_vs_health.toPrecision(2)} | ${f(r.p50_vs_health, 1)} |`);
    console.log(`\nPUT /v1/catalog with the ${mb(idx.bytes.length)} MB index (upload, validation, swap): ${swaps.map((x) => x.toFixed(0)).join(', ')} ms`);
    console.log('\n| cold start | runs | workerd listening ms | first 200 /v1/health ms | then | ms |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const c of cold) console.log(`| ${c.service} | ${c.runs} | ${c.listen_ms.toFixed(0)} | ${c.health_ms.toFixed(0)} | ${c.first_what} | ${c.first_ms.toFixed(0)} |`);
    console.log('\n| bundle | modules | MB | MB gzipped | free plan (3 MB) | paid plan (10 MB) |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const s of sizes) console.log(`| ${s.bundle} | ${s.modules} | ${mb(s.bytes)} | ${mb(s.gzip_bytes)} | ${s.fits_free ? 'fits' : 'over'} | ${s.fits_paid ? 'fits' : 'over'} |`);
    if (vision.skip) console.log(`\n/v1/analyze skipped: ${vision.skip}`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
