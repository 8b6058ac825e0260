// The edge worker (deploy/) in a real workerd: deploy/build.mjs writes the dist directories and
// the Cap'n Proto config (modules embedded: ES modules, the core wasm, ORT's wasm, the index and
// tiny ONNX models as data), workerd serves four workers on 127.0.0.1 (ports announced on its
// control fd), and every route and error path is exercised with fetch. /v1/match and
// /v1/analyze answers are compared with the same calls made in node through js/.
//
//   main    bundled catalog (tiny-embedder products + filler, sq8) and --analyze (tiny models)
//   plain   the same catalog without models (/v1/analyze -> 501)
//   bound   catalog from a CATALOG data binding (48-d, ivf16,pq8,rr:sq8), overriding the bundled one;
//           CORS_ORIGINS lists two origins (main has none: no CORS headers)
//   broken  a CATALOG binding with a damaged index (-> 503)
// PUT /v1/catalog (swapping the index) is tested in catalog_upload.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng } from '../js/lib/png.mjs';

import { REPO, collectModules, workerdConfig, writeDist } from '../../deploy/build.mjs';
import { MATCH_LIMITS } from '../../deploy/src/match.mjs';
import { ANALYZE_LIMITS, imageSize } from '../../deploy/src/analyze.mjs';
import { createEngine } from '../../js/engine.mjs';
import { createVision } from '../../js/vision.mjs';
import { buildIndex, buildIndexDetailed, loadIndex } from '../../js/shopframe.mjs';
import { CATEGORIES, clusteredVectors, rng } from '../js/helpers.mjs';
import { tinyEmbedder, tinyYoloDetector, writeManifest } from '../js/lib/tiny_onnx.mjs';
import { expectError, ok, postBytes, postDeclaredOnly, postJson } from './helpers.mjs';
import { startWorkerd } from './workerd.mjs';

const DIM = 8;            // tiny embedder
const BOUND_DIM = 48;
const BUILD_TIME = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const EPS = 1e-6;

let dir, wd, urls;
let mainBytes, boundBytes;
let mainIndex, boundIndex;   // node-side references
let models;                  // { embedder, detector } as { manifest, manifestText, bytes, source }
let queries;                 // Float32Array[] of DIM

// ------------------------------------------------------------------------------ images

function solidFrame(width, height, paint) {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; ++y) for (let x = 0; x < width; ++x) out.set([...paint(x, y), 255], (y * width + x) * 4);
  return out;
}

const RED = [255, 0, 0], BLUE = [0, 0, 255], GREEN = [0, 255, 0];
const images = {
  red: () => encodePng(solidFrame(96, 64, () => RED), 96, 64),
  split: () => encodePng(solidFrame(80, 80, (x) => (x < 40 ? RED : BLUE)), 80, 80),
  green: () => encodePng(solidFrame(50, 70, () => GREEN), 50, 70),
  noise: () => { const r = rng(5); return encodePng(solidFrame(64, 48, () => [r() * 255, r() * 255, r() * 255].map(Math.floor)), 64, 48); },
};

function firstGroceryJpeg() {
  const root = join(REPO, '..', 'shared', 'data', 'grocery', 'val');
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) { const f = walk(join(d, e.name)); if (f) return f; }
      else if (e.name.endsWith('.jpg')) return join(d, e.name);
    }
    return null;
  };
  return existsSync(root) ? walk(root) : null;
}

// ------------------------------------------------------------------------------ set-up

const PRODUCTS = [
  { id: 'red-mug', title: 'Red mug', category: 'Mugs', colour: RED },
  { id: 'blue-cap', title: 'Blue cap', category: 'Hats', colour: BLUE },
  { id: 'green-plant', title: 'Green plant', category: 'Garden', colour: GREEN },
  { id: 'white-mug', title: 'White mug', category: 'Mugs', colour: [255, 255, 255] },
];

async function tinyModels() {
  const embBytes = tinyEmbedder({ size: 32, dim: DIM });
  const emb = await writeManifest(dir, { bytes: embBytes, name: 'tiny-emb', size: 32, embeddingDim: DIM });
  const detBytes = tinyYoloDetector({ size: 64, box: [24, 24, 16, 32] });
  const det = await writeManifest(dir, { bytes: detBytes, name: 'tiny-yolo', kind: 'yolo', size: 64, classNames: ['red', 'green'] });
  const model = (m, bytes) => ({ manifest: m.manifest, manifestText: JSON.stringify(m.manifest), bytes, source: m.manifest.name });
  return { embedder: model(emb, embBytes), detector: model(det, detBytes) };
}

