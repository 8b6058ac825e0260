// The vision pipeline around ONNX Runtime Web: the WASM core prepares every tensor and
// decodes every output; ORT runs the models. Works in node, browsers and workers.
//
//   const vision = await createVision({ embedder: { manifest, bytes }, detector: { manifest, bytes } });
//   vision.setFrame(rgba, width, height);        // or await vision.decode(jpegBytes)
//   const regions = await vision.detect();       // full frame, centre crop, proposals
//   const embeddings = await vision.embed(regions.length);
import * as ort from 'onnxruntime-web';

import { allocBuffer, initCore, throwCoreError, ShopframeError } from './core.mjs';

let ortConfigured = false;
function configureOrt(options) {
  if (ortConfigured) return;
  ortConfigured = true;
  // One thread unless asked: predictable latency and no SharedArrayBuffer (cross-origin
  // isolation) requirement. ORT reads this once per JS realm, when its wasm starts.
  ort.env.wasm.numThreads = options.numThreads ?? 1;
  if (options.ortWasmPaths) ort.env.wasm.wasmPaths = options.ortWasmPaths;
}

async function createSession(model, what) {
  try {
    return await ort.InferenceSession.create(model.bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  } catch (e) {
    throw new ShopframeError('invalid_argument', `${what} model ${model.source ?? '(bytes)'}: ONNX Runtime cannot load it: ${e.message}`);
  }
}

function manifestText(model, what) {
  if (!model || !model.bytes) throw new ShopframeError('invalid_argument', `${what}: expected { manifest, bytes }`);
  return typeof model.manifest === 'string' ? model.manifest : JSON.stringify(model.manifest);
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class Vision {
  #core; #raw; #embedder; #detector; #embInfo; #detInfo; #batch = true;
  #proposed = null;  // { width, height, regions, maxRegions } of the last detector run, for reuse
  /** Milliseconds spent preparing model inputs (resize, normalise, crop) since the last reset. */
  preprocessMs = 0;
  /** Whether the last detect() reused the previous detector run's regions (no detector run). */
  lastDetectReused = false;
  /** { width, height } of the detector's last input tensor (fitted to the frame with input.size_multiple). */
  lastDetectorInput = null;

  constructor(core, raw, embedderSession, detectorSession) {
    this.#core = core;
    this.#raw = raw;
    this.#embedder = embedderSession;
    this.#detector = detectorSession;
    this.#embInfo = raw.embedderInfo();
    this.#detInfo = raw.detectorInfo();
  }

  get embedderInfo() { return this.#embInfo; }
  get detectorInfo() { return this.#detInfo; }
  get embeddingDim() { return this.#embInfo.embeddingDim; }
  /** The detector's name for class `i` (e.g. COCO "person"), or null. */
  className(i) { return this.#live().className(i); }

  /** Copies an RGBA frame (tight rows) into WASM memory. */
  setFrame(rgba, width, height) {
    const raw = this.#live();
    if (!rgba || rgba.length !== width * height * 4) {
      throw new ShopframeError('invalid_argument', `frame: expected ${width * height * 4} RGBA bytes for ${width}x${height}, got ${rgba?.length}`);
    }
    const view = raw.frameView(width, height);
    if (view === null) throwCoreError(raw);
    view.set(rgba);
  }

  /**
   * The frame's RGBA bytes (tight rows) in WASM memory, to fill in place: a caller that can
   * write pixels straight into it (WebCodecs VideoFrame.copyTo) saves a copy. Valid until the
   * next call into the pipeline.
   */
  frameView(width, height) {
    const raw = this.#live();
    const view = raw.frameView(width, height);
    if (view === null) throwCoreError(raw);
    return view;
  }

  /** Decodes JPEG or PNG bytes into the frame; returns { width, height }. */
  decode(bytes, source = 'image') {
    const raw = this.#live();
    const buf = allocBuffer(this.#core, bytes.length, source);
    try {
      buf.view().set(bytes);
      if (!raw.decodeImage(buf, source)) throwCoreError(raw);
    } finally {
      buf.delete();
    }
    return { width: raw.frameWidth(), height: raw.frameHeight() };
  }

  get frameWidth() { return this.#live().frameWidth(); }
  get frameHeight() { return this.#live().frameHeight(); }

  /**
   * Regions to embed: the full frame, the centre crop, then detector proposals, up to
   * maxRegions. Without a detector, the first two only. reuse: skip the detector and return
   * the last run's regions when the frame has the same size (and maxRegions) as then.
   */
  async detect({ maxRegions = 4, scoreThreshold = 0.25, iouThreshold = 0.45, reuse = false } = {}) {
    const raw = this.#live();
    if (!this.#detector) {
      if (raw.fixedRegions() < 0) throwCoreError(raw);
      return raw.regions();
    }
    // The previous detector run's regions (boxes in frame pixels), for a frame of the same size:
    // video samples a fraction of a second apart mostly show the same objects, and the
    // detector is a third of a frame's cost. The core still holds them (nothing else sets them).
    const p = this.#proposed;
    if (reuse && p && p.width === raw.frameWidth() && p.height === raw.frameHeight() && p.maxRegions === maxRegions) {
      this.lastDetectReused = true;
      return p.regions.map((r) => ({ ...r, box: r.box.slice() }));
    }
    this.lastDetectReused = false;
    this.#proposed = null;
    const tPrep = now();
    const input = raw.prepareDetector();
    this.preprocessMs += now() - tPrep;
    if (input === null) throwCoreError(raw);
    const info = this.#detInfo;
    // The manifest's size, or (input.size_multiple) the frame's aspect fitted by the core.
    const w = raw.detectorInputWidth(), h = raw.detectorInputHeight();
    const dims = info.layout === 'NHWC' ? [1, h, w, 3] : [1, 3, h, w];
    this.lastDetectorInput = { width: w, height: h };
    const out = await this.#detector.run({ [info.inputName]: new ort.Tensor('float32', input, dims) });
    const shapes = [];
    info.outputs.slice(0, info.kind === 'centernet' ? 3 : 1).forEach((name, slot) => {
      const t = out[name];
      if (!t) throw new ShopframeError('invalid_argument', `detector ${info.name}: output '${name}' missing from the model`);
      const view = raw.outputView(slot, t.data.length);
      view.set(t.data);
      shapes.push(t.dims.map(Number));
    });
    if (raw.decodeDetections(shapes, scoreThreshold, iouThreshold, maxRegions) < 0) throwCoreError(raw);
    const regions = raw.regions();
    this.#proposed = { width: raw.frameWidth(), height: raw.frameHeight(), maxRegions, regions };
    return regions.map((r) => ({ ...r, box: r.box.slice() }));
  }

  /** Embeddings (raw model features, Float32Array each) of regions [0, count). */
  async embed(count) {
    const info = this.#embInfo;
    const dim = info.embeddingDim;
    if (info.pooling === 'regions') return this.#embedPooled(count);
    const run = async (first, n) => {
      const raw = this.#live();
      const tPrep = now();
      const all = raw.prepareCrops(first + n);
      this.preprocessMs += now() - tPrep;
      if (all === null) throwCoreError(raw);
      const per = 3 * info.width * info.height;
      const input = all.subarray(first * per, (first + n) * per);
      const dims = info.layout === 'NHWC' ? [n, info.height, info.width, 3] : [n, 3, info.height, info.width];
      const out = await this.#embedder.run({ [info.inputName]: new ort.Tensor('float32', input, dims) });
      const t = out[info.outputs[0]];
      if (!t) throw new ShopframeError('invalid_argument', `embedder ${info.name}: output '${info.outputs[0]}' missing from the model`);
      if (t.data.length !== n * dim) {
        throw new ShopframeError('invalid_argument',
          `embedder ${info.name}: output '${info.outputs[0]}' has ${t?.data.length} values, expected ${n} x ${dim}`);
      }
      return Array.from({ length: n }, (_, i) => t.data.slice(i * dim, (i + 1) * dim));
    };
    if (this.#batch && count > 1) {
      try {
        return await run(0, count);
      } catch (e) {
        if (e instanceof ShopframeError) throw e;
        this.#batch = false;  // a model with a fixed batch of 1: one crop per run from now on
      }
    }
    const out = [];
    for (let i = 0; i < count; ++i) out.push(...(await run(i, 1)));
    return out;
  }

  // One embedder pass over the whole frame (region 0, stretched to the model's input or, with
  // input.size_multiple, to the frame's own aspect at about as many pixels), whose
  // feature maps the core pools over every region's box (manifest "pooling": "regions").
  async #embedPooled(count) {
    const info = this.#embInfo;
    const raw = this.#live();
    const tPrep = now();
    const input = raw.prepareCrops(1);
    this.preprocessMs += now() - tPrep;
    if (input === null) throwCoreError(raw);
    const w = raw.embedderInputWidth(), h = raw.embedderInputHeight();  // the frame's aspect with input.size_multiple
    const dims = info.layout === 'NHWC' ? [1, h, w, 3] : [1, 3, h, w];
    const out = await this.#embedder.run({ [info.inputName]: new ort.Tensor('float32', input, dims) });
    const shapes = info.outputs.map((name, slot) => {
      const t = out[name];
      if (!t) throw new ShopframeError('invalid_argument', `embedder ${info.name}: output '${name}' missing from the model`);
      if (t.type !== 'float32') throw new ShopframeError('invalid_argument', `embedder ${info.name}: output '${name}' is ${t.type}, expected float32`);
      const view = raw.mapView(slot, t.data.length);
      if (view === null) {
        throw new ShopframeError('invalid_argument', `embedder ${info.name}: output '${name}' has ${t.data.length} values; the feature maps may hold 64,000,000 in all`);
      }
      view.set(t.data);
      return t.dims.map(Number);
    });
    const pooled = raw.poolRegions(count, shapes);
    if (pooled === null) throwCoreError(raw);
    const dim = info.embeddingDim;
    return Array.from({ length: count }, (_, i) => pooled.slice(i * dim, (i + 1) * dim));
  }

  async close() {
    const raw = this.#raw, embedder = this.#embedder, detector = this.#detector;
    this.#raw = this.#embedder = this.#detector = null;  // idempotent
    raw?.delete();
    await embedder?.release?.();
    await detector?.release?.();
  }

  #live() {
    if (!this.#raw) throw new ShopframeError('invalid_argument', 'vision pipeline is closed');
    return this.#raw;
  }
}

/**
 * @param {{ embedder: { manifest: object|string, bytes: Uint8Array, source?: string },
 *           detector?: { manifest: object|string, bytes: Uint8Array, source?: string } | null,
 *           numThreads?: number, ortWasmPaths?: string|object, wasmModule?: WebAssembly.Module }} options
 */
export async function createVision(options) {
  configureOrt(options);
  const core = await initCore(options);
  const embText = manifestText(options.embedder, 'embedder');
  const detText = options.detector ? manifestText(options.detector, 'detector') : '';
  const raw = new core.Vision();
  if (!raw.configure(embText, options.embedder.source ?? 'embedder manifest', detText, options.detector?.source ?? 'detector manifest')) {
    try { throwCoreError(raw); } finally { raw.delete(); }
  }
  let emb = null;
  try {
    emb = await createSession(options.embedder, 'embedder');
    const det = options.detector ? await createSession(options.detector, 'detector') : null;
    return new Vision(core, raw, emb, det);
  } catch (e) {
    raw.delete();
    await emb?.release?.();
    throw e;
  }
}

export { now };
