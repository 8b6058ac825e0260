// The vision pipeline (js/vision.mjs + wasm/bind_vision.cpp) with models plugged in through
// their manifests only: the tiny hand-built ONNX models of tests/js/lib/tiny_onnx.mjs stand in
// for real embedders and detectors, and their documented outputs let every number be predicted.
//
// What is proven here:
//   - an embedder (NCHW, NHWC, BGR; any mean/std/scale) works from its manifest alone, and the
//     embeddings are exactly what the model computes on the tensor the manifest describes;
//   - YOLO ([1,A,5+C]), YOLOv8 ([1,4+C,A]) and CenterNet (heat/size/offset) detectors plugged the
//     same way give 'detection' regions whose boxes map back to frame pixels through the
//     letterbox (top-left anchored, pad right/bottom) or stretch geometry, computed by hand below;
//   - bad input and misuse fail with a ShopframeError that says what is wrong.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createVision, Vision } from '../../js/vision.mjs';
import { ShopframeError } from '../../js/shopframe.mjs';
import {
  solidImage, tinyCenterNetDetector, tinyEmbedder, tinyEmbedderReference, tinyFeatureMaps, tinyFeatureMapsReference,
  tinyYoloDetector, writeManifest,
} from './lib/tiny_onnx.mjs';

const EMB_SIZE = 32;
const DIM = 8;
const sigmoid = (x) => 1 / (1 + Math.exp(-x));

let dir;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'shopframe-vision-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

/** { manifest, bytes } of a tiny model; `input` fields override the manifest's input section. */
async function plug(bytes, { name, kind = 'embedding', size = EMB_SIZE, layout = 'NCHW', classNames, input = {}, extra = {} }) {
  const { manifest } = await writeManifest(dir, { bytes, name, kind, size, layout, classNames, extra });
  return { manifest: { ...manifest, input: { ...manifest.input, ...input } }, bytes, source: `${name}.json` };
}

/** A tight RGBA frame filled with `rgb`, optionally with rectangle [x0, y0, x1, y1) in `rectRgb`. */
function rgbaFrame(width, height, rgb, rect, rectRgb) {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; ++y) {
    for (let x = 0; x < width; ++x) {
      const inside = rect && x >= rect[0] && x < rect[2] && y >= rect[1] && y < rect[3];
      out.set([...(inside ? rectRgb : rgb), 255], (y * width + x) * 4);
    }
  }
  return out;
}