/** Catalog products embedded by the tiny embedder (full frame), then 400 filler items. */
async function mainCatalog() {
  const vision = await createVision({ embedder: models.embedder });
  const rows = [];
  const items = [];
  try {
    for (const p of PRODUCTS) {
      vision.setFrame(solidFrame(40, 40, () => p.colour), 40, 40);
      await vision.detect();
      rows.push((await vision.embed(1))[0]);
      items.push({ id: p.id, title: p.title, category: p.category, price: 9.5, currency: 'EUR', url: `https://shop.example/${p.id}`, image: `img/${p.id}.png` });
    }
  } finally {
    await vision.close();
  }
  const filler = clusteredVectors(400, DIM, 8, 11);
  for (let i = 0; i < 400; ++i) {
    rows.push(filler.subarray(i * DIM, (i + 1) * DIM));
    items.push({ id: `sku-${i}`, title: `Product ${i} \u00e9`, category: CATEGORIES[i % CATEGORIES.length],
      ...(i % 7 ? { price: 1 + (i % 5) / 4 } : {}), currency: i % 3 ? 'EUR' : 'USD', url: `https://shop.example/p/${i}`, image: `img/${i}.jpg` });
  }
  const vectors = new Float32Array(rows.length * DIM);
  rows.forEach((r, i) => vectors.set(r, i * DIM));
  const { manifest } = models.embedder;
  const { bytes } = await buildIndexDetailed({ vectors, dim: DIM, items, quantizer: 'sq8', buildTime: BUILD_TIME,
    config: { embedder: { name: manifest.name, sha256: manifest.sha256, dim: DIM } } });
  return { bytes, vectors };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shopframe-worker-'));
  models = await tinyModels();
  const main = await mainCatalog();
  mainBytes = main.bytes;
  const bv = clusteredVectors(1500, BOUND_DIM, 12, 21);
  boundBytes = await buildIndex({ vectors: bv, dim: BOUND_DIM, quantizer: 'ivf16,pq8,rr:sq8', buildTime: BUILD_TIME,
    items: Array.from({ length: 1500 }, (_, i) => ({ id: `b-${i}`, title: `Bound ${i}`, category: CATEGORIES[i % 4], price: i, currency: 'EUR' })) });
  mainIndex = await loadIndex(mainBytes);
  boundIndex = await loadIndex(boundBytes);
  const broken = mainBytes.slice();
  broken[Math.floor(broken.length * 0.6)] ^= 0x5a;

  const r = rng(99);
  queries = [
    ...Array.from({ length: 4 }, (_, i) => main.vectors.slice(i * DIM, (i + 1) * DIM)),                              // products
    ...Array.from({ length: 4 }, (_, i) => main.vectors.slice((10 + 37 * i) * DIM, (11 + 37 * i) * DIM).map((x) => x + 0.05 * (r() - 0.5))),
    ...Array.from({ length: 4 }, () => Float32Array.from({ length: DIM }, () => r() - 0.5)),                         // random, not unit
  ];

  const distAnalyze = await writeDist({ out: join(dir, 'dist-analyze'), catalog: mainBytes, analyze: models });
  const distPlain = await writeDist({ out: join(dir, 'dist-plain'), catalog: mainBytes, analyze: null });
  await writeFile(join(dir, 'bound.sfi'), boundBytes);
  await writeFile(join(dir, 'broken.sfi'), broken);
  const withModels = collectModules({ dist: distAnalyze });
  const plain = collectModules({ dist: distPlain });
  const address = '127.0.0.1:0';
  const config = workerdConfig({
    modules: withModels, configDir: dir,
    services: [
      { name: 'main', address },
      { name: 'plain', address, modules: plain },
      { name: 'bound', address, modules: plain, bindings: [{ name: 'CATALOG', dataPath: join(dir, 'bound.sfi') }, { name: 'CORS_ORIGINS', text: 'https://player.example, https://shop.example/' }] },
      { name: 'broken', address, modules: plain, bindings: [{ name: 'CATALOG', dataPath: join(dir, 'broken.sfi') }] },
    ],
  });
  await writeFile(join(dir, 'config.capnp'), config);
  wd = await startWorkerd(join(dir, 'config.capnp'), { sockets: ['main', 'plain', 'bound', 'broken'] });
  urls = wd.urls;
});

