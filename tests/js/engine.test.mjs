// The engine end to end (js/engine.mjs, js/decide.mjs): a catalog of solid-colour product
// images embedded by the tiny hand-built ONNX embedder (tests/js/lib/tiny_onnx.mjs), built
// into an index with buildIndexDetailed, then frames (raw RGBA and PNG bytes made here) in,
// products out. No real model is needed, so every expectation is exact.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createEngine, Engine } from '../../js/engine.mjs';
import { createVision } from '../../js/vision.mjs';
import { buildIndexDetailed, loadIndex, ShopframeError } from '../../js/shopframe.mjs';
import { tinyEmbedder, tinyFeatureMaps, tinyFeatureMapsReference, tinyYoloDetector, writeManifest } from './lib/tiny_onnx.mjs';
import { encodePng } from './lib/png.mjs';

const DIM = 8;
const SIZE = 32;

// ------------------------------------------------------------------------------ test images

/** A tight RGBA frame filled with one colour. */
function solidFrame(width, height, rgb) {
  const out = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; ++i) out.set([...rgb, 255], i * 4);
  return out;
}

/** RGB bytes of an RGBA frame (for RGB, colour type 2, PNGs). */
/** The [1,3,S,S] tensor (scale 1/255, no mean/std) of a solid S x S frame. */
function solidTensor(S, rgb) {
  const t = new Float32Array(3 * S * S);
  for (let c = 0; c < 3; ++c) t.fill(rgb[c] / 255, c * S * S, (c + 1) * S * S);
  return t;
}

function rgbOf(rgba) {
  const out = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) out.set(rgba.subarray(i, i + 3), j);
  return out;
}

// ------------------------------------------------------------------------------ the catalog

// Products and their images (solid colours). red-mug has two images, so two index vectors
// share its id. Colours are far apart for the tiny embedder (cosine <= 0.8 across products);
// red's nearest other product is white-mug, in the same category.
const CATALOG = [
  { id: 'red-mug', title: 'Red mug', category: 'Mugs', images: [[255, 0, 0], [200, 30, 30]] },
  { id: 'white-mug', title: 'White mug', category: 'Mugs', images: [[255, 255, 255]] },
  { id: 'green-plant', title: 'Green plant', category: 'Garden', images: [[0, 255, 0]] },
  { id: 'blue-cap', title: 'Blue cap', category: 'Hats', images: [[0, 0, 255], [0, 0, 200]] },
  { id: 'yellow-duck', title: 'Yellow duck', category: 'Toys', images: [[255, 255, 0]] },
  { id: 'teal-bowl', title: 'Teal bowl', category: 'Kitchen', images: [[0, 200, 200]] },
];

let dir;
let embedder;        // { manifest, bytes } of the tiny embedder
let vectors;         // Float32Array, one row per catalog image
let items;           // one ItemMeta per row
let labels;          // product ordinal per row
let embedderConfig;  // { name, sha256, dim }: what the index's CONF section names

async function buildCatalogIndex(config = { embedder: embedderConfig }, extra = {}) {
  return buildIndexDetailed({ vectors, dim: DIM, items, labels, config, ...extra });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shopframe-engine-'));
  const bytes = tinyEmbedder({ size: SIZE, dim: DIM });
  const { manifest } = await writeManifest(dir, { bytes, name: 'tiny-emb', size: SIZE, embeddingDim: DIM });
  embedder = { manifest, bytes, source: 'tiny-emb.json' };
  embedderConfig = { name: manifest.name, sha256: manifest.sha256, dim: DIM };

  // Embed the catalog images with the same pipeline the engine uses (full-frame region).
  const vision = await createVision({ embedder });
  const rows = [];
  items = [];
  const labelList = [];
  try {
    for (const [p, product] of CATALOG.entries()) {
      for (const [i, rgb] of product.images.entries()) {
        vision.setFrame(solidFrame(40, 40, rgb), 40, 40);
        await vision.detect();
        const [e] = await vision.embed(1);
        rows.push(e);
        items.push({ id: product.id, title: product.title, category: product.category, price: 10 + p, currency: 'EUR', image: `img/${product.id}/${i}.png` });
        labelList.push(p);
      }
    }
  } finally {
    await vision.close();
  }
  vectors = new Float32Array(rows.length * DIM);
  rows.forEach((r, i) => vectors.set(r, i * DIM));
  labels = Uint32Array.from(labelList);
});