function assertClose(actual, expected, tol, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; ++i) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (tolerance ${tol})`);
  }
}

// det_proposals: full frame, then a centre crop covering 70% of each side.
function fixedRegions(width, height) {
  const cw = 0.7 * width, ch = 0.7 * height;
  return [
    { kind: 'full_frame', box: [0, 0, width, height] },
    { kind: 'centre_crop', box: [(width - cw) / 2, (height - ch) / 2, (width + cw) / 2, (height + ch) / 2] },
  ];
}

function assertFixedRegions(regions, width, height) {
  const want = fixedRegions(width, height);
  assert.equal(regions.length, 2, `expected only full_frame and centre_crop, got ${JSON.stringify(regions)}`);
  want.forEach((w, i) => {
    assert.equal(regions[i].kind, w.kind);
    assert.equal(regions[i].score, 0);
    assert.equal(regions[i].classId, -1);
    assertClose(regions[i].box, w.box, 1e-3, `${w.kind} box`);
  });
}

/** The tensor value of pixel value v (0..255) in channel c: (v * scale - mean[c]) / std[c]. */
function normalized(rgb, { scale = 1 / 255, mean = [0, 0, 0], std = [1, 1, 1], bgr = false } = {}) {
  const order = bgr ? [rgb[2], rgb[1], rgb[0]] : rgb;
  return order.map((v, c) => (v * scale - mean[c]) / std[c]);
}

// ------------------------------------------------------------------------------ embedders

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

test('manifest-plugged embedder (NCHW, ImageNet mean/std): fixed regions and exact embeddings of a solid frame', async () => {
  const model = await plug(tinyEmbedder({ size: EMB_SIZE, dim: DIM }), { name: 'emb-nchw', input: IMAGENET });
  const vision = await createVision({ embedder: model });
  try {
    assert.ok(vision instanceof Vision);
    assert.equal(vision.embeddingDim, DIM);
    const info = vision.embedderInfo;
    assert.equal(info.kind, 'embedding');
    assert.equal(info.name, 'emb-nchw');
    assert.equal(info.layout, 'NCHW');
    assert.equal(info.width, EMB_SIZE);
    assert.equal(info.height, EMB_SIZE);
    assert.equal(info.inputName, 'pixels');
    assert.deepEqual(info.outputs, ['vec']);
    assert.equal(info.sha256, model.manifest.sha256);
    assert.equal(vision.detectorInfo, null);
    assert.equal(vision.className(0), null);  // no detector: no class names

    // A non-square frame (resampled on both axes) of one colour: every tensor element of a
    // channel is that colour normalized, so the model's channel means are known exactly.
    const rgb = [200, 60, 30];
    const width = 50, height = 30;
    vision.setFrame(rgbaFrame(width, height, rgb), width, height);
    assert.equal(vision.frameWidth, width);
    assert.equal(vision.frameHeight, height);

    const regions = await vision.detect();
    assertFixedRegions(regions, width, height);

    const embeddings = await vision.embed(2);
    assert.equal(embeddings.length, 2);
    const expected = tinyEmbedderReference(solidImage(EMB_SIZE, normalized(rgb, IMAGENET)), { dim: DIM });
    for (const [i, e] of embeddings.entries()) {
      assert.ok(e instanceof Float32Array);
      assertClose(e, expected, 1e-4, `region ${i} embedding`);
    }

    // Another colour embeds differently (and as predicted): the frame really is read.
    const rgb2 = [10, 180, 240];
    vision.setFrame(rgbaFrame(width, height, rgb2), width, height);
    await vision.detect();
    const [e2] = await vision.embed(1);
    assertClose(e2, tinyEmbedderReference(solidImage(EMB_SIZE, normalized(rgb2, IMAGENET)), { dim: DIM }), 1e-4, 'second colour');
    assert.ok(Math.abs(e2[0] - expected[0]) + Math.abs(e2[1] - expected[1]) > 0.1, 'different colours, different embeddings');
  } finally {
    await vision.close();
  }
});

test('manifest-plugged embedder, NHWC layout and other input names: same embeddings as the reference', async () => {
  const bytes = tinyEmbedder({ size: EMB_SIZE, dim: DIM, layout: 'NHWC', inputName: 'input_1', outputName: 'features' });
  const model = await plug(bytes, {
    name: 'emb-nhwc', layout: 'NHWC', input: { name: 'input_1', scale: 2 / 255, mean: [1, 1, 1], std: [1, 1, 1] },
    extra: { outputs: ['features'] },
  });
  const vision = await createVision({ embedder: model });
  try {
    assert.equal(vision.embedderInfo.layout, 'NHWC');
    assert.equal(vision.embedderInfo.inputName, 'input_1');
    const rgb = [255, 128, 0];
    vision.setFrame(rgbaFrame(64, 48, rgb), 64, 48);
    const regions = await vision.detect();
    assertFixedRegions(regions, 64, 48);
    const embeddings = await vision.embed(regions.length);
    // scale 2/255, mean 1: pixel v -> 2v/255 - 1, i.e. [-1, 1].
    const norm = normalized(rgb, { scale: 2 / 255, mean: [1, 1, 1] });
    assertClose(norm, [1, 1 / 255, -1], 1e-6, 'hand-normalized colour');
    const expected = tinyEmbedderReference(solidImage(EMB_SIZE, norm, 'NHWC'), { dim: DIM, layout: 'NHWC' });
    embeddings.forEach((e, i) => assertClose(e, expected, 1e-4, `NHWC region ${i}`));
  } finally {
    await vision.close();
  }
});

test('manifest-plugged embedder with BGR colour order: channels are swapped as the manifest says', async () => {
  const model = await plug(tinyEmbedder({ size: 16, dim: DIM }), { name: 'emb-bgr', size: 16, input: { color: 'BGR' } });
  const vision = await createVision({ embedder: model });
  try {
    const rgb = [250, 100, 5];
    vision.setFrame(rgbaFrame(20, 20, rgb), 20, 20);
    await vision.detect();
    const [e] = await vision.embed(1);
    assertClose(e, tinyEmbedderReference(solidImage(16, normalized(rgb, { bgr: true })), { dim: DIM }), 1e-4, 'BGR');
    // ... and not the RGB one.
    const rgbRef = tinyEmbedderReference(solidImage(16, normalized(rgb)), { dim: DIM });
    assert.ok(e.some((v, i) => Math.abs(v - rgbRef[i]) > 0.05), 'BGR embedding differs from the RGB one');
  } finally {
    await vision.close();
  }
});

// ------------------------------------------------------------------------------ detectors

const FRAME_W = 128, FRAME_H = 64;  // 2:1 frames into square model inputs
const RED = [255, 0, 0], BLACK = [0, 0, 0];
const PAD = 114;

// tinyYoloDetector (size 64): anchor 0 fires on the red channel mean m: objectness
// sigmoid(20 (m - 0.5)); its box is fixed in model pixels (cx, cy, w, h).
//   letterbox 128x64 -> 64x64: r = min(64/128, 64/64) = 0.5, content 64x32 at (0, 0) (top-left),
//     rows 32..63 padded with 114. An all-red frame: m = (32*1 + 32*114/255) / 64 = 0.5 + 57/255.
//     box (24, 12, 16, 16) -> model xyxy (16, 4, 32, 20) -> frame (16/0.5, 4/0.5, 32/0.5, 20/0.5) = (32, 8, 64, 40).
//   stretch 128x64 -> 64x64: sx = 0.5, sy = 1. m = 1.
//     box (24, 24, 16, 32) -> model (16, 8, 32, 40) -> frame (32, 8, 64, 40).
const YOLO_CASES = [
  { mode: 'letterbox', input: { letterbox: true, pad_value: PAD }, box: [24, 12, 16, 16], redMean: 0.5 + 0.5 * PAD / 255, frameBox: [32, 8, 64, 40] },
  { mode: 'stretch', input: {}, box: [24, 24, 16, 32], redMean: 1, frameBox: [32, 8, 64, 40] },
];

let embedderModel;
async function embedder() {
  embedderModel ??= await plug(tinyEmbedder({ size: EMB_SIZE, dim: DIM }), { name: 'emb' });
  return embedderModel;
}

for (const layout of ['yolo', 'yolov8']) {
  for (const c of YOLO_CASES) {
    test(`manifest-plugged ${layout} detector (${c.mode}): the red anchor's box maps back to frame pixels; black frame: no detections`, async () => {
      const bytes = tinyYoloDetector({ size: 64, box: c.box, layout });
      const detector = await plug(bytes, { name: `det-${layout}-${c.mode}`, kind: layout, size: 64, classNames: ['red', 'green'], input: c.input });
      const vision = await createVision({ embedder: await embedder(), detector });
      try {
        assert.equal(vision.detectorInfo.kind, layout);
        assert.equal(vision.detectorInfo.classCount, 2);
        assert.equal(vision.className(0), 'red');
        assert.equal(vision.className(1), 'green');
        assert.equal(vision.className(2), null);
        assert.equal(vision.className(-1), null);

        vision.setFrame(rgbaFrame(FRAME_W, FRAME_H, RED), FRAME_W, FRAME_H);
        const regions = await vision.detect();
        assert.equal(regions.length, 3, JSON.stringify(regions));
        assertFixedRegions(regions.slice(0, 2), FRAME_W, FRAME_H);
        const d = regions[2];
        assert.equal(d.kind, 'detection');
        assert.equal(d.classId, 0);
        assertClose(d.box, c.frameBox, 1e-3, `${layout} ${c.mode} frame box`);
        // 'yolo': objectness alone (class-agnostic proposals); 'yolov8' has no objectness
        // column, so its score is the best class score = class0 * objectness0.
        const obj = sigmoid(20 * (c.redMean - 0.5));
        assert.ok(Math.abs(d.score - (layout === 'yolov8' ? obj * obj : obj)) < 1e-3, `score ${d.score}`);

        // Detection crops are embedded too: on an all-red frame every crop is solid red.
        const embeddings = await vision.embed(regions.length);
        assert.equal(embeddings.length, 3);
        const red = tinyEmbedderReference(solidImage(EMB_SIZE, normalized(RED)), { dim: DIM });
        embeddings.forEach((e, i) => assertClose(e, red, 1e-4, `region ${i}`));

        // maxRegions caps the list (the fixed regions always stay).
        assertFixedRegions(await vision.detect({ maxRegions: 2 }), FRAME_W, FRAME_H);
        // A threshold above the score drops the detection.
        assertFixedRegions(await vision.detect({ scoreThreshold: Math.min(d.score + 1e-3, 1.01) }), FRAME_W, FRAME_H);

        vision.setFrame(rgbaFrame(FRAME_W, FRAME_H, BLACK), FRAME_W, FRAME_H);
        assertFixedRegions(await vision.detect(), FRAME_W, FRAME_H);
      } finally {
        await vision.close();
      }
    });
  }
}