after(async () => {
  if (wd) {
    const { code, signal } = await wd.stop();
    assert.ok(wd.child.exitCode !== null || wd.child.signalCode !== null, 'workerd is gone');
    assert.ok(code === 0 || signal === 'SIGTERM' || code === null, `workerd exit ${code ?? signal}`);
  }
  mainIndex?.close();
  boundIndex?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------ helpers

const HIT_KEYS = ['id', 'score', 'title', 'category', 'price', 'currency', 'url', 'image'];

/** Worker hits against node's index.search hits: identical ids and metadata, scores within EPS. */
function assertSameHits(got, want, what) {
  assert.deepEqual(got.map((h) => h.id), want.map((h) => h.id), `${what}: ids`);
  got.forEach((h, i) => {
    assert.deepEqual(Object.keys(h).sort(), [...HIT_KEYS].sort(), `${what}: fields`);
    assert.ok(Math.abs(h.score - want[i].score) <= EPS, `${what}: score ${h.score} vs ${want[i].score}`);
    for (const key of ['title', 'category', 'price', 'currency', 'url', 'image']) assert.deepEqual(h[key], want[i][key], `${what}: ${key} of ${h.id}`);
  });
}

/** A body of `bytes` bytes sent chunked (no Content-Length). */
function chunkedBody(bytes, chunk = 64 * 1024) {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      const n = Math.min(chunk, bytes - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(0x3f));
    },
  });
}

const postChunked = (url, bytes, type) => fetch(url, { method: 'POST', headers: { 'content-type': type }, body: chunkedBody(bytes), duplex: 'half' });

function float32Body(vectors) {
  const out = new Float32Array(vectors.length * vectors[0].length);
  vectors.forEach((v, i) => out.set(v, i * v.length));
  return new Uint8Array(out.buffer);
}

// ------------------------------------------------------------------------------ health, catalog, routing

test('GET /v1/health: ok, SIMD kernel, index size; per service', async () => {
  assert.deepEqual(await ok(await fetch(`${urls.main}/v1/health`)), { ok: true, simd: 'wasm128', index: { items: 404, dim: DIM }, analyze: true });
  assert.deepEqual(await ok(await fetch(`${urls.plain}/v1/health`)), { ok: true, simd: 'wasm128', index: { items: 404, dim: DIM }, analyze: false });
  assert.deepEqual(await ok(await fetch(`${urls.bound}/v1/health`)), { ok: true, simd: 'wasm128', index: { items: 1500, dim: BOUND_DIM }, analyze: false });
  const head = await fetch(`${urls.main}/v1/health`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
});

test('GET /v1/catalog: what catalog inspect shows, the build time as ISO', async () => {
  for (const [url, index] of [[urls.main, mainIndex], [urls.bound, boundIndex]]) {
    const c = await ok(await fetch(`${url}/v1/catalog`));
    const info = index.info();
    assert.equal(c.version, info.version);
    assert.equal(c.items, info.count);
    assert.equal(c.dim, info.dim);
    assert.equal(c.quantizer, info.quantizer);
    assert.equal(c.metric, 'cosine');
    assert.equal(c.built, new Date(BUILD_TIME).toISOString());
    assert.equal(c.bytes, info.fileBytes);
    assert.deepEqual(c.sections, info.sections.map(({ kind, offset, bytes, crc32: crc, verified }) => ({ kind, offset, bytes, crc32: crc, verified })));
    assert.ok(c.sections.every((s) => s.verified));
  }
  const c = await ok(await fetch(`${urls.main}/v1/catalog`));
  assert.equal(c.quantizer, 'sq8');
  assert.deepEqual(c.embedder, { name: 'tiny-emb', sha256: models.embedder.manifest.sha256, dim: DIM });
  assert.equal(c.calibrated, false);
  assert.equal((await ok(await fetch(`${urls.bound}/v1/catalog`))).quantizer, 'ivf16,pq8,rr:sq8');
});

test('routing: 404 unknown route, 405 wrong method with Allow, OPTIONS preflight, CORS headers', async () => {
  await expectError(await fetch(`${urls.main}/v1/nope`), 404, 'not_found', '/v1/nope');
  await expectError(await fetch(`${urls.main}/`), 404, 'not_found');
  await expectError(await fetch(`${urls.main}/v1/health/extra`), 404, 'not_found');
  let res = await fetch(`${urls.main}/v1/match`);
  assert.equal(res.headers.get('allow'), 'POST, OPTIONS');
  await expectError(res, 405, 'method_not_allowed', 'GET', 'POST');
  res = await fetch(`${urls.main}/v1/health`, { method: 'POST', body: '{}' });
  assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS');
  await expectError(res, 405, 'method_not_allowed');
  await expectError(await fetch(`${urls.main}/v1/analyze`, { method: 'PUT', body: 'x' }), 405, 'method_not_allowed');
  await expectError(await fetch(`${urls.main}/v1/catalog`, { method: 'DELETE' }), 405, 'method_not_allowed');

  // No CORS_ORIGINS (main): no CORS headers at all, preflight included.
  const preflight = (url, origin) => fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
  res = await preflight(`${urls.main}/v1/match`, 'https://a.example');
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('allow'), 'POST, OPTIONS');
  for (const h of ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers']) assert.equal(res.headers.get(h), null, h);
  assert.equal((await fetch(`${urls.main}/v1/health`, { headers: { origin: 'https://a.example' } })).headers.get('access-control-allow-origin'), null);

  // CORS_ORIGINS "https://player.example, https://shop.example/" (bound): those two origins only
  // (spaces and a trailing slash in the list are forgiven), each echoed, with Vary: Origin.
  for (const origin of ['https://player.example', 'https://shop.example']) {
    res = await preflight(`${urls.bound}/v1/match`, origin);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.match(res.headers.get('access-control-allow-methods'), /POST/);
    assert.match(res.headers.get('access-control-allow-headers'), /content-type/);
    assert.match(res.headers.get('vary'), /origin/i);
    res = await fetch(`${urls.bound}/v1/health`, { headers: { origin } });
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.match(res.headers.get('vary'), /origin/i);
  }
  for (const origin of ['https://evil.example', 'https://player.example.evil.example', 'http://player.example', 'null']) {
    res = await preflight(`${urls.bound}/v1/match`, origin);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), null, origin);
    assert.equal(res.headers.get('access-control-allow-methods'), null, origin);
    res = await fetch(`${urls.bound}/v1/health`, { headers: { origin } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null, origin);
    assert.match(res.headers.get('vary'), /origin/i);
  }
  assert.equal((await fetch(`${urls.bound}/v1/health`)).headers.get('access-control-allow-origin'), null, 'no Origin header');
});

