// Live analysis (js/live.mjs), the engine behind the browser SDK's worker: solid-colour frames
// through the tiny hand-built embedder (tests/js/lib/tiny_onnx.mjs), so every decision is exact.
// Covers: a suggestion appears once a track has enough samples, keeps its key while it grows,
// the whole-frame and centre-crop tracks of one product make one suggestion, colour changes end
// tracks (shot cuts), seek() and time going back restart cleanly, and the cut signature itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createEngine } from '../../js/engine.mjs';
import { createVision } from '../../js/vision.mjs';
import { buildIndexDetailed } from '../../js/shopframe.mjs';
import { CUT_DISTANCE, colourSignature, createLiveAnalyzer, signatureDistance } from '../../js/live.mjs';
import { tinyEmbedder, tinyYoloDetector, writeManifest } from './lib/tiny_onnx.mjs';

const DIM = 8, SIZE = 32, W = 64, H = 48;
const PRODUCTS = [
  { id: 'red-mug', title: 'Red mug', category: 'Home/Mugs', rgb: [255, 0, 0] },
  { id: 'green-plant', title: 'Green plant', category: 'Garden/Plants', rgb: [0, 255, 0] },
  { id: 'blue-cap', title: 'Blue cap', category: 'Clothes/Hats', rgb: [0, 0, 255] },
  { id: 'yellow-duck', title: 'Yellow duck', category: 'Toys/Ducks', rgb: [255, 255, 0] },
];
// Thresholds on the tracker's aggregated cosine: an exact colour match scores ~1.
const TRACK = { itemThreshold: 0.95, categoryThreshold: 0.95, minMargin: 0.01 };

const solid = ([r, g, b], w = W, h = H) => {
  const out = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; ++i) out.set([r, g, b, 255], i * 4);
  return out;
};

let dir, embedder, indexBytes;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shopframe-live-'));
  const bytes = tinyEmbedder({ size: SIZE, dim: DIM });
  const { manifest } = await writeManifest(dir, { bytes, name: 'tiny-emb', size: SIZE, embeddingDim: DIM });
  embedder = { manifest, bytes, source: 'tiny-emb.json' };
  const vision = await createVision({ embedder });
  const rows = [];
  try {
    for (const p of PRODUCTS) {
      vision.setFrame(solid(p.rgb, 40, 40), 40, 40);
      await vision.detect();
      rows.push(...(await vision.embed(1))[0]);
    }
  } finally {
    await vision.close();
  }
  ({ bytes: indexBytes } = await buildIndexDetailed({
    vectors: Float32Array.from(rows), dim: DIM,
    items: PRODUCTS.map(({ id, title, category }, i) => ({ id, title, category, price: 5 + i, currency: 'EUR', url: `https://shop.example/${id}`, image: `img/${id}.jpg` })),
    config: { embedder: { name: manifest.name, sha256: manifest.sha256, dim: DIM } },
  }));
});

after(async () => { await rm(dir, { recursive: true, force: true }); });

async function withLive(fn) {
  const engine = await createEngine({ index: indexBytes, models: { embedder, detector: null } });
  const live = await createLiveAnalyzer(engine, { track: TRACK });
  try {
    await fn(live);
  } finally {
    live.close();
    await engine.close();
  }
}

const frame = (live, t, rgb) => live.addFrame(t, W, H, solid(rgb));

test('a product on screen for two samples becomes one item suggestion whose range grows under one key', async () => {
  await withLive(async (live) => {
    const first = await frame(live, 0, PRODUCTS[0].rgb);
    assert.deepEqual(first.events, [], 'one sample is not enough (min_samples 2)');
    assert.equal(first.cut, false);
    const second = await frame(live, 0.5, PRODUCTS[0].rgb);
    assert.equal(second.events.length, 1, 'full frame + centre crop tracks merge into one suggestion');
    const s = second.events[0];
    assert.equal(s.kind, 'item');
    assert.equal(s.id, 'red-mug');
    assert.equal(s.title, 'Red mug');
    assert.deepEqual([s.from, s.to], [0, 0.5]);
    assert.ok(s.confidence > 0.95 && s.confidence <= 1.0001, `confidence ${s.confidence}`);
    assert.equal(s.similar[0].id, 'red-mug', 'the panel starts with the product itself');
    assert.deepEqual(Object.keys(s.similar[0]).sort(), ['category', 'currency', 'id', 'image', 'price', 'score', 'title', 'url']);
    assert.equal(s.similar[0].url, 'https://shop.example/red-mug');
    assert.equal(s.similar[0].price, 5);
    assert.equal('embedding' in second.result.regions[0], false, 'callers do not get raw embeddings');
    assert.equal('query' in s, false);
    const q = live.queryFor(s.key);
    assert.equal(q.category, 'Home/Mugs');
    assert.equal(q.embedding.length, DIM, 'the best region\'s raw embedding, for a larger catalog elsewhere');
    assert.equal(live.queryFor('no-such-key'), null);

    const third = await frame(live, 1.0, PRODUCTS[0].rgb);
    assert.equal(third.events.length, 1);
    assert.equal(third.events[0].key, s.key, 'an update keeps the key');
    assert.equal(third.events[0].to, 1.0);
    assert.equal(live.suggestions.length, 1);
    assert.equal(live.suggestions[0].to, 1.0);
  });
});

