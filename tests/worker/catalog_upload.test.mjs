// PUT /v1/catalog in a real workerd: authentication, full validation before anything changes,
// the swap itself (atomic for new requests; requests in flight keep the index they started
// with, also under load), analyze after a swap, and the R2 copy of an upload (in node).
//
//   swap    bundled catalog G0 (32-d, ids g0-*), CATALOG_TOKEN set, CORS_ORIGINS "*"
//   locked  the same without CATALOG_TOKEN (uploads disabled)
//   vision  tiny models (--analyze) and an 8-d catalog V0 built "with" the tiny embedder
//   broken  a CATALOG binding that does not load (an upload must still be able to fix it)
// Catalogs Gn have ids gn-*, so every /v1/match answer tells which index produced it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodePng } from '../js/lib/png.mjs';

import { REPO, collectModules, workerdConfig, writeDist } from '../../deploy/build.mjs';
import { UPLOAD_LIMIT } from '../../deploy/src/catalog.mjs';
import { createEngine } from '../../js/engine.mjs';
import { buildIndex, loadIndex } from '../../js/shopframe.mjs';
import { CATEGORIES, clusteredVectors } from '../js/helpers.mjs';
import { tinyEmbedder, tinyYoloDetector, writeManifest } from '../js/lib/tiny_onnx.mjs';
import { expectError, ok, postDeclaredOnly, postJson } from './helpers.mjs';
import { startWorkerd } from './workerd.mjs';

const DIM = 32, N = 2000, VISION_DIM = 8;
const BUILD_TIME = Date.UTC(2026, 1, 3, 4, 5, 6);
const TOKEN = 'test-token-7f3a9c1e';
const EPS = 1e-6;

let dir, wd, urls, models;
const G = [];        // catalog bytes G0..G3
const gIndex = [];   // node-side indexes of G0..G3
const V = [];        // vision catalogs V0, V1 (8-d)

async function gridCatalog(g) {
  const items = Array.from({ length: N }, (_, i) => ({ id: `g${g}-${i}`, title: `Gen ${g} item ${i}`, category: CATEGORIES[i % 4], price: i, currency: 'EUR' }));
  return buildIndex({ vectors: clusteredVectors(N, DIM, 16, 100 + g), dim: DIM, items, quantizer: 'sq8', buildTime: BUILD_TIME + g * 1000 });
}

async function visionCatalog(v, embedder = models.embedder.manifest) {
  const items = Array.from({ length: 300 }, (_, i) => ({ id: `v${v}-${i}`, title: `Vision ${v} item ${i}`, category: CATEGORIES[i % 4] }));
  return buildIndex({ vectors: clusteredVectors(300, VISION_DIM, 6, 200 + v), dim: VISION_DIM, items, quantizer: 'sq8', buildTime: BUILD_TIME + v,
    config: { embedder: { name: embedder.name, sha256: embedder.sha256, dim: VISION_DIM } } });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shopframe-upload-'));
  const embBytes = tinyEmbedder({ size: 32, dim: VISION_DIM });
  const emb = await writeManifest(dir, { bytes: embBytes, name: 'tiny-emb', size: 32, embeddingDim: VISION_DIM });
  const detBytes = tinyYoloDetector({ size: 64, box: [24, 24, 16, 32] });
  const det = await writeManifest(dir, { bytes: detBytes, name: 'tiny-yolo', kind: 'yolo', size: 64, classNames: ['red', 'green'] });
  const model = (m, bytes) => ({ manifest: m.manifest, manifestText: JSON.stringify(m.manifest), bytes, source: m.manifest.name });
  models = { embedder: model(emb, embBytes), detector: model(det, detBytes) };

  for (let g = 0; g < 4; ++g) {
    G.push(await gridCatalog(g));
    gIndex.push(await loadIndex(G[g]));
  }
  V.push(await visionCatalog(0), await visionCatalog(1));

  const plain = collectModules({ dist: await writeDist({ out: join(dir, 'dist-plain'), catalog: G[0] }) });
  const vision = collectModules({ dist: await writeDist({ out: join(dir, 'dist-vision'), catalog: V[0], analyze: models }) });
  const broken = G[0].slice(0, 1000);
  await writeFile(join(dir, 'broken.sfi'), broken);
  const token = { name: 'CATALOG_TOKEN', text: TOKEN };
  const address = '127.0.0.1:0';
  await writeFile(join(dir, 'config.capnp'), workerdConfig({
    modules: plain, configDir: dir,
    services: [
      { name: 'swap', address, bindings: [token, { name: 'CORS_ORIGINS', text: '*' }] },
      { name: 'locked', address },
      { name: 'vision', address, modules: vision, bindings: [token] },
      { name: 'broken', address, bindings: [token, { name: 'CATALOG', dataPath: join(dir, 'broken.sfi') }] },
    ],
  }));
  wd = await startWorkerd(join(dir, 'config.capnp'), { sockets: ['swap', 'locked', 'vision', 'broken'] });
  urls = wd.urls;
});