test('a damaged catalog: health 503 ok:false, other routes 503 unavailable, never a crash', async () => {
  const res = await fetch(`${urls.broken}/v1/health`);
  assert.equal(res.status, 503);
  const body = await res.json();
  assert.equal(body.ok, false);
  assert.equal(body.error.code, 'unavailable');
  assert.match(body.error.message, /catalog index cannot be opened \(corrupt\)/);
  await expectError(await fetch(`${urls.broken}/v1/catalog`), 503, 'unavailable');
  await expectError(await postJson(`${urls.broken}/v1/match`, { embedding: Array(DIM).fill(1) }), 503, 'unavailable');
  await expectError(await fetch(`${urls.broken}/v1/nope`), 404, 'not_found');  // routing still works
});

// ------------------------------------------------------------------------------ /v1/match

const OPTION_SETS = [{}, { k: 3 }, { k: 25, category: 'Fruit' }, { k: 12, minScore: 0.5 }, { k: 8, distinct: true }, { category: 'Mugs', k: 4 }, { k: 100, minScore: 0.99 }];

test('POST /v1/match (JSON, one embedding): the same hits as index.search in node', async () => {
  for (const options of OPTION_SETS) {
    for (const [qi, q] of queries.entries()) {
      const body = await ok(await postJson(`${urls.main}/v1/match`, { embedding: Array.from(q), ...options }));
      assert.equal(body.results.length, 1);
      assertSameHits(body.results[0], mainIndex.search(q, options), `query ${qi} ${JSON.stringify(options)}`);
    }
  }
  // Defaults: k 10.
  const body = await ok(await postJson(`${urls.main}/v1/match`, { embedding: Array.from(queries[0]) }));
  assert.equal(body.results[0].length, 10);
  assert.equal(body.results[0][0].id, 'red-mug');
  // Nothing above minScore: an empty list. A category the catalog does not have: 400 naming it.
  assert.deepEqual((await ok(await postJson(`${urls.main}/v1/match`, { embedding: Array.from(queries[8]), minScore: 0.9999 }))).results, [[]]);
  await expectError(await postJson(`${urls.main}/v1/match`, { embedding: Array.from(queries[0]), category: 'Nope' }), 400, 'invalid_request', 'category:', 'Nope');
});

