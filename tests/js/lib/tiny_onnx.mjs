// Tiny ONNX models built in memory, so tests need no downloaded weights and no Python.
//
//   const bytes = tinyEmbedder({ size: 32, dim: 8 });            // Uint8Array, an ONNX ModelProto
//   const session = await ort.InferenceSession.create(bytes);
//
// A minimal protobuf wire-format writer plus encoders for the few ONNX messages a graph needs
// (field numbers from onnx.proto), then three model makers whose outputs are documented exactly
// and have pure-JS references, so tests can predict what any runtime must compute:
//
//   tinyEmbedder          [1,3,S,S] (or [1,S,S,3]) -> [1,dim]: affine map of the channel means
//   tinyYoloDetector      [1,3,S,S] -> [1,3,5+C] decoded YOLO rows (or [1,4+C,3], YOLOv8 layout)
//   tinyCenterNetDetector [1,3,S,S] -> heat [1,C,S/st,S/st], size and offset [1,2,S/st,S/st]
//   tinyFeatureMaps       [1,3,S,S] -> feature maps [1,3,S/4,S/4] and [1,3,S,S] (pooling "regions")
//
// All inputs are float32 tensors meant to hold pixel / 255 (writeManifest says scale 1/255).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { sha256 } from '../../../js/models.mjs';

// ---------------------------------------------------------------- protobuf wire format

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** Appends protobuf fields to a growing byte list; finish() returns the Uint8Array. */
export class ProtoWriter {
  #bytes = [];

  /** Unsigned LEB128; negative int64 values are written as 10-byte two's complement, as protobuf does. */
  varint(value) {
    let n = BigInt.asUintN(64, BigInt(value));
    do {
      const low = Number(n & 0x7fn);
      n >>= 7n;
      this.#bytes.push(n ? low | 0x80 : low);
    } while (n);
    return this;
  }

  tag(field, wire) { return this.varint((field << 3) | wire); }

  /** int32/int64/enum/bool field; undefined is skipped (proto2 "not set"). */
  int(field, value) { return value === undefined ? this : this.tag(field, WIRE_VARINT).varint(value); }