// input.size_multiple (models/yolox-nano-dynamic.json): the letterbox canvas shrinks to the
// frame's aspect in multiples of 16 here, at the full canvas's scale. The tiny detector's
// objectness is a function of the red mean over the tensor it gets, so the score tells how
// much padding that tensor had, and the box shows the scale.
test('input.size_multiple: the detector gets the smallest canvas that holds the letterboxed frame; boxes map back the same', async () => {
  const bytes = tinyYoloDetector({ size: 64, box: [24, 12, 16, 16], dynamic: true });
  const detector = await plug(bytes, { name: 'det-fit', kind: 'yolo', size: 64, classNames: ['red', 'green'],
    input: { letterbox: true, pad_value: PAD, size_multiple: 16 } });
  const vision = await createVision({ embedder: await embedder(), detector });
  const redScore = (rows, padRows) => sigmoid(20 * ((rows + padRows * PAD / 255) / (rows + padRows) - 0.5));
  try {
    assert.equal(vision.detectorInfo.sizeMultiple, 16);
    // [frame w, h, content rows in the canvas, padding rows]: 128x64 -> scale 0.5, 64x32, no
    // padding (the fixed 64x64 canvas pads 32 rows); 128x40 -> 64x20 content in 64x32;
    // 64x64 -> the full 64x64.
    for (const [w, h, rows, pad] of [[128, 64, 32, 0], [128, 40, 20, 12], [64, 64, 64, 0]]) {
      vision.setFrame(rgbaFrame(w, h, RED), w, h);
      const regions = await vision.detect();
      assert.equal(regions.length, 3, `${w}x${h}: ${JSON.stringify(regions)}`);
      const scale = Math.min(64 / w, 64 / h);
      assertClose(regions[2].box, [16 / scale, 4 / scale, Math.min(32 / scale, w), Math.min(20 / scale, h)], 1e-3, `${w}x${h} box`);
      assert.ok(Math.abs(regions[2].score - redScore(rows, pad)) < 1e-4, `${w}x${h}: score ${regions[2].score}, expected ${redScore(rows, pad)}`);
    }
  } finally {
    await vision.close();
  }
  // The same model under a fixed-size manifest gets the padded square: the wide frame's score drops.
  const fixed = await createVision({ embedder: await embedder(), detector: await plug(bytes, { name: 'det-fixed', kind: 'yolo', size: 64,
    classNames: ['red', 'green'], input: { letterbox: true, pad_value: PAD } }) });
  try {
    fixed.setFrame(rgbaFrame(128, 64, RED), 128, 64);
    const regions = await fixed.detect();
    assert.ok(Math.abs(regions[2].score - redScore(32, 32)) < 1e-4, `fixed: score ${regions[2].score}`);
  } finally {
    await fixed.close();
  }
});

