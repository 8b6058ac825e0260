// Video end to end with the real default models: a catalog of four grocery products built
// from their train photos, a generated video (one in-catalog product, then a product that
// is not in the catalog), sampled by ffmpeg, matched, tracked. Missing data fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { initCore, loadIndex } from '../../js/shopframe.mjs';
import { createEngine } from '../../js/engine.mjs';
import { analyzeVideo, createTracker, segmentEvidence, trackOptionsFrom } from '../../js/video.mjs';
import { buildImageCatalog } from '../../js/node/image_catalog.mjs';
import { readVideoFrames } from '../../js/node/video_frames.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GROCERY = process.env.SHOPFRAME_GROCERY ?? resolve(ROOT, '..', 'shared', 'data', 'grocery');
const dir = mkdtempSync(join(tmpdir(), 'shopframe-video-'));
const PRODUCTS = [['Granny-Smith', 'Fruit/Apple/Granny-Smith'], ['Banana', 'Fruit/Banana'],
  ['Arla-Standard-Milk', 'Packages/Milk/Arla-Standard-Milk'], ['Red-Bell-Pepper', 'Vegetables/Pepper/Red-Bell-Pepper']];

async function fixture() {
  assert.ok(existsSync(join(GROCERY, 'classes.csv')), `no Grocery Store Dataset at ${GROCERY} (set SHOPFRAME_GROCERY)`);
  const catalog = join(dir, 'shop.jsonl');
  writeFileSync(catalog, PRODUCTS.map(([id, path]) => JSON.stringify({
    id, title: id, category: path.split('/').slice(0, -1).join('/'),
    images: [1, 2, 3, 4, 5].map((i) => join(GROCERY, 'train', path, `${id}_${String(i).padStart(3, '0')}.jpg`)),
  })).join('\n') + '\n');
  const built = await buildImageCatalog({ catalogPath: catalog, quantizer: 'flat', cacheDir: join(dir, 'cache') });
  const spec = join(dir, 'clip.json');
  writeFileSync(spec, JSON.stringify({ videos: [{ name: 'clip', segments: [
    { id: 'Banana', photo: 1, duration: 3 },
    { id: 'Pink-Lady', photo: 1, duration: 3, distractor: true },
  ] }] }));
  const r = spawnSync(process.execPath, [join(ROOT, 'tools', 'make-test-videos.mjs'), '--spec', spec, '--out', dir, '--data', GROCERY], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { index: await loadIndex(built.bytes), video: join(dir, 'clip.mp4') };
}

const fx = fixture();

test('permissive thresholds: the in-catalog product is suggested inside its segment', async () => {
  const { index, video } = await fx;
  const engine = await createEngine({ index, models: { detector: null } });
  try {
    const r = await analyzeVideo(engine, readVideoFrames(video, { fps: 2 }), {
      keepFrames: true, track: { itemThreshold: -1, categoryThreshold: null, minMargin: 0 },
    });
    assert.equal(r.samples, r.frames.length);
    assert.ok(r.samples >= 12, `samples ${r.samples}`);
    assert.ok(r.frames.some((f) => f.cut && Math.abs(f.t - 3) < 0.1), 'the cut at 3 s is sampled');
    const banana = r.suggestions.filter((s) => s.kind === 'item' && s.id === 'Banana');
    assert.equal(banana.length, 1, JSON.stringify(r.suggestions));
    const [s] = banana;
    assert.ok(s.from >= -0.5 && s.to <= 3.5, `${s.from}..${s.to}`);
    assert.ok(s.best.t >= 0 && s.best.t <= 3 && s.best.box.length === 4);
    assert.ok(s.samples >= 5);
    // Nothing crosses the cut: every suggestion lies on one side of it.
    for (const x of r.suggestions) assert.ok(x.to < 3 || x.from >= 3, JSON.stringify(x));
  } finally {
    await engine.close();
  }
});

test('detectEvery 2: the detector runs on every other sample and at the cut; the product is still found', async () => {
  const { index, video } = await fx;
  const engine = await createEngine({ index });
  try {
    const r = await analyzeVideo(engine, readVideoFrames(video, { fps: 2 }), {
      keepFrames: true, detectEvery: 2, track: { itemThreshold: -1, categoryThreshold: null, minMargin: 0 },
    });
    let since = Infinity;
    for (const f of r.frames) {
      const expected = f.cut || since >= 2 ? 'detected' : 'reused';
      assert.equal(f.proposals, expected, `sample at ${f.t} s (cut ${f.cut})`);
      since = f.proposals === 'reused' ? since + 1 : 1;
    }
    const reused = r.frames.filter((f) => f.proposals === 'reused').length;
    assert.ok(reused >= r.frames.length / 2 - 2, `${reused} of ${r.frames.length} reused`);
    assert.ok(r.suggestions.some((s) => s.kind === 'item' && s.id === 'Banana' && s.from < 3), JSON.stringify(r.suggestions));
    await assert.rejects(analyzeVideo(engine, readVideoFrames(video, { fps: 2 }), { detectEvery: 0 }),
      (e) => e.code === 'invalid_argument' && /detectEvery/.test(e.message));
  } finally {
    await engine.close();
  }
});

test('uncalibrated thresholds: no suggestions at all', async () => {
  const { index, video } = await fx;
  assert.deepEqual(trackOptionsFrom(null), { itemThreshold: null, categoryThreshold: null, categoryMargin: null, categoryItemThresholds: {}, categoryThresholds: {} });
  const engine = await createEngine({ index, models: { detector: null } });
  try {
    const r = await analyzeVideo(engine, readVideoFrames(video, { fps: 2 }), { track: trackOptionsFrom(null) });
    assert.ok(r.samples >= 12);
    assert.deepEqual(r.suggestions, []);
  } finally {
    await engine.close();
  }
});

test('bad tracker input is a clear error, not a crash', async () => {
  const { index } = await fx;
  const engine = await createEngine({ index, models: { detector: null } });
  async function* backwards() {
    const rgba = new Uint8Array(64 * 64 * 4).fill(200);
    yield { t: 1, width: 64, height: 64, rgba };
    yield { t: 0.5, width: 64, height: 64, rgba };
  }
  try {
    await assert.rejects(analyzeVideo(engine, backwards()), (e) => e.code === 'invalid_argument' && /sample 1/.test(e.message));
  } finally {
    await engine.close();
  }
});

test('trackOptionsFrom: video thresholds first, else the image score thresholds, per category by name', () => {
  const image = {
    item: { threshold: 0.9, score_threshold: 0.7, by_category: { Fruit: { threshold: 0.95, score_threshold: 0.8 }, Milk: { threshold: 0.5 } } },
    category: { threshold: 0.6, margin: 0.1, by_category: { Fruit: { threshold: 0.65 } } },
  };
  assert.deepEqual(trackOptionsFrom(image), {
    itemThreshold: 0.7, categoryThreshold: 0.6, categoryMargin: 0.1, categoryItemThresholds: { Fruit: 0.8 }, categoryThresholds: { Fruit: 0.65 },
  });
  const video = JSON.parse(JSON.stringify({ ...image, video: { item: { threshold: 0.75, by_category: { Milk: { threshold: Infinity } } } } }));
  assert.deepEqual(trackOptionsFrom(video), {  // no video category part: the image one
    itemThreshold: 0.75, categoryThreshold: 0.6, categoryMargin: 0.1, categoryItemThresholds: { Milk: null }, categoryThresholds: { Fruit: 0.65 },
  });
  // A video category part without a margin keeps the image one; an unreachable one is null.
  assert.equal(trackOptionsFrom({ ...video, video: { ...video.video, category: { threshold: 0.7 } } }).categoryMargin, 0.1);
  assert.equal(trackOptionsFrom(JSON.parse(JSON.stringify({ category: { threshold: 0.6, margin: Infinity } }))).categoryMargin, null);
  const videoNever = JSON.parse(JSON.stringify({ ...video, video: { ...video.video, category: { threshold: 0.7, margin: Infinity } } }));
  assert.equal(trackOptionsFrom(videoNever).categoryMargin, null);  // the video part's "never" is not overridden
  assert.equal(trackOptionsFrom({ category: { threshold: 0.6, margin: -1 } }).categoryMargin, null);  // not a margin: never
  assert.equal(trackOptionsFrom({ video: { item: { threshold: null } } }).itemThreshold, null);  // never
  assert.deepEqual(trackOptionsFrom(image, { categoryItemThresholds: {} }).categoryItemThresholds, {});
});

test('createTracker: per-category thresholds reach the core tracker', async () => {
  const core = await initCore();
  // Two samples of one Fruit product scoring 0.8 (runner-up 0.3, also Fruit).
  const run = (options) => {
    const categories = new Map(), names = [];
    const tracker = createTracker(core, { itemThreshold: 0.5, categoryThreshold: null, ...options }, categories, names);
    const fruit = categories.get('Fruit') ?? (names.push('Fruit') - 1);
    const region = { box: [0, 0, 100, 100], embedding: null,
      matches: [{ item: 0, category: fruit, score: 0.8 }, { item: 1, category: fruit, score: 0.3 }] };
    try {
      for (const t of [0, 0.5]) assert.ok(tracker.addSample(t, false, [region]), tracker.errorMessage());
      return tracker.finish().map((d) => `${d.kind}:${d.kind === 'category' ? names[d.id] : d.id}`);
    } finally {
      tracker.delete();
    }
  };
  assert.deepEqual(run({}), ['item:0']);
  assert.deepEqual(run({ categoryItemThresholds: { Fruit: 0.9 } }), []);
  assert.deepEqual(run({ categoryItemThresholds: { Fruit: 0.9 }, categoryThresholds: { Fruit: 0.7 } }), ['category:Fruit']);
  assert.deepEqual(run({ categoryItemThresholds: { Fruit: null }, categoryThresholds: { Fruit: 0.9 } }), []);
  assert.deepEqual(run({ categoryItemThresholds: { Milk: 0.99 } }), ['item:0']);  // another category's threshold
  assert.throws(() => run({ categoryThresholds: { Fruit: 'high' } }), /categoryThresholds\["Fruit"\]: expected a number or null/);
});

test('segmentEvidence: per segment, the most confident track decisions inside it', async () => {
  const { index, video } = await fx;
  const engine = await createEngine({ index, models: { detector: null } });
  try {
    const all = await analyzeVideo(engine, readVideoFrames(video, { fps: 2 }), { keepFrames: true, track: { itemThreshold: -1, categoryThreshold: null } });
    const segments = [{ from: 0, to: 3 }, { from: 3, to: 6 }, { from: 0.5, to: 1.6 }];
    const ev = await segmentEvidence(engine, readVideoFrames(video, { fps: 2 }), segments);
    assert.equal(ev.length, 3);
    segments.forEach((seg, i) => {
      assert.equal(ev[i].samples, all.frames.filter((f) => f.t >= seg.from && f.t < seg.to).length, `segment ${i}`);
    });
    // The Banana segment: its tracks decide on Banana (as analyzeVideo did), and the evidence is
    // at least as confident as the merged suggestion (a mean over its tracks).
    const banana = all.suggestions.find((s) => s.kind === 'item' && s.id === 'Banana');
    assert.equal(ev[0].item.id, 'Banana');
    assert.equal(ev[0].item.category, 'Fruit');
    assert.ok(ev[0].item.confidence >= banana.confidence - 1e-6, `${ev[0].item.confidence} vs ${banana.confidence}`);
    assert.ok(ev[0].category === null || typeof ev[0].category.id === 'string');
    // A segment's tracks start with it: the short one has its own (fewer) samples.
    assert.ok(ev[2].samples >= 2 && ev[2].samples < ev[0].samples);
  } finally {
    await engine.close();
  }
});
