// The in-memory ONNX encoder (tests/js/lib/tiny_onnx.mjs): its protobuf bytes, and that
// onnxruntime-web runs each tiny model and computes exactly what the library documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as ort from 'onnxruntime-web';

import { readManifest, sha256 } from '../../js/models.mjs';
import {
  DataType, ProtoWriter, encodeTensor, solidImage, tinyCenterNetDetector, tinyCenterNetHeatReference, tinyEmbedder,
  tinyEmbedderReference, tinyYoloBoxes, tinyYoloDetector, tinyYoloReference, writeManifest,
} from './lib/tiny_onnx.mjs';

ort.env.wasm.numThreads = 1;  // no worker threads: deterministic and light on a shared CPU

async function run(bytes, input, dims) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, dims) });
    return { session, out };
  } finally {
    await session.release();
  }
}

// Values in [lo, lo + 0.4) for channel 0, 0.1 more per channel, so the channel means differ
// (~0.5, 0.6, 0.7) and the sigmoids are not saturated. mulberry32: small and seedable.
function randomImage(size, seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return solidImage(size, [0, 0, 0]).map((_, i) => 0.3 + 0.1 * Math.floor(i / (size * size)) + 0.4 * next());
}

function assertClose(actual, expected, tol, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; ++i) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

test('protobuf writer: varints, negative int64, floats and strings', () => {
  const hex = (w) => Buffer.from(w.finish()).toString('hex');
  assert.equal(hex(new ProtoWriter().varint(0)), '00');
  assert.equal(hex(new ProtoWriter().varint(300)), 'ac02');
  assert.equal(hex(new ProtoWriter().varint(-1)), 'ffffffffffffffffff01');  // 10 bytes, as protobuf int64
  assert.equal(hex(new ProtoWriter().int(1, 150)), '089601');
  assert.equal(hex(new ProtoWriter().string(2, 'hi')), '12026869');
  assert.equal(hex(new ProtoWriter().float(2, 1)), '150000803f');
  assert.equal(hex(new ProtoWriter().packedInt64(1, [1, 300])), '0a0301ac02');
  // TensorProto: dims [2] (packed), data_type FLOAT, float_data [1, 2] (packed), name "t".
  assert.equal(Buffer.from(encodeTensor({ name: 't', dims: [2], dataType: DataType.FLOAT, floats: [1, 2] })).toString('hex'),
    '0a0102' + '1001' + '2208' + '0000803f' + '00000040' + '420174');
});

test('tinyEmbedder matches its JS reference, NCHW and NHWC', async () => {
  const size = 16, dim = 12;
  const nchw = randomImage(size, 1);
  const { session, out } = await run(tinyEmbedder({ size, dim }), nchw, [1, 3, size, size]);
  assert.deepEqual(session.inputNames, ['pixels']);
  assert.deepEqual(session.outputNames, ['vec']);
  assert.deepEqual(out.vec.dims, [1, dim]);
  assertClose(out.vec.data, tinyEmbedderReference(nchw, { dim }), 1e-5, 'NCHW');

  // The same picture in NHWC order embeds the same.
  const nhwc = new Float32Array(nchw.length);
  for (let c = 0; c < 3; ++c) for (let p = 0; p < size * size; ++p) nhwc[p * 3 + c] = nchw[c * size * size + p];
  const r = await run(tinyEmbedder({ size, dim, layout: 'NHWC', inputName: 'x', outputName: 'y' }), nhwc, [1, size, size, 3]);
  assert.deepEqual(r.out.y.dims, [1, dim]);
  assertClose(r.out.y.data, out.vec.data, 1e-5, 'NHWC vs NCHW');
  assertClose(tinyEmbedderReference(nhwc, { dim, layout: 'NHWC' }), out.vec.data, 1e-5, 'NHWC reference');
});

test('tinyEmbedder: same mean colour, same embedding; other colours differ', async () => {
  const size = 8;
  const model = tinyEmbedder({ size });
  // Half white / half black has the same mean as solid grey 0.5.
  const halves = solidImage(size, [0, 0, 0]).map((_, i) => (i % 2 ? 1 : 0));
  const grey = (await run(model, solidImage(size, [0.5, 0.5, 0.5]), [1, 3, size, size])).out.vec.data;
  const mixed = (await run(model, halves, [1, 3, size, size])).out.vec.data;
  assertClose(mixed, grey, 1e-6, 'same mean colour');
  const red = (await run(model, solidImage(size, [1, 0, 0]), [1, 3, size, size])).out.vec.data;
  const black = (await run(model, solidImage(size, [0, 0, 0]), [1, 3, size, size])).out.vec.data;
  const dist = (a, b) => Math.hypot(...a.map((v, i) => v - b[i]));
  assert.ok(dist(red, grey) > 0.1, `red vs grey ${dist(red, grey)}`);
  assertClose(black, Float32Array.from({ length: 8 }, (_, j) => 0.01 * (j + 1)), 1e-7, 'black is the bias');
});