// input.max_pixels: the content is scaled down to at most that many pixels; boxes follow.
test('input.max_pixels: a square frame gets a smaller canvas, wide frames within the budget do not change', async () => {
  const bytes = tinyYoloDetector({ size: 64, box: [24, 12, 16, 16], dynamic: true });
  const detector = await plug(bytes, { name: 'det-budget', kind: 'yolo', size: 64, classNames: ['red', 'green'],
    input: { letterbox: true, pad_value: PAD, size_multiple: 16, max_pixels: 2048 } });
  const vision = await createVision({ embedder: await embedder(), detector });
  try {
    assert.equal(vision.detectorInfo.maxPixels, 2048);
    // [frame w, h, scale, canvas]: 64x64 -> content sqrt(2048) = 45.3 px square, 48x48 canvas
    // (preprocess fills it: scale 0.75); 128x64 -> 64x32 content = 2048 px, as without the budget.
    for (const [w, h, scale, canvas] of [[64, 64, 0.75, [48, 48]], [128, 64, 0.5, [64, 32]]]) {
      vision.setFrame(rgbaFrame(w, h, RED), w, h);
      const regions = await vision.detect();
      assert.deepEqual([vision.lastDetectorInput.width, vision.lastDetectorInput.height], canvas, `${w}x${h}`);
      assert.equal(regions.length, 3, `${w}x${h}: ${JSON.stringify(regions)}`);
      assertClose(regions[2].box, [16 / scale, 4 / scale, Math.min(32 / scale, w), Math.min(20 / scale, h)], 1e-3, `${w}x${h} box`);
    }
  } finally {
    await vision.close();
  }
  const bad = await plug(bytes, { name: 'det-bad-budget', kind: 'yolo', size: 64, classNames: ['red', 'green'],
    input: { letterbox: true, max_pixels: 2048 } });
  await assert.rejects(createVision({ embedder: await embedder(), detector: bad }),
    (e) => e instanceof ShopframeError && /field 'input.max_pixels': needs "size_multiple"/.test(e.message));
});