after(async () => { await rm(dir, { recursive: true, force: true }); });

async function engineFor(indexBytes, options = {}) {
  return createEngine({ index: indexBytes, models: { embedder, detector: null }, ...options });
}

/** The catalog index and the tiny embedder, with a tiny YOLO detector that finds red (box 24,24,16,32 of 64). */
async function engineWithTinyYolo() {
  const { bytes } = await buildCatalogIndex();
  const detBytes = tinyYoloDetector({ size: 64, box: [24, 24, 16, 32] });
  const { manifest } = await writeManifest(dir, { bytes: detBytes, name: 'tiny-yolo', kind: 'yolo', size: 64, classNames: ['red', 'green'] });
  return createEngine({ index: bytes, models: { embedder, detector: { manifest, bytes: detBytes } } });
}

function assertDistinctIds(list, what) {
  const ids = list.map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, `${what}: duplicate ids in ${ids.join(', ')}`);
}

// ------------------------------------------------------------------------------ tests

test('buildIndexDetailed stores the engine config; a product with several images has several vectors, one id', async () => {
  const { bytes, adaptation } = await buildCatalogIndex();
  assert.equal(adaptation, null);
  const index = await loadIndex(bytes);
  try {
    assert.equal(index.dim, DIM);
    assert.equal(index.size, vectors.length / DIM);
    assert.equal(index.size, 8);
    assert.deepEqual(index.config(), { embedder: embedderConfig });
    // Querying with red-mug's first image: without `distinct` both of its vectors come first.
    const red = vectors.subarray(0, DIM);
    const plain = index.search(red, { k: 3 });
    assert.deepEqual(plain.slice(0, 2).map((m) => m.id), ['red-mug', 'red-mug']);
    assert.deepEqual(plain.slice(0, 2).map((m) => m.item).sort(), [0, 1]);
    const distinct = index.search(red, { k: 3, distinct: true });
    assert.equal(distinct.length, 3);
    assertDistinctIds(distinct, 'distinct search');
    assert.equal(distinct[0].id, 'red-mug');
    assert.equal(distinct[1].id, 'white-mug');
    assert.ok(distinct[0].score > 0.99, `self score ${distinct[0].score}`);
  } finally {
    index.close();
  }
});