test('POST /v1/match (JSON, several embeddings) and octet-stream float32: one list per embedding, in order', async () => {
  const options = { k: 7, category: 'Fruit', minScore: -0.5 };
  const want = queries.map((q) => mainIndex.search(q, options));
  const j = await ok(await postJson(`${urls.main}/v1/match`, { embeddings: queries.map((q) => Array.from(q)), ...options }));
  assert.equal(j.results.length, queries.length);
  j.results.forEach((r, i) => assertSameHits(r, want[i], `json embeddings[${i}]`));

  const b = await ok(await postBytes(`${urls.main}/v1/match?k=7&category=Fruit&minScore=-0.5`, float32Body(queries)));
  assert.equal(b.results.length, queries.length);
  b.results.forEach((r, i) => assertSameHits(r, want[i], `binary embedding ${i}`));

  const one = await ok(await postBytes(`${urls.main}/v1/match?distinct=true&k=5`, float32Body([queries[3]])));
  assertSameHits(one.results[0], mainIndex.search(queries[3], { distinct: true, k: 5 }), 'binary, one');
  const charset = await ok(await fetch(`${urls.main}/v1/match`, { method: 'POST', headers: { 'content-type': 'Application/JSON; charset=utf-8' }, body: JSON.stringify({ embedding: Array.from(queries[1]) }) }));
  assertSameHits(charset.results[0], mainIndex.search(queries[1]), 'content-type with parameters');
});

test('POST /v1/match against a catalog from a binding (48-d, IVF+PQ with re-ranking)', async () => {
  const r = rng(7);
  const qs = Array.from({ length: 6 }, () => Float32Array.from({ length: BOUND_DIM }, () => r() - 0.5));
  for (const options of [{}, { k: 30 }, { k: 5, category: 'Dairy' }]) {
    const body = await ok(await postJson(`${urls.bound}/v1/match`, { embeddings: qs.map((q) => Array.from(q)), ...options }));
    body.results.forEach((hits, i) => assertSameHits(hits, boundIndex.search(qs[i], options), `bound ${i} ${JSON.stringify(options)}`));
  }
  await expectError(await postJson(`${urls.bound}/v1/match`, { embedding: Array.from(queries[0]) }), 400, 'invalid_request', `expected ${BOUND_DIM} numbers`);
});

test('POST /v1/match: request validation names the field (400)', async () => {
  const url = `${urls.main}/v1/match`;
  const v = Array.from(queries[0]);
  const cases = [
    [{ embedding: v.slice(1) }, 'embedding:', `expected ${DIM} numbers`, `got ${DIM - 1}`],
    [{ embedding: [...v.slice(1), null] }, `embedding[${DIM - 1}]`, 'finite number', 'null'],
    [{ embedding: [...v.slice(1), '0.5'] }, `embedding[${DIM - 1}]`, '"0.5"'],
    [{ embedding: [1e39, ...v.slice(1)] }, 'embedding[0]', 'float32 range'],
    [{ embedding: 'hello' }, 'embedding:', 'array'],
    [{ embedding: v.map(() => 0) }, 'embedding:', 'zero'],
    [{ embeddings: [v, v.slice(2)] }, 'embeddings[1]:', `got ${DIM - 2}`],
    [{ embeddings: [v, [...v.slice(1), true]] }, `embeddings[1][${DIM - 1}]`],
    [{ embeddings: [v, v.map(() => 0)] }, 'embeddings[1]:', 'zero'],
    [{ embeddings: [] }, 'embeddings:', 'non-empty'],
    [{ embeddings: Array(MATCH_LIMITS.embeddings + 1).fill(v) }, 'embeddings:', `at most ${MATCH_LIMITS.embeddings}`],
    [{ embedding: v, embeddings: [v] }, 'exactly one'],
    [{}, 'exactly one'],
    [{ embedding: v, k: 0 }, 'k:', '1..100'],
    [{ embedding: v, k: 101 }, 'k:'],
    [{ embedding: v, k: 2.5 }, 'k:'],
    [{ embedding: v, k: '5' }, 'k:'],
    [{ embedding: v, minScore: 'high' }, 'minScore:'],
    [{ embedding: v, category: 7 }, 'category:'],
    [{ embedding: v, category: 'x'.repeat(300) }, 'category:'],
    [{ embedding: v, distinct: 'yes' }, 'distinct:'],
    [{ embedding: v, minscore: 0.3 }, "unknown field 'minscore'"],
    [[v], 'body:', 'JSON object'],
    [null, 'body:'],
    [42, 'body:'],
  ];
  for (const [body, ...fragments] of cases) await expectError(await postJson(url, body), 400, 'invalid_request', ...fragments);

  await expectError(await postJson(url, '{"embedding": [1, 2,'), 400, 'invalid_json', 'not valid JSON');
  await expectError(await postJson(url, `{"embedding": [${v.slice(1).join(',')}, NaN]}`), 400, 'invalid_json');
  await expectError(await postJson(url, ''), 400, 'invalid_json');
  await expectError(await postBytes(url, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'application/json'), 400, 'invalid_json', 'UTF-8');
});