test('input.size_multiple must divide the input size', async () => {
  const bytes = tinyYoloDetector({ size: 64, box: [24, 12, 16, 16], dynamic: true });
  for (const [input, message] of [
    [{ size_multiple: 24 }, /field 'input.size_multiple': 24 does not divide the input size 64x64/],
    [{ letterbox: true, size_multiple: 24 }, /field 'input.size_multiple': 24 does not divide the input size 64x64/],
  ]) {
    const detector = await plug(bytes, { name: 'det-bad-fit', kind: 'yolo', size: 64, classNames: ['red', 'green'], input });
    await assert.rejects(createVision({ embedder: await embedder(), detector }), (e) => e instanceof ShopframeError && message.test(e.message));
  }
});

test('a YOLO detector whose class 0 is "person" marks its boxes as person_hint', async () => {
  const bytes = tinyYoloDetector({ size: 64, box: [24, 24, 16, 32] });
  const detector = await plug(bytes, { name: 'det-person', kind: 'yolo', size: 64, classNames: ['person', 'bag'] });
  const vision = await createVision({ embedder: await embedder(), detector });
  try {
    vision.setFrame(rgbaFrame(FRAME_W, FRAME_H, RED), FRAME_W, FRAME_H);
    const regions = await vision.detect();
    assert.equal(regions.length, 3);
    assert.equal(regions[2].kind, 'person_hint');
    assert.equal(regions[2].classId, 0);
    assertClose(regions[2].box, [32, 8, 64, 40], 1e-3, 'person box');
  } finally {
    await vision.close();
  }
});

// tinyCenterNetDetector (size 32, stride 4: an 8x8 heat grid): heat[0] of a cell is
// sigmoid(20 (mean red of its 4x4 model pixels - 0.5)); box = ((x + 0.5) * 4 -+ w*4/2, (y + 0.5) * 4 -+ h*4/2)
// with objectSize (w, h) = (4, 2) cells. A red rectangle covering exactly cell (x 3, y 2) = model
// pixels x 12..15, y 8..11 makes it the only peak: model box (14 -+ 8, 10 -+ 4) = (6, 6, 22, 14).
//   stretch 128x64 -> 32x32: sx = 0.25 (area averaging over 4 columns), sy = 0.5 (bilinear, rows
//     2o and 2o+1): the cell is frame x 48..63, y 16..23; box -> (6/0.25, 6/0.5, 22/0.25, 14/0.5) = (24, 12, 88, 28).
//   letterbox 128x64 -> 32x32: r = 0.25, content 32x16 at (0, 0), rows 16..31 padded with 0 (black:
//     no heat): the cell is frame x 48..63, y 32..47; box -> (6, 6, 22, 14) / 0.25 = (24, 24, 88, 56).
const CENTERNET_CASES = [
  { mode: 'stretch', input: {}, rect: [48, 16, 64, 24], frameBox: [24, 12, 88, 28] },
  { mode: 'letterbox', input: { letterbox: true, pad_value: 0 }, rect: [48, 32, 64, 48], frameBox: [24, 24, 88, 56] },
];