test('engine: a frame of a catalog colour finds that product first, distinct ids, timings; no calibration -> no suggestion', async () => {
  const { bytes } = await buildCatalogIndex();
  const engine = await engineFor(bytes);
  try {
    assert.ok(engine instanceof Engine);
    assert.equal(engine.calibrated, false);
    assert.equal(engine.vision.detectorInfo, null);
    assert.equal(engine.index.dim, DIM);

    for (const product of CATALOG) {
      const [rgb] = product.images;
      const r = await engine.analyzeImage(solidFrame(96, 64, rgb), 96, 64);
      assert.equal(r.width, 96);
      assert.equal(r.height, 64);
      assert.equal(r.top[0].id, product.id, `${product.id}: top is ${r.top.map((m) => `${m.id}:${m.score.toFixed(3)}`).join(', ')}`);
      assert.equal(r.top[0].title, product.title);
      assert.equal(r.top[0].category, product.category);
      assert.ok(r.top[0].score > 0.99, `${product.id}: score ${r.top[0].score}`);
      assert.ok(r.top.length > 1 && r.top.length <= 5, `top has ${r.top.length}`);
      assertDistinctIds(r.top, `${product.id} top`);
      for (let i = 1; i < r.top.length; ++i) assert.ok(r.top[i - 1].score >= r.top[i].score, 'top is sorted by score');
      assert.equal(r.suggestion, null, 'an uncalibrated engine never suggests');

      // No detector: the full frame and the centre crop, each with its own distinct matches.
      assert.deepEqual(r.regions.map((g) => g.kind), ['full_frame', 'centre_crop']);
      assert.deepEqual(r.regions.map((g) => g.label), ['full_frame', 'centre_crop']);
      assert.deepEqual(r.regions[0].box, [0, 0, 96, 64]);
      for (const g of r.regions) {
        assert.equal(g.matches[0].id, product.id);
        assertDistinctIds(g.matches, 'region matches');
        assert.equal(g.suggest, null);
      }

      for (const key of ['decode', 'detect', 'embed', 'embed_per_region', 'search', 'total']) {
        assert.equal(typeof r.timings_ms[key], 'number', `timings_ms.${key}`);
        assert.ok(Number.isFinite(r.timings_ms[key]) && r.timings_ms[key] >= 0, `timings_ms.${key} = ${r.timings_ms[key]}`);
      }
      assert.ok(r.timings_ms.total >= r.timings_ms.detect + r.timings_ms.embed + r.timings_ms.search - 1e-6);
    }

    // A darker red (red-mug's second image) is still red-mug, once.
    const r = await engine.analyzeImage(solidFrame(30, 50, [200, 30, 30]), 30, 50);
    assert.equal(r.top[0].id, 'red-mug');
    assertDistinctIds(r.top, 'dark red top');

    // Per-call options: k and a category filter.
    const k2 = await engine.analyzeImage(solidFrame(32, 32, [255, 0, 0]), 32, 32, { k: 2 });
    assert.deepEqual(k2.top.map((m) => m.id), ['red-mug', 'white-mug']);
    const garden = await engine.analyzeImage(solidFrame(32, 32, [255, 0, 0]), 32, 32, { category: 'Garden' });
    assert.deepEqual(garden.top.map((m) => m.id), ['green-plant']);
  } finally {
    await engine.close();
  }
});

test('engine: calibration passed to createEngine turns a confident match into an item suggestion', async () => {
  const { bytes } = await buildCatalogIndex();
  const engine = await engineFor(bytes, { calibration: { item: { threshold: 0.5 } } });
  try {
    assert.equal(engine.calibrated, true);
    const r = await engine.analyzeImage(solidFrame(64, 64, [0, 0, 255]), 64, 64);
    assert.equal(r.top[0].id, 'blue-cap');
    assert.ok(r.suggestion, 'a suggestion');
    assert.equal(r.suggestion.id, 'blue-cap');
    assert.equal(r.suggestion.kind, 'item');
    assert.ok(r.suggestion.confidence >= 0.5);
    assert.equal(r.suggestion.confidence, r.top[0].score);  // no logistic model: the top-1 score
    assert.deepEqual(r.regions.map((g) => g.suggest?.id), ['blue-cap', 'blue-cap']);
  } finally {
    await engine.close();
  }
  // A logistic confidence model over the match features: confidence = sigmoid(10 * score1 - 5).
  const model = { features: ['score1'], weights: [10], bias: -5 };
  const withModel = await engineFor(bytes, { calibration: { item: { model, threshold: 0.9 } } });
  try {
    const r = await withModel.analyzeImage(solidFrame(64, 64, [0, 0, 255]), 64, 64);
    assert.equal(r.suggestion?.id, 'blue-cap');
    assert.equal(r.suggestion?.kind, 'item');
    assert.ok(Math.abs(r.suggestion.confidence - 1 / (1 + Math.exp(-(10 * r.top[0].score - 5)))) < 1e-9);
  } finally {
    await withModel.close();
  }
});