test('tinyYoloDetector: a red image lights anchor 0 and class 0; a black image nothing', async () => {
  const size = 64, box = [20, 24, 10, 12];
  const model = tinyYoloDetector({ size, box });
  const red = (await run(model, solidImage(size, [1, 0, 0]), [1, 3, size, size])).out.output;
  assert.deepEqual(red.dims, [1, 3, 7]);
  const row = (a) => Array.from(red.data.subarray(a * 7, (a + 1) * 7));
  assert.deepEqual(row(0).slice(0, 4), box);
  assert.ok(row(0)[4] > 0.9, `anchor 0 objectness ${row(0)[4]}`);
  assert.ok(row(0)[5] > 0.9 && row(0)[6] < 0.1, `classes ${row(0).slice(5)}`);
  for (const a of [1, 2]) {
    assert.deepEqual(row(a).slice(0, 4), tinyYoloBoxes({ size })[a]);
    assert.ok(row(a)[4] < 0.1, `anchor ${a} objectness ${row(a)[4]}`);
  }
  assert.deepEqual(tinyYoloBoxes({ size }).slice(1), [[16, 16, 16, 16], [48, 48, 16, 16]]);

  const black = (await run(model, solidImage(size, [0, 0, 0]), [1, 3, size, size])).out.output.data;
  for (let a = 0; a < 3; ++a) assert.ok(black[a * 7 + 4] < 0.1 && black[a * 7 + 5] < 0.1 && black[a * 7 + 6] < 0.1);
});

test('tinyYoloDetector matches its JS reference, both layouts', async () => {
  const size = 32, classes = 4;
  const image = randomImage(size, 7);
  for (const layout of ['yolo', 'yolov8']) {
    const opts = { size, classes, layout, gain: 8, inputName: 'in', outputName: 'det' };
    const { out } = await run(tinyYoloDetector(opts), image, [1, 3, size, size]);
    assert.deepEqual(out.det.dims, layout === 'yolo' ? [1, 3, 5 + classes] : [1, 4 + classes, 3]);
    assertClose(out.det.data, tinyYoloReference(image, opts), 1e-5, layout);
  }
});

test('tinyCenterNetDetector: heat follows a red square; size and offset are constant', async () => {
  const size = 32, stride = 4, H = 8;
  const image = solidImage(size, [0, 0, 0]);
  for (let y = 8; y < 16; ++y) for (let x = 4; x < 12; ++x) image[y * size + x] = 1;  // red, cells x 1..2, y 2..3
  const { session, out } = await run(tinyCenterNetDetector({ size, stride }), image, [1, 3, size, size]);
  assert.deepEqual(session.outputNames, ['heat', 'size', 'offset']);
  assert.deepEqual(out.heat.dims, [1, 2, H, H]);
  assertClose(out.heat.data, tinyCenterNetHeatReference(image, { size, stride }), 1e-5, 'heat');
  const inside = (x, y) => x >= 1 && x <= 2 && y >= 2 && y <= 3;
  for (let y = 0; y < H; ++y) {
    for (let x = 0; x < H; ++x) {
      assert.equal(out.heat.data[y * H + x] > 0.9, inside(x, y), `class 0 cell ${x},${y}`);
      assert.ok(out.heat.data[H * H + y * H + x] < 0.1, `class 1 cell ${x},${y}`);
    }
  }
  assert.deepEqual(out.size.dims, [1, 2, H, H]);
  assert.ok(out.size.data.every((v) => v === 2));
  assert.ok(out.offset.data.every((v) => v === 0.5));
});

test('writeManifest writes the model and a manifest models.mjs accepts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sf-tiny-'));
  try {
    const bytes = tinyYoloDetector({ size: 64, classes: 2 });
    const { modelPath, manifestPath, manifest } = await writeManifest(dir, {
      bytes, name: 'tiny-yolo', kind: 'yolo', size: 64, classNames: ['red', 'green'], sourceUrl: 'http://127.0.0.1:1/x.onnx',
    });
    assert.deepEqual(new Uint8Array(await readFile(modelPath)), bytes);
    const read = await readManifest(manifestPath);
    assert.deepEqual(read.manifest, manifest);
    assert.equal(manifest.sha256, sha256(bytes));
    assert.equal(manifest.file, 'tiny-yolo.onnx');
    assert.deepEqual(manifest.input, {
      name: 'images', width: 64, height: 64, layout: 'NCHW', color: 'RGB', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1],
    });
    assert.deepEqual(manifest.outputs, ['output']);
    assert.equal(manifest.source_url, 'http://127.0.0.1:1/x.onnx');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