test('POST /v1/match (octet-stream): length, NaN/Inf and query parameters are checked (400)', async () => {
  const url = `${urls.main}/v1/match`;
  const good = float32Body([queries[0], queries[1]]);
  await expectError(await postBytes(url, good.subarray(0, good.length - 4)), 400, 'invalid_request', `${2 * DIM * 4 - 4} bytes`, `multiple of ${DIM * 4}`);
  await expectError(await postBytes(url, new Uint8Array(0)), 400, 'invalid_request', 'body: empty');
  for (const [bad, name] of [[NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity']]) {
    const f = new Float32Array(2 * DIM).fill(0.25);
    f[DIM + 3] = bad;
    await expectError(await postBytes(url, new Uint8Array(f.buffer)), 400, 'invalid_request', 'embedding 1, value 3', name);
  }
  await expectError(await postBytes(url, new Uint8Array(new Float32Array(DIM).buffer)), 400, 'invalid_request', 'body:', 'zero');
  await expectError(await postBytes(`${url}?k=abc`, good), 400, 'invalid_request', 'k:', "'abc'");
  await expectError(await postBytes(`${url}?k=0`, good), 400, 'invalid_request', 'query parameter k');
  await expectError(await postBytes(`${url}?minScore=`, good), 400, 'invalid_request', 'minScore');
  await expectError(await postBytes(`${url}?distinct=maybe`, good), 400, 'invalid_request', 'distinct');
  await expectError(await postBytes(`${url}?top=3`, good), 400, 'invalid_request', "'top'");
  await expectError(await postBytes(`${url}?k=3&k=4`, good), 400, 'invalid_request', "'k'", 'more than once');
  const many = float32Body(Array(MATCH_LIMITS.embeddings + 1).fill(queries[0]));
  await expectError(await postBytes(url, many), 400, 'invalid_request', `at most ${MATCH_LIMITS.embeddings}`);
});

test('POST /v1/match: 415 for other content types, 413 over the body limit (declared or streamed)', async () => {
  const url = `${urls.main}/v1/match`;
  const body = JSON.stringify({ embedding: Array.from(queries[0]) });
  await expectError(await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body }), 415, 'unsupported_media_type', "'text/plain'", 'application/json');
  await expectError(await fetch(url, { method: 'POST', body: new Uint8Array(8) }), 415, 'unsupported_media_type', '(none)');
  await expectError(await fetch(url, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' }), 415, 'unsupported_media_type');

  // Over the limit: refused from Content-Length (the body read and dropped, or not read at all
  // when huge), or while a chunked body streams in.
  const limit = `${MATCH_LIMITS.bodyBytes}-byte limit`;
  await expectError(await postBytes(url, new Uint8Array(MATCH_LIMITS.bodyBytes + 4)), 413, 'payload_too_large', limit);
  await expectError(await postChunked(url, MATCH_LIMITS.bodyBytes + 100_000, 'application/octet-stream'), 413, 'payload_too_large', limit);
  await expectError(await postChunked(url, 3 * MATCH_LIMITS.bodyBytes, 'application/json'), 413, 'payload_too_large', limit);
  const { status, body: b } = await postDeclaredOnly(urls.main, '/v1/match', 'application/octet-stream', 1e12);
  assert.equal(status, 413);
  assert.equal(b.error.code, 'payload_too_large');
  // Exactly at the limit is fine (a multiple of DIM * 4 floats).
  const atLimit = new Float32Array(MATCH_LIMITS.bodyBytes / 4).fill(0.5);
  await expectError(await postBytes(url, new Uint8Array(atLimit.buffer)), 400, 'invalid_request', `at most ${MATCH_LIMITS.embeddings}`);
});

// ------------------------------------------------------------------------------ /v1/analyze

function assertSameAnalysis(got, want, what) {
  assert.equal(got.width, want.width, `${what}: width`);
  assert.equal(got.height, want.height, `${what}: height`);
  assert.equal(got.regions.length, want.regions.length, `${what}: regions`);
  got.regions.forEach((g, i) => {
    const w = want.regions[i];
    assert.equal(g.kind, w.kind);
    assert.equal(g.label, w.label);
    g.box.forEach((v, j) => assert.ok(Math.abs(v - w.box[j]) <= 1e-4, `${what}: region ${i} box ${g.box} vs ${w.box}`));
    assert.ok(Math.abs(g.score - w.score) <= EPS, `${what}: region ${i} score`);
    assertSameHits(g.matches, w.matches, `${what}: region ${i} matches`);
    assert.deepEqual(g.suggest, w.suggest);
  });
  assertSameHits(got.top, want.top, `${what}: top`);
  assert.deepEqual(got.suggestion, want.suggestion);
  for (const key of ['decode', 'detect', 'embed', 'search', 'total']) assert.equal(typeof got.timings_ms[key], 'number', `timings_ms.${key}`);
}

test('POST /v1/analyze: ONNX Runtime Web inside workerd gives what the engine gives in node', async () => {
  const engine = await createEngine({ index: mainBytes, models: { embedder: models.embedder, detector: models.detector } });
  try {
    const cases = Object.entries(images).map(([name, make]) => ({ name, bytes: make(), type: 'image/png' }));
    const jpeg = firstGroceryJpeg();
    if (jpeg) cases.push({ name: 'grocery jpeg', bytes: new Uint8Array(await readFile(jpeg)), type: 'image/jpeg' });
    for (const c of cases) {
      const got = await ok(await postBytes(`${urls.main}/v1/analyze`, c.bytes, c.type));
      assertSameAnalysis(got, await engine.analyzeEncoded(c.bytes), c.name);
      if (c.name === 'red') {
        assert.deepEqual(got.regions.map((g) => g.kind), ['full_frame', 'centre_crop', 'detection']);
        assert.equal(got.regions[2].label, 'red');
        assert.equal(got.top[0].id, 'red-mug');
      }
    }
    // Options: k and maxRegions; several requests at once share one engine, one at a time.
    const opts = await ok(await postBytes(`${urls.main}/v1/analyze?k=2&maxRegions=2`, cases[1].bytes, 'image/png'));
    assertSameAnalysis(opts, await engine.analyzeEncoded(cases[1].bytes, { k: 2, maxRegions: 2 }), 'k=2 maxRegions=2');
    assert.ok(opts.top.length <= 2 && opts.regions.length <= 2);
    const parallel = await Promise.all(cases.map((c) => postBytes(`${urls.main}/v1/analyze`, c.bytes, c.type).then(ok)));
    for (const [i, c] of cases.entries()) assertSameAnalysis(parallel[i], await engine.analyzeEncoded(c.bytes), `parallel ${c.name}`);
  } finally {
    await engine.close();
  }
});

test('POST /v1/analyze: errors (415, 400 bad image, 413 too large) and 501 without models', async () => {
  const url = `${urls.main}/v1/analyze`;
  const png = images.red();
  await expectError(await postBytes(url, png, 'image/gif'), 415, 'unsupported_media_type', 'image/jpeg or image/png');
  await expectError(await fetch(url, { method: 'POST', body: png }), 415, 'unsupported_media_type');
  await expectError(await postBytes(url, png, 'image/jpeg'), 400, 'invalid_image', 'not a JPEG');
  await expectError(await postBytes(url, new Uint8Array(100).fill(7), 'image/png'), 400, 'invalid_image', 'not a PNG');
  await expectError(await postBytes(url, new Uint8Array(0), 'image/png'), 400, 'invalid_image');
  const damaged = encodePng(solidFrame(30, 20, () => RED), 30, 20, 4, { idat: Buffer.from('not zlib at all') });
  await expectError(await postBytes(url, damaged, 'image/png'), 400, 'invalid_image', 'body:');
  const truncated = png.subarray(0, 60);
  await expectError(await postBytes(url, truncated, 'image/png'), 400, 'invalid_image');
  const huge = encodePng(new Uint8Array(4), 1, 1);
  new DataView(huge.buffer).setUint32(16, 20000);  // IHDR width (CRC now wrong too: the size check comes first)
  new DataView(huge.buffer).setUint32(20, 20000);
  assert.deepEqual(imageSize(huge, 'image/png'), { width: 20000, height: 20000 });
  await expectError(await postBytes(url, huge, 'image/png'), 413, 'image_too_large', '20000x20000');
  await expectError(await postBytes(url, new Uint8Array(ANALYZE_LIMITS.bodyBytes + 1), 'image/png'), 413, 'payload_too_large');
  await expectError(await postChunked(url, ANALYZE_LIMITS.bodyBytes + 1, 'image/jpeg'), 413, 'payload_too_large');
  assert.equal((await postDeclaredOnly(urls.main, '/v1/analyze', 'image/jpeg', 5e9)).status, 413);
  await expectError(await postBytes(`${url}?k=0`, png, 'image/png'), 400, 'invalid_request', 'k');
  await expectError(await postBytes(`${url}?maxRegions=99`, png, 'image/png'), 400, 'invalid_request', 'maxRegions');
  await expectError(await postBytes(`${url}?frames=2`, png, 'image/png'), 400, 'invalid_request', "'frames'");
  await expectError(await postBytes(`${urls.plain}/v1/analyze`, png, 'image/png'), 501, 'not_implemented', '--analyze');
  // Still serving after all that.
  assert.equal((await ok(await postBytes(url, png, 'image/png'))).top[0].id, 'red-mug');
});

test('imageSize reads PNG and JPEG headers', async () => {
  assert.deepEqual(imageSize(images.green(), 'image/png'), { width: 50, height: 70 });
  const jpeg = firstGroceryJpeg();
  if (jpeg) {
    const size = imageSize(new Uint8Array(await readFile(jpeg)), 'image/jpeg');
    assert.ok(size.width > 0 && size.height > 0);
  }
  assert.equal(imageSize(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), 'image/jpeg'), null);
});

// ------------------------------------------------------------------------------ R2 bindings (in node)

/** An R2 bucket binding's get() over in-memory objects. */
const fakeBucket = (objects) => ({
  async get(key) {
    const b = objects[key];
    return b ? { key, size: b.byteLength, arrayBuffer: async () => b.slice().buffer } : null;
  },
});

test('R2 bindings (createApp in node with fake buckets): catalog from CATALOG, models from MODELS checked by sha256', async () => {
  const { createApp } = await import('../../deploy/src/app.mjs');
  const { modelKey } = await import('../../deploy/build.mjs');
  const coreWasm = await WebAssembly.compile(await readFile(join(REPO, 'build', 'wasm', 'shopframe_core.wasm')));
  const call = (app, env, path, init) => app.fetch(new Request(`http://worker${path}`, init), env);
  const fromBucket = (m) => ({ manifest: m.manifestText, source: m.source, bytes: null, key: modelKey(m) });
  const assets = {
    catalog: null,
    analyze: { ortWasm: await WebAssembly.compile(await readFile(join(REPO, 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm'))),
      embedder: fromBucket(models.embedder), detector: fromBucket(models.detector), load: () => import('../../deploy/src/ort_engine.mjs') },
  };

  const env = { CATALOG: fakeBucket({ 'catalog.sfi': mainBytes }), MODELS: fakeBucket({ [modelKey(models.embedder)]: models.embedder.bytes, [modelKey(models.detector)]: models.detector.bytes }) };
  const app = createApp({ coreWasm, assets });
  assert.deepEqual(await ok(await call(app, env, '/v1/health')), { ok: true, simd: 'wasm128', index: { items: 404, dim: DIM }, analyze: true });
  const m = await ok(await call(app, env, '/v1/match', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ embedding: Array.from(queries[5]), k: 6 }) }));
  assertSameHits(m.results[0], mainIndex.search(queries[5], { k: 6 }), 'catalog from R2');
  const png = images.split();
  const engine = await createEngine({ index: mainBytes, models: { embedder: models.embedder, detector: models.detector } });
  try {
    assertSameAnalysis(await ok(await call(app, env, '/v1/analyze', { method: 'POST', headers: { 'content-type': 'image/png' }, body: png })), await engine.analyzeEncoded(png), 'models from R2');
  } finally {
    await engine.close();
  }

  const keyed = createApp({ coreWasm, assets: { catalog: null, analyze: null } });
  const keyedEnv = { CATALOG: fakeBucket({ 'shop/v2.sfi': boundBytes }), CATALOG_KEY: 'shop/v2.sfi' };
  assert.equal((await ok(await call(keyed, keyedEnv, '/v1/health'))).index.dim, BOUND_DIM);
  const missing = await call(createApp({ coreWasm, assets: { catalog: null, analyze: null } }), { CATALOG: fakeBucket({}) }, '/v1/catalog');
  await expectError(missing, 503, 'unavailable', "'catalog.sfi' not found in the CATALOG bucket");
  const none = await call(createApp({ coreWasm, assets: { catalog: null, analyze: null } }), {}, '/v1/health');
  assert.equal(none.status, 503);
  assert.match((await none.json()).error.message, /no catalog/);

  const tampered = models.detector.bytes.slice();
  tampered[100] ^= 1;
  const badEnv = { ...env, MODELS: fakeBucket({ [modelKey(models.embedder)]: models.embedder.bytes, [modelKey(models.detector)]: tampered }) };
  await expectError(await call(createApp({ coreWasm, assets }), badEnv, '/v1/analyze', { method: 'POST', headers: { 'content-type': 'image/png' }, body: png }),
    503, 'unavailable', 'sha256', modelKey(models.detector));
  await expectError(await call(createApp({ coreWasm, assets }), { CATALOG: env.CATALOG }, '/v1/analyze', { method: 'POST', headers: { 'content-type': 'image/png' }, body: png }),
    503, 'unavailable', 'no MODELS bucket');
});