test('engine: calibration stored in the index (CONF) is used; an unmet item threshold falls back to the category', async () => {
  // Item threshold above any cosine: never an item; the category threshold is met and the two
  // leading products for red (red-mug, white-mug) share "Mugs".
  const calibration = { item: { threshold: 1.5 }, category: { threshold: 0.5 } };
  const { bytes } = await buildCatalogIndex({ embedder: embedderConfig, calibration });
  const engine = await engineFor(bytes);
  try {
    assert.equal(engine.calibrated, true);
    assert.deepEqual(engine.index.config().calibration, calibration);
    const red = await engine.analyzeImage(solidFrame(64, 64, [255, 0, 0]), 64, 64);
    assert.deepEqual(red.top.slice(0, 2).map((m) => m.id), ['red-mug', 'white-mug']);
    assert.equal(red.suggestion?.kind, 'category');
    assert.equal(red.suggestion?.id, 'Mugs');
    // Green's runner-up is not a garden product: no agreement, no suggestion.
    const green = await engine.analyzeImage(solidFrame(64, 64, [0, 255, 0]), 64, 64);
    assert.equal(green.top[0].id, 'green-plant');
    assert.notEqual(green.top[1].category, 'Garden');
    assert.equal(green.suggestion, null);
  } finally {
    await engine.close();
  }
  // Options override the index's calibration.
  const engine2 = await engineFor(bytes, { calibration: { item: { threshold: 0.9 } } });
  try {
    const r = await engine2.analyzeImage(solidFrame(64, 64, [255, 0, 0]), 64, 64);
    assert.deepEqual({ id: r.suggestion?.id, kind: r.suggestion?.kind }, { id: 'red-mug', kind: 'item' });
  } finally {
    await engine2.close();
  }
});

test('engine: an index built for another embedder is rejected with a clear error', async () => {
  const other = { ...embedderConfig, name: 'other-embedder', sha256: 'ab'.repeat(32) };
  const { bytes } = await buildCatalogIndex({ embedder: other });
  await assert.rejects(() => engineFor(bytes), (e) => {
    assert.ok(e instanceof ShopframeError, `${e?.name}: ${e?.message}`);
    assert.equal(e.code, 'invalid_argument');
    assert.match(e.message, /index was built with embedder other-embedder \(abababababab, 8-d\)/);
    assert.match(e.message, new RegExp(`the engine has tiny-emb \\(${embedderConfig.sha256.slice(0, 12)}, 8-d\\)`));
    return true;
  });

  // A dimension mismatch is caught even when the index names no embedder.
  const wide = await buildIndexDetailed({ vectors: new Float32Array(4 * 12).map((_, i) => Math.sin(i + 1)), dim: 12 });
  await assert.rejects(() => engineFor(wide.bytes), (e) => {
    assert.ok(e instanceof ShopframeError);
    assert.match(e.message, /12-d\).*8-d\)/);
    return true;
  });

  // An index with no CONF section but the right dimension is accepted (nothing to contradict).
  const bare = await buildIndexDetailed({ vectors, dim: DIM, items });
  const engine = await engineFor(bare.bytes);
  try {
    assert.equal(engine.index.config(), null);
    const r = await engine.analyzeImage(solidFrame(16, 16, [255, 255, 0]), 16, 16);
    assert.equal(r.top[0].id, 'yellow-duck');
  } finally {
    await engine.close();
  }
});