after(async () => {
  await wd?.stop();
  for (const i of gIndex) i.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------ helpers

const put = (base, bytes, { token = TOKEN, type = 'application/octet-stream', authorization } = {}) => fetch(`${base}/v1/catalog`, {
  method: 'PUT',
  headers: { 'content-type': type, ...(authorization ?? token ? { authorization: authorization ?? `Bearer ${token}` } : {}) },
  body: bytes,
});

const QUERY = clusteredVectors(1, DIM, 1, 999);
const matchOnce = (base) => postJson(`${base}/v1/match`, { embedding: Array.from(QUERY), k: 5 });

/** Which catalog Gn produced these hits (from the ids), after checking they are exactly its answer. */
function generationOf(hits, what) {
  const g = Number(/^g(\d+)-/.exec(hits[0]?.id ?? '')?.[1]);
  assert.ok(g >= 0 && g < G.length, `${what}: hits from no known catalog: ${JSON.stringify(hits[0])}`);
  const want = gIndex[g].search(QUERY, { k: 5 });
  assert.deepEqual(hits.map((h) => h.id), want.map((h) => h.id), `${what}: not exactly G${g}'s answer`);
  hits.forEach((h, i) => assert.ok(Math.abs(h.score - want[i].score) <= EPS, `${what}: score`));
  return g;
}

async function serving(base) {
  const c = await ok(await fetch(`${base}/v1/catalog`));
  const m = await ok(await matchOnce(base));
  return { catalog: c, matchGeneration: generationOf(m.results[0], 'serving') };
}

// ------------------------------------------------------------------------------ tests

test('PUT /v1/catalog: 401 without the right bearer token, 403 when no CATALOG_TOKEN is set; nothing changes', async () => {
  const bad = [
    [{ token: null }, 'Authorization: Bearer', false],
    [{ token: 'wrong' }, 'not the CATALOG_TOKEN', true],
    [{ token: TOKEN.slice(0, -1) }, 'not the CATALOG_TOKEN', true],
    [{ token: `${TOKEN}x` }, 'not the CATALOG_TOKEN', true],
    [{ authorization: `Basic ${btoa(`admin:${TOKEN}`)}` }, 'not the CATALOG_TOKEN', true],
    [{ authorization: TOKEN }, 'not the CATALOG_TOKEN', true],
  ];
  for (const [opts, fragment, given] of bad) {
    const res = await put(urls.swap, G[1], opts);
    assert.equal(res.headers.get('www-authenticate'), `Bearer realm="shopframe catalog"${given ? ', error="invalid_token"' : ''}`);
    await expectError(res, 401, 'unauthorized', fragment);
  }
  // A real-sized upload with a wrong token still gets its 401 (the body is read and dropped).
  await expectError(await put(urls.swap, new Uint8Array(5 << 20), { token: 'wrong' }), 401, 'unauthorized');
  await expectError(await put(urls.locked, G[1]), 403, 'forbidden', 'CATALOG_TOKEN');
  await expectError(await put(urls.locked, G[1], { token: null }), 403, 'forbidden');
  for (const base of [urls.swap, urls.locked]) {
    const { catalog, matchGeneration } = await serving(base);
    assert.equal(catalog.generation, 0);
    assert.equal(catalog.built, new Date(BUILD_TIME).toISOString());
    assert.equal(matchGeneration, 0);
  }
  // CORS "*" serves browsers, but preflights offer neither PUT nor the Authorization header.
  const pre = await fetch(`${urls.swap}/v1/catalog`, { method: 'OPTIONS', headers: { origin: 'https://x.example', 'access-control-request-method': 'PUT' } });
  assert.equal(pre.headers.get('allow'), 'GET, HEAD, PUT, OPTIONS');
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.equal(pre.headers.get('access-control-allow-methods'), 'GET, HEAD, OPTIONS');
  assert.equal(pre.headers.get('access-control-allow-headers'), 'content-type');
  assert.equal(pre.headers.get('vary'), null);
});

test('PUT /v1/catalog: a valid index replaces the serving one; the answer is its /v1/catalog', async () => {
  const res = await put(urls.swap, G[1]);
  const info = await ok(res);
  const want = gIndex[1].info();
  assert.equal(info.generation, 1);
  assert.equal(info.items, N);
  assert.equal(info.built, new Date(BUILD_TIME + 1000).toISOString());
  assert.equal(info.bytes, G[1].length);
  assert.deepEqual(info.sections.map((s) => s.crc32), want.sections.map((s) => s.crc32));
  assert.ok(info.sections.every((s) => s.verified));
  const { catalog, matchGeneration } = await serving(urls.swap);
  assert.deepEqual(catalog, info);
  assert.equal(matchGeneration, 1);
  assert.deepEqual(await ok(await fetch(`${urls.swap}/v1/health`)), { ok: true, simd: 'wasm128', index: { items: N, dim: DIM }, analyze: false });
  // Filters run against the new metadata too.
  const fruit = await ok(await postJson(`${urls.swap}/v1/match`, { embedding: Array.from(QUERY), k: 7, category: 'Fruit' }));
  assert.deepEqual(fruit.results[0].map((h) => h.id), gIndex[1].search(QUERY, { k: 7, category: 'Fruit' }).map((h) => h.id));
});

test('PUT /v1/catalog: a bad upload is a 400 naming the section or byte, and the old index keeps serving', async () => {
  const good = G[2];
  const corrupt = good.slice();
  const strs = gIndex[2].info().sections.find((s) => s.kind === 'STRS');
  corrupt[Number(strs.offset) + 10] ^= 0x5a;
  const version = good.slice();
  version[8] = 0x63;
  const cases = [
    ['truncated at the end', good.subarray(0, good.length - 100), '(truncated)', `file is ${good.length - 100} bytes`, `says ${good.length}`, 'byte 16'],
    ['truncated in the header', good.subarray(0, 100), '(truncated)', 'shorter than the 128-byte header'],
    ['empty', new Uint8Array(0), '(truncated)'],
    ['one byte flipped', corrupt, '(corrupt)', 'section STRS checksum mismatch', `at byte ${strs.offset}`],
    ['a newer format version', version, '(unsupported)', 'format version', 'byte 8'],
    ['a foreign file (an ONNX model)', models.embedder.bytes, '(corrupt)', 'not a shopframe index', 'byte 0'],
    ['a foreign file (JSON catalog text)', new TextEncoder().encode(`${JSON.stringify({ id: 'x', embedding: [1, 2] })}\n`.repeat(20)), 'bad magic', 'byte 0'],
  ];
  for (const [what, bytes, ...fragments] of cases) {
    const e = await expectError(await put(urls.swap, bytes), 400, 'invalid_index', 'body: not a usable index', ...fragments);
    assert.ok(e, what);
    const { catalog, matchGeneration } = await serving(urls.swap);
    assert.equal(catalog.generation, 1, `${what}: generation`);
    assert.equal(matchGeneration, 1, `${what}: /v1/match`);
  }
  await expectError(await put(urls.swap, good, { type: 'application/json' }), 415, 'unsupported_media_type', 'application/octet-stream');
  await expectError(await put(urls.swap, good, { type: '' }), 415, 'unsupported_media_type');
  const big = await postDeclaredOnly(urls.swap, '/v1/catalog', 'application/octet-stream', 10 * UPLOAD_LIMIT, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(big.status, 413);
  assert.match(big.body.error.message, new RegExp(`${UPLOAD_LIMIT}-byte limit`));
  // After all that: still G1, and a good upload still works.
  assert.equal((await serving(urls.swap)).matchGeneration, 1);
});

test('PUT /v1/catalog: a request in flight keeps its index through a swap; uploads go one at a time (409)', async () => {
  // A /v1/match whose body is still arriving holds the catalog it started with (G1).
  const text = JSON.stringify({ embedding: Array.from(QUERY), k: 5 });
  let ctl;
  const pending = fetch(`${urls.swap}/v1/match`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, duplex: 'half',
    body: new ReadableStream({ start(c) { ctl = c; } }),
  });
  ctl.enqueue(new TextEncoder().encode(text.slice(0, 20)));
  await sleep(300);   // the worker has taken its reference and waits for the rest
  assert.equal((await ok(await put(urls.swap, G[2]))).generation, 2);
  assert.equal((await serving(urls.swap)).matchGeneration, 2);
  ctl.enqueue(new TextEncoder().encode(text.slice(20)));
  ctl.close();
  const late = await ok(await pending);
  assert.equal(generationOf(late.results[0], 'the request in flight'), 1, 'it answers from the index it started with, which the swap did not close under it');

  // An upload whose body is still arriving makes a second one wait its turn: 409.
  let upl;
  const first = fetch(`${urls.swap}/v1/catalog`, {
    method: 'PUT', headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${TOKEN}` }, duplex: 'half',
    body: new ReadableStream({ start(c) { upl = c; } }),
  });
  upl.enqueue(G[3].subarray(0, 1000));
  await sleep(300);
  await expectError(await put(urls.swap, G[1]), 409, 'conflict', 'another catalog upload');
  upl.enqueue(G[3].subarray(1000));
  upl.close();
  assert.equal((await ok(await first)).generation, 3);
  assert.equal((await serving(urls.swap)).matchGeneration, 3);
});

test('PUT /v1/catalog under load: 3 swaps during 200+ concurrent /v1/match requests, no failures, each answer from one whole index', async () => {
  const order = [1, 2, 0];   // G3 serves now
  let swapsDone = 0;
  const answers = [];
  let stop = false;
  // Half the clients send their body in two parts 5 ms apart: requests that hold their index
  // across an await, as any request with a body does, are then in flight during every swap.
  const slowMatch = () => {
    const text = new TextEncoder().encode(JSON.stringify({ embedding: Array.from(QUERY), k: 5 }));
    return fetch(`${urls.swap}/v1/match`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, duplex: 'half',
      body: new ReadableStream({
        async start(c) {
          c.enqueue(text.subarray(0, 40));
          await sleep(5);
          c.enqueue(text.subarray(40));
          c.close();
        },
      }),
    });
  };
  const client = async (_, i) => {
    while (!stop) {
      const floor = swapsDone;   // swaps completed before this request was sent
      const res = await (i % 2 ? slowMatch() : matchOnce(urls.swap));
      const text = await res.text();
      answers.push({ floor, status: res.status, text });
    }
  };
  const clients = Array.from({ length: 24 }, client);
  for (const g of order) {
    await sleep(60);
    const info = await ok(await put(urls.swap, G[g]));
    assert.equal(info.bytes, G[g].length);
    ++swapsDone;
  }
  while (answers.length < 200) await sleep(10);
  stop = true;
  await Promise.all(clients);

  const served = [3, ...order];   // the catalog serving after k swaps
  const seen = new Set();
  for (const [i, a] of answers.entries()) {
    assert.equal(a.status, 200, `answer ${i}: ${a.text}`);
    const g = generationOf(JSON.parse(a.text).results[0], `answer ${i}`);
    // Sent after k swaps: from the catalog installed by swap k or a later one, never an older one.
    assert.ok(served.slice(a.floor).includes(g), `answer ${i} (sent after ${a.floor} swaps) came from G${g}`);
    seen.add(g);
  }
  assert.ok(seen.size >= 3, `the swaps happened during the load: answers came from ${[...seen].map((g) => `G${g}`).join(', ')}`);
  assert.equal((await serving(urls.swap)).matchGeneration, 0);
});

test('PUT /v1/catalog with /v1/analyze: the embedder must match; analyze uses the new index, also for requests in flight', async () => {
  await expectError(await put(urls.vision, G[1]), 400, 'invalid_index', 'embedder', `(${DIM}-d)`, `tiny-emb (${VISION_DIM}-d)`);
  const other = await visionCatalog(2, { name: 'other-emb', sha256: 'ab'.repeat(32) });
  await expectError(await put(urls.vision, other), 400, 'invalid_index', 'other-emb');
  assert.equal((await ok(await fetch(`${urls.vision}/v1/catalog`))).generation, 0);

  const png = encodeRedPng();
  const analyze = () => fetch(`${urls.vision}/v1/analyze?k=3`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png }).then(ok);
  const engines = await Promise.all(V.map((bytes) => createEngine({ index: bytes, models: { embedder: models.embedder, detector: models.detector } })));
  try {
    const want = await Promise.all(engines.map((e) => e.analyzeEncoded(png, { k: 3 })));
    const ids = (r) => r.top.map((h) => h.id);
    assert.deepEqual(ids(await analyze()), ids(want[0]));
    // An analysis whose image is still arriving when V1 replaces V0 answers from V0; four more
    // queued around the swap answer from V0 or V1, each whole.
    let ctl;
    const slow = fetch(`${urls.vision}/v1/analyze?k=3`, {
      method: 'POST', headers: { 'content-type': 'image/png' }, duplex: 'half', body: new ReadableStream({ start(c) { ctl = c; } }),
    });
    ctl.enqueue(png.subarray(0, 50));
    await sleep(300);
    const inFlight = [analyze(), analyze(), analyze(), analyze()];
    assert.equal((await ok(await put(urls.vision, V[1]))).generation, 1);
    ctl.enqueue(png.subarray(50));
    ctl.close();
    const old = await ok(await slow);
    assert.deepEqual(ids(old), ids(want[0]));
    assert.deepEqual(old.regions.map((g) => g.matches.map((h) => h.id)), want[0].regions.map((g) => g.matches.map((h) => h.id)));
    for (const r of await Promise.all(inFlight)) {
      assert.ok([0, 1].some((v) => JSON.stringify(ids(r)) === JSON.stringify(ids(want[v]))), `in flight: ${ids(r)}`);
      assert.ok(r.regions.every((g) => g.matches.every((h) => h.id.startsWith(r.top[0].id.slice(0, 3)))), 'one index per answer');
    }
    const after = await analyze();
    assert.deepEqual(ids(after), ids(want[1]));
    assert.deepEqual(after.regions.map((g) => g.matches.map((h) => h.id)), want[1].regions.map((g) => g.matches.map((h) => h.id)));
  } finally {
    await Promise.all(engines.map((e) => e.close()));
  }
});

test('PUT /v1/catalog repairs a deployment whose own catalog does not load', async () => {
  const res = await fetch(`${urls.broken}/v1/health`);
  assert.equal(res.status, 503);
  assert.match((await res.json()).error.message, /truncated/);
  assert.equal((await ok(await put(urls.broken, G[2]))).generation, 1);
  assert.deepEqual((await ok(await fetch(`${urls.broken}/v1/health`))).index, { items: N, dim: DIM });
  assert.equal((await serving(urls.broken)).matchGeneration, 2);
});

test('PUT /v1/catalog with an R2 CATALOG bucket (createApp in node): the upload is stored for new isolates; a failed store changes nothing', async () => {
  const { createApp } = await import('../../deploy/src/app.mjs');
  const coreWasm = await WebAssembly.compile(await readFile(join(REPO, 'build', 'wasm', 'shopframe_core.wasm')));
  const objects = { 'shop.sfi': G[0] };
  const bucket = {
    failPut: false,
    async get(key) { const b = objects[key]; return b ? { arrayBuffer: async () => b.slice().buffer } : null; },
    async put(key, bytes) {
      if (this.failPut) throw new Error('R2 is down');
      objects[key] = new Uint8Array(bytes).slice();
    },
  };
  const env = { CATALOG: bucket, CATALOG_KEY: 'shop.sfi', CATALOG_TOKEN: TOKEN };
  const call = (app, path, init) => app.fetch(new Request(`http://worker${path}`, init), env);
  const putInit = (bytes) => ({ method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' }, body: bytes });
  const app = createApp({ coreWasm, assets: { catalog: null, analyze: null } });
  assert.equal((await ok(await call(app, '/v1/catalog'))).built, new Date(BUILD_TIME).toISOString());

  assert.equal((await ok(await call(app, '/v1/catalog', putInit(G[1])))).generation, 1);
  assert.deepEqual(objects['shop.sfi'], G[1]);
  const fresh = createApp({ coreWasm, assets: { catalog: null, analyze: null } });   // an isolate started later
  assert.equal((await ok(await call(fresh, '/v1/catalog'))).built, new Date(BUILD_TIME + 1000).toISOString());

  bucket.failPut = true;
  await expectError(await call(app, '/v1/catalog', putInit(G[2])), 503, 'unavailable', 'R2 is down', 'unchanged');
  assert.equal((await ok(await call(app, '/v1/catalog'))).generation, 1);
  assert.deepEqual(objects['shop.sfi'], G[1]);
  await expectError(await call(app, '/v1/catalog', putInit(G[2].subarray(0, 500))), 400, 'invalid_index');

  // CATALOG_UPLOAD_LIMIT overrides the 32 MiB default (for hosts with the memory for more).
  const small = createApp({ coreWasm, assets: { catalog: null, analyze: null } });
  const limited = (value) => small.fetch(new Request('http://worker/v1/catalog', putInit(G[1])), { ...env, CATALOG_UPLOAD_LIMIT: value });
  await expectError(await limited('1000'), 413, 'payload_too_large', '1000-byte limit');
  await expectError(await limited('lots'), 503, 'unavailable', 'CATALOG_UPLOAD_LIMIT');
  bucket.failPut = false;
  assert.equal((await ok(await limited(String(G[1].length)))).bytes, G[1].length);
});

/** A 96x64 red PNG (the tiny detector finds a 'red' box in it). */
function encodeRedPng() {
  const width = 96, height = 64;
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; ++i) rgba.set([255, 0, 0, 255], i * 4);
  return new Uint8Array(encodePng(rgba, width, height, 4));
}