for (const c of CENTERNET_CASES) {
  test(`manifest-plugged CenterNet detector (${c.mode}): the red cell's box maps back to frame pixels; black frame: no detections`, async () => {
    const bytes = tinyCenterNetDetector({ size: 32, stride: 4, objectSize: [4, 2] });
    const detector = await plug(bytes, { name: `det-centernet-${c.mode}`, kind: 'centernet', size: 32, input: c.input });
    const vision = await createVision({ embedder: await embedder(), detector });
    try {
      assert.equal(vision.detectorInfo.kind, 'centernet');
      assert.deepEqual(vision.detectorInfo.outputs, ['heat', 'size', 'offset']);
      vision.setFrame(rgbaFrame(FRAME_W, FRAME_H, BLACK, c.rect, RED), FRAME_W, FRAME_H);
      const regions = await vision.detect();
      assert.equal(regions.length, 3, JSON.stringify(regions));
      assertFixedRegions(regions.slice(0, 2), FRAME_W, FRAME_H);
      assert.equal(regions[2].kind, 'detection');
      assert.equal(regions[2].classId, 0);  // no class names in the manifest: the id is still reported
      assert.equal(vision.className(0), null);
      assertClose(regions[2].box, c.frameBox, 1e-3, `CenterNet ${c.mode} frame box`);
      assert.ok(Math.abs(regions[2].score - sigmoid(10)) < 1e-4, `score ${regions[2].score}`);
      const embeddings = await vision.embed(regions.length);
      assert.equal(embeddings.length, 3);
      embeddings.forEach((e) => assert.equal(e.length, DIM));

      vision.setFrame(rgbaFrame(FRAME_W, FRAME_H, BLACK), FRAME_W, FRAME_H);
      assertFixedRegions(await vision.detect(), FRAME_W, FRAME_H);
    } finally {
      await vision.close();
    }
  });
}

// ------------------------------------------------------------------------------ errors