test('engine: a one-pass embedder queries an index of the embedder its manifest is compatible_with, and only that', async () => {
  const S = 16;
  const mapsBytes = tinyFeatureMaps({ size: S });
  const base = { name: 'crop-embedder', sha256: 'cd'.repeat(32), dim: 6 };
  const { manifest } = await writeManifest(dir, {
    bytes: mapsBytes, name: 'tiny-maps', size: S, outputs: ['coarse', 'fine'], embeddingDim: 6,
    extra: { pooling: 'regions', compatible_with: { name: base.name, sha256: base.sha256 } },
  });
  const onePass = { manifest, bytes: mapsBytes };
  const colours = [[250, 10, 10], [10, 250, 10], [10, 10, 250]];
  // Catalog vectors: each colour's whole-frame embedding, as tinyFeatureMapsReference pools it.
  const vecs = new Float32Array(colours.length * 6);
  colours.forEach((rgb, i) => vecs.set(tinyFeatureMapsReference(solidTensor(S, rgb), [0, 0, 1, 1], { size: S }), i * 6));
  const cat = colours.map((_, i) => ({ id: `c${i}`, title: `colour ${i}` }));
  const built = await buildIndexDetailed({ vectors: vecs, dim: 6, items: cat, config: { embedder: base } });
  const engine = await createEngine({ index: built.bytes, models: { embedder: onePass, detector: null } });
  try {
    assert.equal(engine.vision.embedderInfo.pooling, 'regions');
    const r = await engine.analyzeImage(solidFrame(S, S, colours[1]), S, S);
    assert.equal(r.regions.length, 2);
    assert.equal(r.top[0].id, 'c1');
    assert.ok(r.top[0].score > 0.999, `score ${r.top[0].score}`);
  } finally {
    await engine.close();
  }
  // Another index's embedder (or a one-pass model that names none) is still a mismatch.
  const other = await buildIndexDetailed({ vectors: vecs, dim: 6, items: cat, config: { embedder: { ...base, sha256: 'ef'.repeat(32) } } });
  await assert.rejects(createEngine({ index: other.bytes, models: { embedder: onePass, detector: null } }),
    (e) => e.code === 'invalid_argument' && /built with embedder crop-embedder \(efefefefefef, 6-d\)/.test(e.message));
  const { compatible_with: _, ...bare } = manifest;
  await assert.rejects(createEngine({ index: built.bytes, models: { embedder: { manifest: bare, bytes: mapsBytes }, detector: null } }),
    (e) => e.code === 'invalid_argument' && /engine has tiny-maps/.test(e.message));
});

test('engine: analyzeEncoded decodes PNG bytes; a corrupt PNG is a ShopframeError and the engine keeps working', async () => {
  const { bytes } = await buildCatalogIndex();
  const engine = await engineFor(bytes);
  try {
    const png = encodePng(solidFrame(40, 30, [0, 200, 200]), 40, 30);
    const r = await engine.analyzeEncoded(png);
    assert.equal(r.width, 40);
    assert.equal(r.height, 30);
    assert.equal(r.top[0].id, 'teal-bowl');
    assert.ok(r.top[0].score > 0.99);
    assert.equal(typeof r.timings_ms.decode, 'number');

    // RGB (colour type 2) PNG too.
    const rgb = await engine.analyzeEncoded(encodePng(rgbOf(solidFrame(24, 24, [255, 255, 0])), 24, 24, 3));
    assert.equal(rgb.top[0].id, 'yellow-duck');

    // Corrupt: the IDAT payload overwritten, truncated, not an image at all, empty.
    const garbled = png.slice();
    const idat = Buffer.from(garbled).indexOf('IDAT');
    garbled.fill(0x55, idat + 4, idat + 24);
    const cases = [
      { bytes: garbled, what: 'garbled IDAT' },
      { bytes: png.slice(0, 40), what: 'truncated' },
      { bytes: new TextEncoder().encode('not an image, just text'), what: 'text' },
      { bytes: new Uint8Array(0), what: 'empty' },
    ];
    for (const c of cases) {
      await assert.rejects(() => engine.analyzeEncoded(c.bytes, { source: `upload-${c.what}.png` }), (e) => {
        assert.ok(e instanceof ShopframeError, `${c.what}: ${e?.name}: ${e?.message}`);
        assert.ok(typeof e.code === 'string' && e.code.length > 0, `${c.what}: code`);
        assert.ok(e.message.startsWith(`upload-${c.what}.png: `), `${c.what}: message names the source: ${e.message}`);
        return true;
      });
    }

    // Still usable after the failures.
    const again = await engine.analyzeEncoded(png);
    assert.equal(again.top[0].id, 'teal-bowl');
    const raw = await engine.analyzeImage(solidFrame(8, 8, [0, 255, 0]), 8, 8);
    assert.equal(raw.top[0].id, 'green-plant');
  } finally {
    await engine.close();
  }
});