  float(field, value) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.tag(field, WIRE_I32);
    this.#bytes.push(...b);
    return this;
  }

  bytes(field, data) {
    this.tag(field, WIRE_LEN).varint(data.length);
    for (const b of data) this.#bytes.push(b);
    return this;
  }

  string(field, text) { return text === undefined ? this : this.bytes(field, new TextEncoder().encode(text)); }

  /** Repeated float as one packed length-delimited field. */
  packedFloats(field, values) { return this.bytes(field, floatBytes(values)); }

  /** Repeated int64 as one packed length-delimited field of varints. */
  packedInt64(field, values) {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  finish() { return Uint8Array.from(this.#bytes); }
}

function floatBytes(values) {
  const b = new Uint8Array(values.length * 4);
  const view = new DataView(b.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return b;
}

// ---------------------------------------------------------------- ONNX messages

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 };

/** AttributeProto.AttributeType values. */
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 };

/**
 * TensorProto. Give `floats` (float_data, packed), `int64s` (int64_data, packed) or `raw`
 * (raw_data bytes, little-endian).
 */
export function encodeTensor({ name, dims, dataType = DataType.FLOAT, floats, int64s, raw }) {
  const w = new ProtoWriter();
  if (dims.length) w.packedInt64(1, dims);
  w.int(2, dataType);
  if (floats) w.packedFloats(4, floats);
  if (int64s) w.packedInt64(7, int64s);
  w.string(8, name);
  if (raw) w.bytes(9, raw);
  return w.finish();
}

/** Attribute values for node(): attr.ints('axes', [2, 3]) etc.; the type is explicit, not guessed. */
export const attr = {
  float: (name, value) => ({ name, type: AttrType.FLOAT, value }),
  int: (name, value) => ({ name, type: AttrType.INT, value }),
  string: (name, value) => ({ name, type: AttrType.STRING, value }),
  tensor: (name, value) => ({ name, type: AttrType.TENSOR, value }),  // value: encodeTensor() bytes
  floats: (name, value) => ({ name, type: AttrType.FLOATS, value }),
  ints: (name, value) => ({ name, type: AttrType.INTS, value }),
};

export function encodeAttribute({ name, type, value }) {
  const w = new ProtoWriter().string(1, name);
  switch (type) {
    case AttrType.FLOAT: w.float(2, value); break;
    case AttrType.INT: w.int(3, value); break;
    case AttrType.STRING: w.string(4, value); break;
    case AttrType.TENSOR: w.bytes(5, value); break;
    case AttrType.FLOATS: w.packedFloats(7, value); break;
    case AttrType.INTS: w.packedInt64(8, value); break;
    default: throw new Error(`attribute ${name}: unknown type ${type}`);
  }
  return w.int(20, type).finish();
}

/** NodeProto from a node() description; the name defaults to <op>_<first output>. */
export function encodeNode({ opType, inputs, outputs, attributes = [], name, domain }) {
  const w = new ProtoWriter();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(3, name ?? `${opType}_${outputs[0]}`);
  w.string(4, opType);
  for (const a of attributes) w.bytes(5, encodeAttribute(a));
  w.string(7, domain);
  return w.finish();
}

/** node('Concat', ['a', 'b'], ['c'], [attr.int('axis', 1)]) */
export const node = (opType, inputs, outputs, attributes = []) => ({ opType, inputs, outputs, attributes });

/** ValueInfoProto of a tensor; shape entries are numbers (dim_value) or strings (dim_param). */
export function encodeValueInfo({ name, elemType = DataType.FLOAT, shape }) {
  const shapeW = new ProtoWriter();
  for (const d of shape) {
    const dim = typeof d === 'string' ? new ProtoWriter().string(2, d) : new ProtoWriter().int(1, d);
    shapeW.bytes(1, dim.finish());
  }
  const tensorType = new ProtoWriter().int(1, elemType).bytes(2, shapeW.finish());
  const typeProto = new ProtoWriter().bytes(1, tensorType.finish());
  return new ProtoWriter().string(1, name).bytes(2, typeProto.finish()).finish();
}

/** GraphProto; initializers are encodeTensor() arguments, inputs/outputs encodeValueInfo() ones. */
export function encodeGraph({ name = 'tiny', nodes, initializers = [], inputs, outputs }) {
  const w = new ProtoWriter();
  for (const n of nodes) w.bytes(1, encodeNode(n));
  w.string(2, name);
  for (const t of initializers) w.bytes(5, encodeTensor(t));
  for (const i of inputs) w.bytes(11, encodeValueInfo(i));
  for (const o of outputs) w.bytes(12, encodeValueInfo(o));
  return w.finish();
}

/** ModelProto with IR version 7 and the default-domain opset 13. */
export function encodeModel({ graph, irVersion = 7, opset = 13, producer = 'shopframe-tests' }) {
  const opsetId = new ProtoWriter().string(1, '').int(2, opset).finish();
  return new ProtoWriter()
    .int(1, irVersion)
    .string(2, producer)
    .bytes(7, encodeGraph(graph))
    .bytes(8, opsetId)
    .finish();
}

const sigmoid = (x) => 1 / (1 + Math.exp(-x));
const floatInit = (name, dims, floats) => ({ name, dims, dataType: DataType.FLOAT, floats });
const int64Init = (name, values) => ({ name, dims: [values.length], dataType: DataType.INT64, int64s: values });

/** Per-channel means of a [1,3,H,W] (NCHW) or [1,H,W,3] (NHWC) float tensor, in float64. */
export function channelMeans(tensor, layout = 'NCHW') {
  const sums = [0, 0, 0];
  const n = tensor.length / 3;
  for (let i = 0; i < tensor.length; ++i) sums[layout === 'NHWC' ? i % 3 : Math.floor(i / n)] += tensor[i];
  return sums.map((s) => s / n);
}

// ---------------------------------------------------------------- tiny embedder

/**
 * Weights of tinyEmbedder, stored as float32:
 *   W[c][j] = sin(1.3 * (c + 1) * (j + 1))   (row-major [3, dim]; rank 3 for dim >= 3)
 *   B[j]    = 0.01 * (j + 1)                  (so a black image still has a non-zero embedding)
 */
export function tinyEmbedderWeights(dim) {
  const W = new Float32Array(3 * dim);
  for (let c = 0; c < 3; ++c) for (let j = 0; j < dim; ++j) W[c * dim + j] = Math.sin(1.3 * (c + 1) * (j + 1));
  const B = Float32Array.from({ length: dim }, (_, j) => 0.01 * (j + 1));
  return { W, B };
}

/**
 * Embedding model: input `inputName` float32 [1,3,size,size] (NCHW) or [1,size,size,3] (NHWC);
 * output `outputName` float32 [1,dim] = means @ W + B, where means = the 3 channel means
 * (ReduceMean over the spatial axes, keepdims 0) and W, B are tinyEmbedderWeights(dim).
 * Only the mean colour matters: equal mean colours give equal embeddings, different ones
 * different embeddings. Graph: ReduceMean -> MatMul -> Add.
 */
export function tinyEmbedder({ size = 32, dim = 8, inputName = 'pixels', outputName = 'vec', layout = 'NCHW' } = {}) {
  const nhwc = layout === 'NHWC';
  const { W, B } = tinyEmbedderWeights(dim);
  return encodeModel({
    graph: {
      name: 'tiny_embedder',
      nodes: [
        node('ReduceMean', [inputName], ['means'], [attr.ints('axes', nhwc ? [1, 2] : [2, 3]), attr.int('keepdims', 0)]),
        node('MatMul', ['means', 'W'], ['projected']),
        node('Add', ['projected', 'B'], [outputName]),
      ],
      initializers: [floatInit('W', [3, dim], W), floatInit('B', [dim], B)],
      inputs: [{ name: inputName, shape: nhwc ? [1, size, size, 3] : [1, 3, size, size] }],
      outputs: [{ name: outputName, shape: [1, dim] }],
    },
  });
}

/**
 * A one-pass "embedder" whose outputs are feature maps (manifest "pooling": "regions"):
 * [1,3,S,S] -> 'coarse' [1,3,S/4,S/4] (4x4 average pooling) and 'fine' [1,3,S,S] (the input).
 * A region's pooled embedding (6-d) is then its mean colour over each map, L2-normalised per map:
 * tinyFeatureMapsReference.
 */
export function tinyFeatureMaps({ size = 16, inputName = 'pixels' } = {}) {
  return encodeModel({
    graph: {
      name: 'tiny_feature_maps',
      nodes: [
        node('AveragePool', [inputName], ['coarse'], [attr.ints('kernel_shape', [4, 4]), attr.ints('strides', [4, 4])]),
        node('Identity', [inputName], ['fine']),
      ],
      inputs: [{ name: inputName, shape: [1, 3, size, size] }],
      outputs: [{ name: 'coarse', shape: [1, 3, size / 4, size / 4] }, { name: 'fine', shape: [1, 3, size, size] }],
    },
  });
}

/**
 * What the core pools from tinyFeatureMaps for a region: `tensor` is the model's [1,3,S,S] input
 * (NCHW), `box` [x0, y0, x1, y1] in fractions of the frame. Each cell is weighted by the area it
 * shares with the box (two-dimensional overlap, float64). Returns a plain array of 6 numbers.
 */
export function tinyFeatureMapsReference(tensor, box, { size = 16 } = {}) {
  const plane = size * size;
  const coarse = new Float64Array(3 * (size / 4) ** 2);
  const q = size / 4;
  for (let c = 0; c < 3; ++c) for (let y = 0; y < size; ++y) for (let x = 0; x < size; ++x) {
    coarse[(c * q + Math.floor(y / 4)) * q + Math.floor(x / 4)] += tensor[c * plane + y * size + x] / 16;
  }
  const pool = (data, n) => {
    const v = [0, 0, 0];
    let area = 0;
    for (let y = 0; y < n; ++y) for (let x = 0; x < n; ++x) {
      const ox = Math.min(box[2] * n, x + 1) - Math.max(box[0] * n, x);
      const oy = Math.min(box[3] * n, y + 1) - Math.max(box[1] * n, y);
      if (ox <= 0 || oy <= 0) continue;
      area += ox * oy;
      for (let c = 0; c < 3; ++c) v[c] += ox * oy * data[(c * n + y) * n + x];
    }
    const norm = Math.hypot(...v.map((e) => e / area));
    return v.map((e) => e / area / norm);
  };
  return [...pool(coarse, q), ...pool(tensor, size)];
}

/** What tinyEmbedder computes, in JS: Float32Array(dim). opts: { dim = 8, layout = 'NCHW' }. */
export function tinyEmbedderReference(tensor, { dim = 8, layout = 'NCHW' } = {}) {
  const means = channelMeans(tensor, layout);
  const { W, B } = tinyEmbedderWeights(dim);
  return Float32Array.from({ length: dim }, (_, j) => B[j] + means.reduce((s, m, c) => s + m * W[c * dim + j], 0));
}

// ---------------------------------------------------------------- tiny YOLO detector

export const YOLO_ANCHORS = 3;

/**
 * The 3 fixed boxes (cx, cy, w, h in input pixels) of tinyYoloDetector:
 *   anchor 0: `box` (default [size/2, size/2, size/2, size/2]),
 *   anchor 1: [size/4, size/4, size/4, size/4],  anchor 2: [3*size/4, 3*size/4, size/4, size/4].
 */
export function tinyYoloBoxes({ size = 64, box } = {}) {
  const q = size / 4;
  return [box ?? [size / 2, size / 2, size / 2, size / 2], [q, q, q, q], [3 * q, 3 * q, q, q]];
}

/**
 * Detector with an already-decoded YOLO head. Input `inputName` float32 [1,3,size,size] (values
 * pixel/255). With m = the 3 channel means and g = `gain` (default 20):
 *   objectness[a] = sigmoid(g * (m[a] - 0.5))     anchor a answers to channel a (R, G, B)
 *   class[c]      = sigmoid(g * (m[c % 3] - 0.5)) the same for every anchor
 *   box[a]        = tinyYoloBoxes(opts)[a], fixed
 * dynamic: the input's height and width are free (the means are over whatever it gets).
 * layout 'yolo' (default): output [1, 3, 4+1+classes], rows cx, cy, w, h, objectness, classes.
 * layout 'yolov8': output [1, 4+classes, 3] (transposed, no objectness), rows cx, cy, w, h,
 *   then class[c] * objectness[a].
 * So an all-red image (1, 0, 0) gives anchor 0 objectness and class 0 score sigmoid(10) > 0.9999
 * with box `box`, anchors 1-2 and class 1 sigmoid(-10) < 1e-4; a black image gives all < 1e-4.
 * Graph: ReduceMean -> MatMul/Add -> Sigmoid -> Reshape/Expand -> Concat (-> Mul, Transpose).
 */
export function tinyYoloDetector({ size = 64, classes = 2, box, gain = 20, inputName = 'images', outputName = 'output', layout = 'yolo', dynamic = false } = {}) {
  const A = YOLO_ANCHORS;
  const boxes = tinyYoloBoxes({ size, box }).flat();
  const select = (cols) => {  // [3, cols] with g where channel == col % 3
    const w = new Float32Array(3 * cols);
    for (let j = 0; j < cols; ++j) w[(j % 3) * cols + j] = gain;
    return w;
  };
  const v8 = layout === 'yolov8';
  const nodes = [
    node('ReduceMean', [inputName], ['means'], [attr.ints('axes', [2, 3]), attr.int('keepdims', 0)]),
    node('MatMul', ['means', 'obj_w'], ['obj_mm']),
    node('Add', ['obj_mm', 'obj_b'], ['obj_logit']),
    node('Sigmoid', ['obj_logit'], ['obj_flat']),
    node('Reshape', ['obj_flat', 'obj_shape'], ['obj']),          // [1, A, 1]
    node('MatMul', ['means', 'cls_w'], ['cls_mm']),
    node('Add', ['cls_mm', 'cls_b'], ['cls_logit']),
    node('Sigmoid', ['cls_logit'], ['cls_flat']),
    node('Reshape', ['cls_flat', 'cls_shape'], ['cls_row']),      // [1, 1, C]
    node('Expand', ['cls_row', 'cls_expand'], ['cls']),           // [1, A, C]
    ...(v8
      ? [node('Mul', ['cls', 'obj'], ['scores']),
        node('Concat', ['boxes', 'scores'], ['rows'], [attr.int('axis', 2)]),
        node('Transpose', ['rows'], [outputName], [attr.ints('perm', [0, 2, 1])])]
      : [node('Concat', ['boxes', 'obj', 'cls'], [outputName], [attr.int('axis', 2)])]),
  ];
  return encodeModel({
    graph: {
      name: 'tiny_yolo',
      nodes,
      initializers: [
        floatInit('boxes', [1, A, 4], boxes),
        floatInit('obj_w', [3, A], select(A)),
        floatInit('obj_b', [A], new Array(A).fill(-gain / 2)),
        int64Init('obj_shape', [1, A, 1]),
        floatInit('cls_w', [3, classes], select(classes)),
        floatInit('cls_b', [classes], new Array(classes).fill(-gain / 2)),
        int64Init('cls_shape', [1, 1, classes]),
        int64Init('cls_expand', [1, A, classes]),
      ],
      inputs: [{ name: inputName, shape: dynamic ? [1, 3, 'height', 'width'] : [1, 3, size, size] }],
      outputs: [{ name: outputName, shape: v8 ? [1, 4 + classes, A] : [1, A, 5 + classes] }],
    },
  });
}

/** What tinyYoloDetector computes, in JS: a Float32Array in the output's row-major layout. */
export function tinyYoloReference(tensor, { size = 64, classes = 2, box, gain = 20, layout = 'yolo' } = {}) {
  const m = channelMeans(tensor);
  const boxes = tinyYoloBoxes({ size, box });
  const obj = boxes.map((_, a) => sigmoid(gain * (m[a] - 0.5)));
  const cls = Array.from({ length: classes }, (_, c) => sigmoid(gain * (m[c % 3] - 0.5)));
  const rows = boxes.map((b, a) => (layout === 'yolov8' ? [...b, ...cls.map((s) => s * obj[a])] : [...b, obj[a], ...cls]));
  if (layout !== 'yolov8') return Float32Array.from(rows.flat());
  return Float32Array.from({ length: rows.length * rows[0].length }, (_, i) => rows[i % rows.length][Math.floor(i / rows.length)]);
}

// ---------------------------------------------------------------- tiny CenterNet detector

/**
 * CenterNet-style detector. Input `inputName` float32 [1,3,size,size] (values pixel/255), size a
 * multiple of `stride` (default 4); H = W = size / stride. Outputs, in this order:
 *   'heat'   [1, classes, H, W]: sigmoid(gain * (p[c % 3][y][x] - 0.5)), p = AveragePool of the
 *            input over stride x stride cells (so class c lights up where channel c % 3 is bright)
 *   'size'   [1, 2, H, W]: `objectSize` (w, h in output cells, default [2, 2]) everywhere
 *   'offset' [1, 2, H, W]: 0.5, 0.5 everywhere (box centres in the middle of a cell)
 * So a red square covering cells (x0..x1, y0..y1) makes heat[0] ~1 there and ~0 elsewhere.
 * Graph: AveragePool -> Conv 1x1 -> Sigmoid; size/offset are Identity of initializers.
 */
export function tinyCenterNetDetector({ size = 32, stride = 4, classes = 2, gain = 20, objectSize = [2, 2], inputName = 'images' } = {}) {
  if (size % stride) throw new Error(`tinyCenterNetDetector: size ${size} is not a multiple of stride ${stride}`);
  const H = size / stride;
  const convW = new Float32Array(classes * 3);
  for (let c = 0; c < classes; ++c) convW[c * 3 + (c % 3)] = gain;
  const fill = (a, b) => [...new Array(H * H).fill(a), ...new Array(H * H).fill(b)];
  return encodeModel({
    graph: {
      name: 'tiny_centernet',
      nodes: [
        node('AveragePool', [inputName], ['pooled'], [attr.ints('kernel_shape', [stride, stride]), attr.ints('strides', [stride, stride])]),
        node('Conv', ['pooled', 'conv_w', 'conv_b'], ['heat_logit']),
        node('Sigmoid', ['heat_logit'], ['heat']),
        node('Identity', ['size_const'], ['size']),
        node('Identity', ['offset_const'], ['offset']),
      ],
      initializers: [
        floatInit('conv_w', [classes, 3, 1, 1], convW),
        floatInit('conv_b', [classes], new Array(classes).fill(-gain / 2)),
        floatInit('size_const', [1, 2, H, H], fill(...objectSize)),
        floatInit('offset_const', [1, 2, H, H], fill(0.5, 0.5)),
      ],
      inputs: [{ name: inputName, shape: [1, 3, size, size] }],
      outputs: [
        { name: 'heat', shape: [1, classes, H, H] },
        { name: 'size', shape: [1, 2, H, H] },
        { name: 'offset', shape: [1, 2, H, H] },
      ],
    },
  });
}

/** What tinyCenterNetDetector's 'heat' output is, in JS: Float32Array [classes * H * W]. */
export function tinyCenterNetHeatReference(tensor, { size = 32, stride = 4, classes = 2, gain = 20 } = {}) {
  const H = size / stride;
  const heat = new Float32Array(classes * H * H);
  for (let c = 0; c < classes; ++c) {
    const ch = tensor.subarray((c % 3) * size * size, (c % 3 + 1) * size * size);
    for (let y = 0; y < H; ++y) {
      for (let x = 0; x < H; ++x) {
        let s = 0;
        for (let dy = 0; dy < stride; ++dy) for (let dx = 0; dx < stride; ++dx) s += ch[(y * stride + dy) * size + x * stride + dx];
        heat[(c * H + y) * H + x] = sigmoid(gain * (s / (stride * stride) - 0.5));
      }
    }
  }
  return heat;
}

// ---------------------------------------------------------------- test images and manifests

/** A [1,3,h,w] NCHW (or [1,h,w,3] NHWC) float tensor filled with one colour, channels in 0..1. */
export function solidImage(size, [r, g, b], layout = 'NCHW') {
  const t = new Float32Array(3 * size * size);
  const n = size * size;
  for (let i = 0; i < n; ++i) {
    if (layout === 'NHWC') t.set([r, g, b], i * 3);
    else { t[i] = r; t[n + i] = g; t[2 * n + i] = b; }
  }
  return t;
}

const MANIFEST_DEFAULTS = {
  embedding: { outputs: ['vec'], input: 'pixels' },
  yolo: { outputs: ['output'], input: 'images' },
  yolov8: { outputs: ['output'], input: 'images' },
  centernet: { outputs: ['heat', 'size', 'offset'], input: 'images' },
};

/**
 * Writes `bytes` as dir/file and a shopframe manifest as dir/<name>.json (format: the comment at the
 * top of src/model/manifest.h), with the file's sha256. Returns { modelPath, manifestPath, manifest }.
 * Options: bytes (the model), name, file (default <name>.onnx), kind ('embedding' | 'yolo' | 'yolov8' |
 * 'centernet' | 'yolox'), size, layout, inputName and outputs (default: the tiny models' names),
 * embeddingDim (default 8), classNames, sourceUrl, and `extra` fields merged last.
 */
export async function writeManifest(dir, { bytes, name = 'tiny', file = `${name}.onnx`, kind = 'embedding', size = 32, layout = 'NCHW',
  inputName, outputs, embeddingDim, classNames, sourceUrl, extra = {} }) {
  const defaults = MANIFEST_DEFAULTS[kind] ?? MANIFEST_DEFAULTS.yolo;
  const manifest = {
    manifest_version: 1,
    name,
    file,
    sha256: sha256(bytes),
    licence: 'MIT',
    ...(sourceUrl ? { source_url: sourceUrl } : {}),
    notes: 'Generated by tests/js/lib/tiny_onnx.mjs',
    input: { name: inputName ?? defaults.input, width: size, height: size, layout, color: 'RGB', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] },
    outputs: outputs ?? defaults.outputs,
    kind,
    ...(kind === 'embedding' ? { embedding_dim: embeddingDim ?? 8 } : {}),
    ...(classNames ? { class_names: classNames } : {}),
    ...(kind === 'centernet' ? { output_stride: 4 } : {}),
    ...extra,
  };
  const modelPath = join(dir, file);
  const manifestPath = join(dir, `${name}.json`);
  await mkdir(dirname(modelPath), { recursive: true });
  await writeFile(modelPath, bytes);
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { modelPath, manifestPath, manifest };
}