async function rejectsShopframe(fn, code, pattern) {
  await assert.rejects(fn, (e) => {
    assert.ok(e instanceof ShopframeError, `expected a ShopframeError, got ${e?.name}: ${e?.message}`);
    if (code) assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('errors: wrong-size RGBA, bad frame sizes, detect/embed before a frame', async () => {
  const vision = await createVision({ embedder: await embedder() });
  try {
    await rejectsShopframe(() => vision.detect(), 'invalid_argument', /frame size 0x0/);
    await rejectsShopframe(() => vision.embed(1), 'invalid_argument', /prepare_crops: 1 of 0 regions/);
    await rejectsShopframe(async () => vision.setFrame(new Uint8Array(10 * 10 * 3), 10, 10), 'invalid_argument',
      /expected 400 RGBA bytes for 10x10, got 300/);
    await rejectsShopframe(async () => vision.setFrame(null, 10, 10), 'invalid_argument', /expected 400 RGBA bytes/);
    await rejectsShopframe(async () => vision.setFrame(new Uint8Array(0), 0, 10), 'limit_exceeded', /frame 0x10 is outside/);
    await rejectsShopframe(async () => vision.setFrame(new Uint8Array(20000 * 4), 20000, 1), 'limit_exceeded', /frame 20000x1 is outside/);
    // A good frame still works afterwards.
    vision.setFrame(rgbaFrame(8, 8, RED), 8, 8);
    assertFixedRegions(await vision.detect(), 8, 8);
    assert.equal((await vision.embed(2)).length, 2);
  } finally {
    await vision.close();
  }
});

test('a rejected setFrame leaves the current frame untouched', {
}, async () => {
  const vision = await createVision({ embedder: await embedder() });
  try {
    vision.setFrame(rgbaFrame(20, 10, RED), 20, 10);
    assert.throws(() => vision.setFrame(new Uint8Array(5), 10, 10), ShopframeError);
    assert.equal(vision.frameWidth, 20);
    assert.equal(vision.frameHeight, 10);
  } finally {
    await vision.close();
  }
});

test('errors: closed vision pipeline', async () => {
  const vision = await createVision({ embedder: await embedder() });
  vision.setFrame(rgbaFrame(8, 8, RED), 8, 8);
  await vision.detect();
  await vision.close();
  await rejectsShopframe(async () => vision.setFrame(rgbaFrame(8, 8, RED), 8, 8), 'invalid_argument', /vision pipeline is closed/);
  await rejectsShopframe(() => vision.detect(), 'invalid_argument', /vision pipeline is closed/);
  await rejectsShopframe(() => vision.embed(1), 'invalid_argument', /vision pipeline is closed/);
  await rejectsShopframe(() => vision.embed(2), 'invalid_argument', /vision pipeline is closed/);
  await rejectsShopframe(async () => vision.decode(new Uint8Array(8)), 'invalid_argument', /vision pipeline is closed/);
  await rejectsShopframe(async () => vision.className(0), 'invalid_argument', /vision pipeline is closed/);
  await rejectsShopframe(async () => vision.frameWidth, 'invalid_argument', /vision pipeline is closed/);
});

test('closing a vision pipeline twice is harmless', {
}, async () => {
  const vision = await createVision({ embedder: await embedder() });
  await vision.close();
  await vision.close();
});

test('a detector manifest listing more outputs than its decoder reads fails cleanly (or works), never with a TypeError', {
}, async () => {
  const det = await plug(tinyYoloDetector({ size: 64 }), {
    name: 'det-4-outputs', kind: 'yolo', size: 64, extra: { outputs: ['output', 'output', 'output', 'output'] },
  });
  const vision = await createVision({ embedder: await embedder(), detector: det });
  try {
    vision.setFrame(rgbaFrame(8, 8, RED), 8, 8);
    try {
      const regions = await vision.detect();
      assert.ok(regions.length >= 2);
    } catch (e) {
      assert.ok(e instanceof ShopframeError, `${e.name}: ${e.message}`);
    }
  } finally {
    await vision.close();
  }
});

test('errors: wrong model kinds, missing bytes, bad manifests and bad ONNX bytes', async () => {
  const emb = await embedder();
  const yolo = await plug(tinyYoloDetector({ size: 64 }), { name: 'det-yolox-kind', kind: 'yolox', size: 64 });
  // A detector (kind yolox) passed as the embedder.
  await rejectsShopframe(() => createVision({ embedder: yolo }), 'invalid_argument', /kind is yolox, expected embedding/);
  // The same bytes with an embedding manifest relabelled as yolox.
  await rejectsShopframe(() => createVision({ embedder: { ...emb, manifest: { ...emb.manifest, kind: 'yolox' }, source: 'mine.json' } }),
    'invalid_argument', /mine\.json: kind is yolox, expected embedding/);
  // An embedder passed as the detector.
  await rejectsShopframe(() => createVision({ embedder: emb, detector: emb }), 'invalid_argument', /kind is embedding, expected a detector/);
  await rejectsShopframe(() => createVision({ embedder: { manifest: emb.manifest } }), 'invalid_argument', /embedder: expected \{ manifest, bytes \}/);
  await rejectsShopframe(() => createVision({}), 'invalid_argument', /embedder: expected \{ manifest, bytes \}/);
  await rejectsShopframe(() => createVision({ embedder: { manifest: '{"name":', bytes: emb.bytes, source: 'broken.json' } }),
    'parse_error', /broken\.json/);
  const { embedding_dim: _, ...noDim } = emb.manifest;
  await rejectsShopframe(() => createVision({ embedder: { manifest: noDim, bytes: emb.bytes } }), 'parse_error', /embedding_dim/);
  await rejectsShopframe(() => createVision({ embedder: { manifest: emb.manifest, bytes: new Uint8Array([1, 2, 3]) } }),
    'invalid_argument', /ONNX Runtime cannot load it/);
});

test('errors: a manifest that does not match its model fails at run time with a clear message', async () => {
  const emb = await embedder();
  // Output name not in the model.
  let vision = await createVision({ embedder: { ...emb, manifest: { ...emb.manifest, outputs: ['nope'] } } });
  try {
    vision.setFrame(rgbaFrame(8, 8, RED), 8, 8);
    await vision.detect();
    await rejectsShopframe(() => vision.embed(2), 'invalid_argument', /output 'nope'/);
  } finally {
    await vision.close();
  }
  // embedding_dim larger than what the model gives.
  vision = await createVision({ embedder: { ...emb, manifest: { ...emb.manifest, embedding_dim: 16 } } });
  try {
    vision.setFrame(rgbaFrame(8, 8, RED), 8, 8);
    await vision.detect();
    await rejectsShopframe(() => vision.embed(1), 'invalid_argument', /output 'vec' has 8 values, expected 1 x 16/);
  } finally {
    await vision.close();
  }
  // A detector output name not in the model.
  const det = await plug(tinyYoloDetector({ size: 64 }), { name: 'det-bad-output', kind: 'yolo', size: 64, extra: { outputs: ['boxes'] } });
  vision = await createVision({ embedder: emb, detector: det });
  try {
    vision.setFrame(rgbaFrame(8, 8, RED), 8, 8);
    await rejectsShopframe(() => vision.detect(), 'invalid_argument', /output 'boxes' missing from the model/);
  } finally {
    await vision.close();
  }
  // A YOLO manifest declaring 3 classes for a 2-class head: the decoder names the shape.
  const det3 = await plug(tinyYoloDetector({ size: 64 }), { name: 'det-3-classes', kind: 'yolo', size: 64, classNames: ['a', 'b', 'c'] });
  vision = await createVision({ embedder: emb, detector: det3 });
  try {
    vision.setFrame(rgbaFrame(8, 8, RED), 8, 8);
    await rejectsShopframe(() => vision.detect(), 'invalid_argument', /does not match layout/);
  } finally {
    await vision.close();
  }
});

test('a one-pass embedder ("pooling": "regions"): one run over the frame, every region pooled from its feature maps', async () => {
  const S = 16;
  const model = await plug(tinyFeatureMaps({ size: S }), {
    name: 'maps', size: S, extra: { outputs: ['coarse', 'fine'], pooling: 'regions', embedding_dim: 6 },
  });
  const vision = await createVision({ embedder: model });
  try {
    assert.equal(vision.embedderInfo.pooling, 'regions');
    // A frame of the model's size (no resampling; scale 1/255, mean 0, std 1): the tensor the model
    // sees is the frame's colours / 255, so every pooled value can be predicted.
    const bg = [40, 80, 120], fg = [200, 30, 60];
    const frame = rgbaFrame(S, S, bg, [4, 4, 12, 9], fg);
    vision.setFrame(frame, S, S);
    const regions = await vision.detect();
    assertFixedRegions(regions, S, S);
    const tensor = new Float32Array(3 * S * S);
    for (let i = 0; i < S * S; ++i) for (let c = 0; c < 3; ++c) tensor[c * S * S + i] = frame[i * 4 + c] / 255;
    const embeddings = await vision.embed(2);
    assert.equal(embeddings.length, 2);
    for (const [i, r] of regions.entries()) {
      const box = [r.box[0] / S, r.box[1] / S, r.box[2] / S, r.box[3] / S];
      assertClose(embeddings[i], tinyFeatureMapsReference(tensor, box, { size: S }), 1e-5, `region ${i} (${r.kind})`);
    }
    assert.ok(Math.abs(embeddings[0][3] - embeddings[1][3]) > 1e-3, 'the centre crop pools its own part of the maps');
    // A manifest naming fewer maps than the model has, or a wrong embedding_dim, fails clearly.
    const short = await createVision({ embedder: { ...model, manifest: { ...model.manifest, outputs: ['coarse'] } } });
    try {
      short.setFrame(frame, S, S);
      await short.detect();
      await rejectsShopframe(() => short.embed(2), 'invalid_argument', /3 channels in all, the output has 6/);
    } finally {
      await short.close();
    }
    // Outputs that cannot place regions are refused, not pooled into one vector for every box
    // (found in review): a model whose only output is already pooled (1x1) ...
    const tiny = await plug(tinyFeatureMaps({ size: 4 }), {
      name: 'pooled', size: 4, extra: { outputs: ['coarse'], pooling: 'regions', embedding_dim: 3 },
    });
    const pooled = await createVision({ embedder: tiny });
    try {
      pooled.setFrame(rgbaFrame(4, 4, bg, [1, 1, 3, 3], fg), 4, 4);
      await pooled.detect();
      await rejectsShopframe(() => pooled.embed(1), 'invalid_argument', /every output is 1x1/);
    } finally {
      await pooled.close();
    }
    // ... and a letterboxed input, whose maps would hold the padding (refused by the manifest parser).
    await rejectsShopframe(
      () => createVision({ embedder: { ...model, manifest: { ...model.manifest, input: { ...model.manifest.input, letterbox: true } } } }),
      'parse_error', /stretched input/);
  } finally {
    await vision.close();
  }
});

test('mapView: the one-pass feature map slots refuse sizes beyond 64 M values in all, and NaN', async () => {
  const { initCore } = await import('../../js/core.mjs');
  const core = await initCore();
  const raw = new core.Vision();
  try {
    const view = raw.mapView(0, 1000);
    assert.ok(view instanceof Float32Array);
    assert.equal(view.length, 1000);
    assert.equal(raw.mapView(1, 64e6 - 999), null, 'the slots together would exceed the cap');
    assert.equal(raw.mapView(1, 64e6 - 1000).length, 64e6 - 1000);
    assert.equal(raw.mapView(1, 0).length, 0);
    assert.equal(raw.mapView(0, 65e6), null);
    assert.equal(raw.mapView(0, NaN), null);
    assert.equal(raw.mapView(0, -1), null);
    assert.equal(raw.mapView(16, 10), null, 'at most 16 slots');
  } finally {
    raw.delete();
  }
});