test('engine errors: wrong-size RGBA, closed engine, a detector manifest as the embedder', async () => {
  const { bytes } = await buildCatalogIndex();
  const engine = await engineFor(bytes);
  await assert.rejects(() => engine.analyzeImage(new Uint8Array(10), 4, 4), (e) => {
    assert.ok(e instanceof ShopframeError);
    assert.equal(e.code, 'invalid_argument');
    assert.match(e.message, /expected 64 RGBA bytes for 4x4, got 10/);
    return true;
  });
  await assert.rejects(() => engine.analyzeImage(new Uint8Array(0), 4, 0), /frame 4x0 is outside/);
  // Still fine after the errors.
  assert.equal((await engine.analyzeImage(solidFrame(4, 4, [255, 0, 0]), 4, 4)).top[0].id, 'red-mug');

  await engine.close();
  await assert.rejects(() => engine.analyzeImage(solidFrame(4, 4, [255, 0, 0]), 4, 4), (e) => {
    assert.ok(e instanceof ShopframeError);
    assert.match(e.message, /vision pipeline is closed/);
    return true;
  });
  await assert.rejects(() => engine.analyzeEncoded(encodePng(solidFrame(4, 4, [255, 0, 0]), 4, 4)), /vision pipeline is closed/);
  assert.throws(() => engine.index.search(vectors.subarray(0, DIM)), /index is closed/);  // the engine owned it

  // A detector manifest (kind yolox) passed as the embedder.
  const yoloxAsEmbedder = { ...embedder, manifest: { ...embedder.manifest, kind: 'yolox' }, source: 'yolox.json' };
  await assert.rejects(() => createEngine({ index: bytes, models: { embedder: yoloxAsEmbedder, detector: null } }), (e) => {
    assert.ok(e instanceof ShopframeError);
    assert.equal(e.code, 'invalid_argument');
    assert.match(e.message, /yolox\.json: kind is yolox, expected embedding/);
    return true;
  });
  // Not an index at all.
  await assert.rejects(() => engineFor(new Uint8Array(64)), ShopframeError);
});

test('engine: an Index passed in is borrowed, not closed with the engine', async () => {
  const { bytes } = await buildCatalogIndex();
  const index = await loadIndex(bytes);
  try {
    const engine = await engineFor(index);
    assert.equal(engine.index, index);
    assert.equal((await engine.analyzeImage(solidFrame(8, 8, [0, 0, 255]), 8, 8)).top[0].id, 'blue-cap');
    await engine.close();
    assert.equal(index.search(vectors.subarray(0, DIM), { k: 1 })[0].id, 'red-mug');
  } finally {
    index.close();
  }
});

test('engine: an index with a learned (LDA) adaptation still answers raw embedder queries', async () => {
  // 6 products, 8 images: LDA to 4 dimensions (at most products - 1 useful ones).
  const { bytes, adaptation } = await buildCatalogIndex({ embedder: embedderConfig }, { adapt: true, adaptDim: 4 });
  assert.equal(adaptation.applied, true);
  assert.equal(adaptation.dim, 4);
  const engine = await engineFor(bytes);
  try {
    assert.equal(engine.index.dim, DIM);  // queries stay raw embeddings; the index projects them
    assert.equal(engine.index.info().workDim, 4);
    for (const product of CATALOG) {
      const r = await engine.analyzeImage(solidFrame(32, 32, product.images[0]), 32, 32);
      assert.equal(r.top[0].id, product.id, `${product.id}: ${r.top.map((m) => m.id).join(', ')}`);
      assertDistinctIds(r.top, `${product.id} (adapted)`);
    }
  } finally {
    await engine.close();
  }
});