test('a colour change is a shot cut: the next product gets its own suggestion and the first one stops growing', async () => {
  await withLive(async (live) => {
    for (const t of [0, 0.5, 1]) await frame(live, t, PRODUCTS[0].rgb);
    const cut = await frame(live, 1.5, PRODUCTS[1].rgb);
    assert.equal(cut.cut, true);
    assert.deepEqual(cut.events, []);
    const next = await frame(live, 2.0, PRODUCTS[1].rgb);
    assert.equal(next.cut, false);
    assert.deepEqual(next.events.map((e) => [e.id, e.from, e.to]), [['green-plant', 1.5, 2.0]]);
    const all = live.suggestions;
    assert.deepEqual(all.map((e) => [e.id, e.from, e.to]), [['red-mug', 0, 1], ['green-plant', 1.5, 2.0]]);
    assert.notEqual(all[0].key, all[1].key);
  });
});

test('seek() and time going back restart the tracks without errors; a product seen again is a new suggestion', async () => {
  await withLive(async (live) => {
    for (const t of [4, 4.5]) await frame(live, t, PRODUCTS[2].rgb);
    live.seek();
    const a = await frame(live, 1, PRODUCTS[2].rgb);
    assert.equal(a.cut, false, 'after seek() the first frame has nothing to be cut from');
    const b = await frame(live, 1.5, PRODUCTS[2].rgb);
    assert.equal(b.events.length, 1);
    assert.deepEqual([b.events[0].from, b.events[0].to], [1, 1.5]);
    // Time going back without seek() (a loop, say) is a cut, not an error.
    const c = await frame(live, 0.2, PRODUCTS[2].rgb);
    assert.equal(c.cut, true);
    const keys = new Set(live.suggestions.map((s) => s.key));
    assert.equal(keys.size, live.suggestions.length);
    assert.equal(live.suggestions.length, 2);
  });
});

test('detectEvery 3: the detector runs on every third frame, and again at a cut and after seek()', async () => {
  const detBytes = tinyYoloDetector({ size: 64, box: [24, 24, 16, 32] });
  const { manifest } = await writeManifest(dir, { bytes: detBytes, name: 'tiny-yolo', kind: 'yolo', size: 64, classNames: ['red', 'green'] });
  const engine = await createEngine({ index: indexBytes, models: { embedder, detector: { manifest, bytes: detBytes } } });
  const live = await createLiveAnalyzer(engine, { track: TRACK, detectEvery: 3 });
  try {
    const run = async (t, rgb) => (await frame(live, t, rgb)).result.proposals;
    const seen = [];
    for (const t of [0, 0.5, 1, 1.5]) seen.push(await run(t, PRODUCTS[0].rgb));
    seen.push(await run(2, PRODUCTS[1].rgb));  // colour change: a cut
    seen.push(await run(2.5, PRODUCTS[1].rgb));
    live.seek();
    seen.push(await run(0, PRODUCTS[1].rgb));
    assert.deepEqual(seen, ['detected', 'reused', 'reused', 'detected', 'detected', 'reused', 'detected']);
    assert.ok(live.suggestions.some((s) => s.id === 'red-mug'), JSON.stringify(live.suggestions));
  } finally {
    live.close();
    await engine.close();
  }
  await assert.rejects(createLiveAnalyzer(engine, { detectEvery: 1.5 }), /detectEvery/);
});

test('a product with no confident match gets no suggestion (abstention)', async () => {
  await withLive(async (live) => {
    const grey = [128, 128, 128];  // no catalog colour: best cosine well below the 0.95 thresholds
    for (const t of [0, 0.5, 1, 1.5]) assert.deepEqual((await frame(live, t, grey)).events, []);
    assert.deepEqual(live.suggestions, []);
  });
});

test('frame times must be finite; bad frames are errors, not crashes', async () => {
  await withLive(async (live) => {
    await assert.rejects(frame(live, NaN, PRODUCTS[0].rgb), /finite/);
    await assert.rejects(live.addFrame(0, W, H, new Uint8Array(10)), /RGBA|bytes|length|range|offset/i);
  });
});

test('cut signature: identical frames 0 apart, different colours far apart, small shifts under the threshold', () => {
  const red = colourSignature(solid([250, 10, 10]), W, H);
  assert.equal(signatureDistance(red, colourSignature(solid([250, 10, 10]), W, H)), 0);
  assert.ok(Math.abs(signatureDistance(red, colourSignature(solid([10, 250, 10]), W, H)) - 1) < 1e-6);
  const half = solid([250, 10, 10]);
  for (let i = 0; i < (W * H) / 2; ++i) half.set([10, 10, 250], i * 4);  // top half turns blue
  assert.ok(Math.abs(signatureDistance(red, colourSignature(half, W, H)) - 0.5) < 0.01);
  // A handful of pixels changing (motion within a shot) stays below the cut threshold.
  const moved = solid([250, 10, 10]);
  for (let i = 0; i < 200; ++i) moved.set([10, 10, 250], i * 4);
  assert.ok(signatureDistance(red, colourSignature(moved, W, H)) < CUT_DISTANCE);
});