test('engine with a manifest-plugged detector: detection regions carry the class name as label', async () => {
  const engine = await engineWithTinyYolo();
  try {
    assert.equal(engine.vision.detectorInfo.kind, 'yolo');
    // All red, 128x64 stretched to 64x64: anchor 0 (model box 16,8,32,40) -> frame (32, 8, 64, 40).
    const r = await engine.analyzeImage(solidFrame(128, 64, [255, 0, 0]), 128, 64);
    assert.deepEqual(r.regions.map((g) => g.kind), ['full_frame', 'centre_crop', 'detection']);
    assert.deepEqual(r.regions.map((g) => g.label), ['full_frame', 'centre_crop', 'red']);
    const d = r.regions[2];
    d.box.forEach((v, i) => assert.ok(Math.abs(v - [32, 8, 64, 40][i]) < 1e-3, `box ${d.box}`));
    assert.ok(d.score > 0.99);
    assert.equal(d.matches[0].id, 'red-mug');
    assert.equal(r.top[0].id, 'red-mug');
    assert.ok(r.timings_ms.embed_per_region <= r.timings_ms.embed);
    // maxRegions 2: the fixed regions only.
    const two = await engine.analyzeImage(solidFrame(128, 64, [255, 0, 0]), 128, 64, { maxRegions: 2 });
    assert.equal(two.regions.length, 2);
    // Black: no detection.
    const black = await engine.analyzeImage(solidFrame(128, 64, [0, 0, 0]), 128, 64);
    assert.equal(black.regions.length, 2);
  } finally {
    await engine.close();
  }
});

test('engine: reuseProposals embeds the last detector run\'s boxes on a frame of the same size, never across sizes', async () => {
  const engine = await engineWithTinyYolo();
  try {
    const red = await engine.analyzeImage(solidFrame(128, 64, [255, 0, 0]), 128, 64);
    assert.equal(red.proposals, 'detected');
    assert.equal(red.regions.length, 3);
    // Black has no detection of its own; reused, the red frame's box is embedded on it.
    const black = await engine.analyzeImage(solidFrame(128, 64, [0, 0, 0]), 128, 64, { reuseProposals: true });
    assert.equal(black.proposals, 'reused');
    assert.deepEqual(black.regions.map((g) => g.box), red.regions.map((g) => g.box));
    assert.deepEqual(black.regions.map((g) => g.kind), ['full_frame', 'centre_crop', 'detection']);
    assert.equal(black.regions[2].label, 'red');
    assert.notEqual(black.regions[2].matches[0].id, 'red-mug', 'the crop is of the new (black) frame');
    // A function is asked after the frame is filled; false runs the detector.
    let asked = 0;
    const again = await engine.analyzeImage(solidFrame(128, 64, [0, 0, 0]), 128, 64, { reuseProposals: () => (++asked, false) });
    assert.equal(asked, 1);
    assert.equal(again.proposals, 'detected');
    assert.equal(again.regions.length, 2);
    // Another frame size: the boxes would not fit, so the detector runs.
    await engine.analyzeImage(solidFrame(128, 64, [255, 0, 0]), 128, 64);
    const other = await engine.analyzeImage(solidFrame(96, 64, [0, 0, 0]), 96, 64, { reuseProposals: true });
    assert.equal(other.proposals, 'detected');
    assert.equal(other.regions.length, 2);
  } finally {
    await engine.close();
  }
});

test('closing an engine twice is harmless', {
}, async () => {
  const { bytes } = await buildCatalogIndex();
  const engine = await engineFor(bytes);
  await engine.close();
  await engine.close();
});

// ---------------------------------------------- which embedder an engine picks (real models)

const SHARED_MODELS = new URL('../../../shared/models/', import.meta.url);
const noSharedModels = (await import('node:fs')).existsSync(SHARED_MODELS) ? false : 'needs ../shared/models';

test('without models.embedder the engine uses the index\'s embedder when its manifest is known, else the default', { skip: noSharedModels }, async () => {
  const { readManifest } = await import('../../js/models.mjs');
  const { DEFAULT_MODELS } = await import('../../js/engine.mjs');
  const int8 = (await readManifest('mobilenetv2-feat')).manifest;
  const f32 = (await readManifest('mobilenetv2-f32-feat')).manifest;
  const byDefault = (await readManifest(DEFAULT_MODELS.embedder)).manifest;
  const withEmbedder = (embedder, dim) => {
    const vectors = new Float32Array(3 * dim).map((_, i) => Math.cos(i * 0.37));
    const items = ['a', 'b', 'c'].map((id) => ({ id, title: id }));
    return buildIndexDetailed({ vectors, dim, items, config: embedder ? { embedder } : undefined }).then((r) => r.bytes);
  };
  const engineName = async (bytes, models = { detector: null }, onePass = false) => {
    const engine = await createEngine({ index: bytes, models, onePass });
    try {
      return engine.vision.embedderInfo.name;
    } finally {
      await engine.close();
    }
  };
  assert.equal(DEFAULT_MODELS.embedder, 'mobilenetv2-f32-multiscale');
  assert.equal(byDefault.embedding_dim, 3152);
  // Indexes built with the earlier defaults keep working without naming their embedder.
  const builtWithInt8 = await withEmbedder({ name: int8.name, sha256: int8.sha256, dim: 1280 }, 1280);
  assert.equal(await engineName(builtWithInt8), 'mobilenetv2-feat');
  assert.equal(await engineName(await withEmbedder({ name: f32.name, sha256: f32.sha256, dim: 1280 }, 1280)), 'mobilenetv2-f32-feat');
  assert.equal(await engineName(await withEmbedder(null, 3152)), 'mobilenetv2-f32-multiscale');
  assert.equal(await engineName(await withEmbedder({ name: 'someone-elses-model', dim: 3152 }, 3152)), 'mobilenetv2-f32-multiscale');
  // By default (onePass not false) the multi-scale embedder's index is queried with its one-pass
  // variant, which its manifest names; embedders without one are used as they are.
  const multiscale = await withEmbedder({ name: byDefault.name, sha256: byDefault.sha256, dim: 3152 }, 3152);
  assert.equal(byDefault.one_pass, 'mobilenetv2-f32-multiscale-maps288');
  assert.equal(await engineName(multiscale, { detector: null }, true), 'mobilenetv2-f32-multiscale-maps288');
  assert.equal(await engineName(multiscale, { detector: null }, false), 'mobilenetv2-f32-multiscale');
  assert.equal(await engineName(builtWithInt8, { detector: null }, true), 'mobilenetv2-feat');
  // An explicit embedder that is not the index's is still an error naming both.
  await assert.rejects(engineName(builtWithInt8, { embedder: 'mobilenetv2-f32-feat', detector: null }),
    (e) => e.code === 'invalid_argument' && /built with embedder mobilenetv2-feat/.test(e.message) && /engine has mobilenetv2-f32-feat/.test(e.message));
});

test('pickEmbedder: the browser worker\'s choice among listed embedders', async () => {
  const { pickEmbedder } = await import('../../js/engine.mjs');
  const sha = (c) => c.repeat(64);
  const base = { name: 'base', sha256: sha('a') };
  const maps = { name: 'maps', sha256: sha('b'), pooling: 'regions', compatible_with: { name: 'base', sha256: sha('a') } };
  const other = { name: 'other', sha256: sha('c') };
  const list = [maps, other, base];
  const want = { name: 'base', sha256: sha('a') };
  assert.equal(pickEmbedder(list, want), 0, 'the compatible one-pass model first');
  assert.equal(pickEmbedder(list, want, { onePass: false }), 2, 'onePass false: the same model');
  assert.equal(pickEmbedder(list, { name: 'other', sha256: sha('c') }), 1, 'another index: its own model, not the one-pass one');
  assert.equal(pickEmbedder(list, { name: 'other', sha256: sha('C') }), 0, 'sha256 compared as given (CONF stores lower case)');
  // Nothing known to match (no CONF, or a name without sha256 that no manifest has): the first,
  // as node falls back to its default; with onePass false never a one-pass model.
  assert.equal(pickEmbedder(list, undefined), 0);
  assert.equal(pickEmbedder(list, undefined, { onePass: false }), 1);
  assert.equal(pickEmbedder(list, { name: 'someone-elses' }, { onePass: false }), 1);
  assert.equal(pickEmbedder([null, maps, base], undefined, { onePass: false }), 2, 'a manifest that was not JSON never matches');
  assert.equal(pickEmbedder([maps], undefined, { onePass: false }), 0, 'only one-pass models: the first');
  assert.equal(pickEmbedder([], want), 0);
  // A one-pass model compatible with another embedder is not taken for this index.
  assert.equal(pickEmbedder([{ ...maps, compatible_with: { name: 'x', sha256: sha('d') } }, base], want), 1);
});
