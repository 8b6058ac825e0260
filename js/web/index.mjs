// shopframe/web: make any <video> shoppable, on the device.
//
//   import { attachShoppable } from 'shopframe/web';
//   const session = await attachShoppable(video, {
//     index: '/catalog.sfi',                                   // URL or bytes
//     models: { embedder: { manifest: '/manifests/mobilenetv2-f32-multiscale.json', url: '/models/mobilenetv2-f32-multiscale.onnx' },
//               detector: { manifest: '/manifests/yolox-nano-dynamic.json', url: '/models/yolox-nano-dynamic.onnx' } },
//     sampleFps: 2,
//     onSuggestion: (s) => console.log(s.title, s.from, s.to),
//   });
//   ...
//   await session.detach();
//
// The WASM core and ONNX Runtime Web run in a dedicated Web Worker (js/web/worker.mjs); this
// thread only grabs frames: requestVideoFrameCallback + a transferred WebCodecs VideoFrame where
// the browser has them, a canvas otherwise. At most one frame is in flight, and the sampling
// interval stretches so the worker stays busy at most `cpuBudget` of the time. Analysed sample
// slots are remembered: seeking back and replaying costs nothing and shows what was found.
// Suggestions are also dispatched on the video as 'shopframe-suggestion' events, which
// <shopframe-suggestions for="..."> (js/web/element.mjs) displays.

const DEFAULTS = { sampleFps: 2, cpuBudget: 0.5, maxSide: 640, k: 10, maxRegions: 4, detectEvery: 2, threads: 1 };

// Compiled wasm modules by URL: compiled once per page, cloned into every session's worker.
const compiled = new Map();
function compileOnce(url) {
  if (!compiled.has(url)) {
    const p = (async () => {
      const res = await fetch(url);
      if (!res.ok) throw new ShopframeWebError('io', `GET ${url}: HTTP ${res.status}`);
      return WebAssembly.compileStreaming ? WebAssembly.compileStreaming(res) : WebAssembly.compile(await res.arrayBuffer());
    })();
    p.catch(() => compiled.delete(url));  // a failure is not cached
    compiled.set(url, p);
  }
  return compiled.get(url);
}

/** True when this browser runs WebAssembly SIMD (the core is built with -msimd128). */
export function hasWasmSimd() {
  // (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt))
  const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
  try { return typeof WebAssembly === 'object' && WebAssembly.validate(bytes); } catch { return false; }
}

export class ShopframeWebError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'ShopframeWebError';
    this.code = code;
  }
}

/** Running means of per-frame stage costs, and the sustained analysed frames per second. */
class Stats {
  frames = 0; skippedBusy = 0; skippedKnown = 0; errors = 0; grab = null;
  #sum = {}; #first = null; #last = null;

  add(msg, wallMs) {
    ++this.frames;
    this.grab = msg.grab;
    for (const [k, v] of Object.entries(msg.timings_ms)) this.#sum[k] = (this.#sum[k] ?? 0) + v;
    this.#sum.roundtrip = (this.#sum.roundtrip ?? 0) + wallMs;
    this.#first ??= performance.now();
    this.#last = performance.now();
  }

  toJSON() {
    const mean = Object.fromEntries(Object.entries(this.#sum).map(([k, v]) => [k, v / Math.max(1, this.frames)]));
    const span = (this.#last - this.#first) / 1000;
    return {
      frames: this.frames, skippedBusy: this.skippedBusy, skippedKnown: this.skippedKnown, errors: this.errors,
      grab: this.grab, mean_ms: mean, fps: this.frames > 1 && span > 0 ? (this.frames - 1) / span : null,
    };
  }
}

export class ShopframeSession extends EventTarget {
  #video; #worker; #options; #stats = new Stats();
  #known = new Map();        // suggestion key -> latest suggestion
  #analysed = new Set();     // sample slots (floor(t * sampleFps)) already analysed
  #inFlight = null;          // { seq, sentAt }
  #seq = 0; #nextWall = 0; #costMs = 0; #frameHandle = null; #timer = null;
  #listeners = []; #detached = false; #closed = null;

  constructor(video, worker, options) {
    super();
    this.#video = video;
    this.#worker = worker;
    this.#options = options;
  }

  /** Every suggestion so far (latest state of each), in order of first appearance. */
  get suggestions() { return [...this.#known.values()]; }
  /** Per-stage mean cost (ms), sustained analysed frames per second, skip counters. */
  get stats() { return this.#stats.toJSON(); }
  get video() { return this.#video; }
  get detached() { return this.#detached; }
  /** The sampling interval in use (seconds): 1 / sampleFps, stretched to keep within cpuBudget. */
  get interval() { return Math.max(1 / this.#options.sampleFps, this.#costMs / 1000 / this.#options.cpuBudget); }

  _start() {
    this.#worker.onmessage = ({ data }) => this.#onMessage(data);
    this.#worker.onerror = (e) => {  // the worker itself failed (not a reported analysis error)
      this.#inFlight = null;
      ++this.#stats.errors;
      this.#emit('error', new ShopframeWebError('worker', `shopframe worker: ${e.message ?? 'failed'}`));
    };
    const on = (type, fn) => { this.#video.addEventListener(type, fn); this.#listeners.push([type, fn]); };
    on('seeking', () => {
      if (this.#inFlight) this.#inFlight.stale = true;
      this.#worker.postMessage({ type: 'seek' });
    });
    on('play', () => this.#schedule());
    on('seeked', () => this.#schedule());
    this.#schedule();
  }

  // One pending callback at a time: requestVideoFrameCallback fires once per presented frame.
  #schedule() {
    if (this.#detached || this.#frameHandle !== null || this.#timer !== null) return;
    const v = this.#video;
    if (typeof v.requestVideoFrameCallback === 'function') {
      this.#frameHandle = v.requestVideoFrameCallback((_now, meta) => {
        this.#frameHandle = null;
        this.#onFrame(meta.mediaTime);
        this.#schedule();
      });
    } else {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        if (!v.paused || v.readyState >= 2) this.#onFrame(v.currentTime);
        if (!v.paused && !v.ended) this.#schedule();
      }, 50);
    }
  }

  #onFrame(t) {
    if (this.#detached || this.#video.readyState < 2) return;
    const slot = Math.floor(t * this.#options.sampleFps);
    if (this.#analysed.has(slot)) { ++this.#stats.skippedKnown; return; }
    if (this.#inFlight) { ++this.#stats.skippedBusy; return; }
    if (performance.now() < this.#nextWall) return;
    this.#send(t, slot);
  }

  #send(t, slot) {
    const v = this.#video;
    const seq = ++this.#seq;
    const msg = { type: 'frame', seq, t, frame: null };
    const transfer = [];
    try {
      if (typeof VideoFrame === 'function') {
        msg.frame = new VideoFrame(v, { timestamp: Math.round(t * 1e6) });
        transfer.push(msg.frame);
      } else {
        const s = Math.min(1, this.#options.maxSide / Math.max(v.videoWidth, v.videoHeight));
        const w = Math.max(1, Math.round(v.videoWidth * s)), h = Math.max(1, Math.round(v.videoHeight * s));
        const c = (this.canvas ??= document.createElement('canvas'));
        c.width = w; c.height = h;
        const ctx = c.getContext('2d', { willReadFrequently: true });
        ctx.drawImage(v, 0, 0, w, h);
        const data = ctx.getImageData(0, 0, w, h).data;
        Object.assign(msg, { rgba: data.buffer, width: w, height: h });
        transfer.push(data.buffer);
      }
    } catch (e) {
      msg.frame?.close();
      ++this.#stats.errors;
      this.#emit('error', new ShopframeWebError('frame', `frame at ${t.toFixed(2)} s: ${e.message}`));
      return;
    }
    this.#inFlight = { seq, slot, sentAt: performance.now() };
    this.#worker.postMessage(msg, transfer);
  }

  #onMessage(msg) {
    if (msg.type === 'analysed') {
      const f = this.#inFlight;
      this.#inFlight = null;
      const wall = f ? performance.now() - f.sentAt : msg.timings_ms.total;
      this.#stats.add(msg, wall);
      // The budget follows a moving average of the cost; the first frame (ORT's warm-up, often
      // several times slower) is left out so it cannot stall sampling.
      if (this.#stats.frames > 1) this.#costMs = this.#costMs ? 0.7 * this.#costMs + 0.3 * wall : wall;
      this.#nextWall = performance.now() + Math.max(0, this.interval * 1000 - wall);
      if (f && !f.stale) this.#analysed.add(f.slot);
      const resolveImage = this.#options.resolveImage;
      for (const s of msg.events) {
        if (resolveImage) s.similar = s.similar.map((h) => ({ ...h, image: h.image ? resolveImage(h.image, h) : '' }));
        this.#known.set(s.key, s);
        this.#options.onSuggestion?.(s);
        this.#emit('suggestion', s);
        this.#video.dispatchEvent(new CustomEvent('shopframe-suggestion', { detail: s }));
      }
      this.#emit('frame', { t: msg.t, regions: msg.regions, width: msg.width, height: msg.height, timings_ms: msg.timings_ms, grab: msg.grab });
    } else if (msg.type === 'similar') {
      // The edge's items beyond the on-device shard: appended after the shard's own.
      const s = this.#known.get(msg.key);
      if (!s) return;
      const have = new Set(s.similar.map((h) => h.id));
      const resolveImage = this.#options.resolveImage;
      const extra = msg.similar.filter((h) => !have.has(h.id))
        .map((h) => (resolveImage && h.image ? { ...h, image: resolveImage(h.image, h) } : h));
      if (!extra.length) return;
      const updated = { ...s, similar: [...s.similar, ...extra] };
      this.#known.set(s.key, updated);
      this.#options.onSuggestion?.(updated);
      this.#emit('suggestion', updated);
      this.#video.dispatchEvent(new CustomEvent('shopframe-suggestion', { detail: updated }));
    } else if (msg.type === 'skipped') {
      this.#inFlight = null;
    } else if (msg.type === 'error') {
      if (msg.seq !== undefined) this.#inFlight = null;
      ++this.#stats.errors;
      this.#emit('error', new ShopframeWebError(msg.error.code, msg.error.message));
    } else if (msg.type === 'closed') {
      this.#closed?.();
    }
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Stops analysing, ends the worker and frees everything it held. Idempotent. */
  async detach() {
    if (this.#detached) return;
    this.#detached = true;
    if (this.#frameHandle !== null) this.#video.cancelVideoFrameCallback?.(this.#frameHandle);
    clearTimeout(this.#timer);
    for (const [type, fn] of this.#listeners) this.#video.removeEventListener(type, fn);
    this.#listeners = [];
    // Let the worker release ORT sessions and WASM memory, but never wait on it for long.
    await new Promise((resolve) => {
      this.#closed = resolve;
      setTimeout(resolve, 1000);
      this.#worker.postMessage({ type: 'close' });
    });
    this.#worker.terminate();
    this.#worker.onmessage = null;
    this.#video.dispatchEvent(new CustomEvent('shopframe-detach'));
  }
}

/**
 * Attaches the shoppable-video engine to a video element.
 * @param {HTMLVideoElement} video
 * @param {import('./index').AttachOptions} options
 * @returns {Promise<ShopframeSession>} once the worker has loaded the index and models
 */
export async function attachShoppable(video, options = {}) {
  if (!hasWasmSimd()) {
    throw new ShopframeWebError('unsupported', 'this browser has no WebAssembly SIMD (needed by shopframe); no suggestions will be shown');
  }
  if (!options.index) throw new ShopframeWebError('invalid_argument', 'attachShoppable: options.index (URL or bytes) is required');
  const embedders = [options.models?.embedder].flat();
  if (!embedders.length || !embedders.every(Boolean)) {
    throw new ShopframeWebError('invalid_argument', 'attachShoppable: options.models.embedder is required (a model, or a list to choose from by the index)');
  }
  const opts = { ...DEFAULTS, ...options };
  for (const [k, lo, hi] of [['sampleFps', 0.05, 30], ['cpuBudget', 0.05, 1], ['maxSide', 64, 4096], ['threads', 1, 16]]) {
    if (!(Number(opts[k]) >= lo && Number(opts[k]) <= hi)) throw new ShopframeWebError('invalid_argument', `attachShoppable: ${k} must be in ${lo}..${hi}, got ${opts[k]}`);
  }
  const base = (u) => (u === undefined ? undefined : new URL(u, document.baseURI).href);
  const workerUrl = base(opts.workerUrl) ?? new URL('./worker.mjs', import.meta.url).href;
  const worker = new Worker(workerUrl, { type: 'module', name: 'shopframe' });
  const session = new ShopframeSession(video, worker, opts);
  const modelRef = (m) => m && { manifest: typeof m.manifest === 'string' && !m.manifest.trimStart().startsWith('{') ? base(m.manifest) : m.manifest,
    url: base(m.url), bytes: m.bytes };
  const wasmUrl = base(opts.wasmUrl) ?? new URL('./shopframe_core.wasm', workerUrl).href;
  const ortWasmUrl = typeof opts.ortWasmPaths === 'object' && opts.ortWasmPaths?.wasm ? base(opts.ortWasmPaths.wasm)
    : typeof opts.ortWasmPaths === 'string' ? `${base(opts.ortWasmPaths)}ort-wasm-simd-threaded.wasm`
      : new URL('./ort-wasm-simd-threaded.wasm', workerUrl).href;
  let coreModule, ortModule;
  try {
    [coreModule, ortModule] = await Promise.all([compileOnce(wasmUrl), compileOnce(ortWasmUrl)]);
  } catch (e) {
    worker.terminate();
    throw e instanceof ShopframeWebError ? e : new ShopframeWebError('io', `loading the engine's WebAssembly: ${e.message}`);
  }
  const init = {
    type: 'init', index: typeof opts.index === 'string' ? base(opts.index) : opts.index, coreModule, ortModule,
    models: {
      embedder: Array.isArray(opts.models.embedder) ? opts.models.embedder.map(modelRef) : modelRef(opts.models.embedder),
      detector: modelRef(opts.models.detector),
    },
    // build/web/ (tools/build-web.mjs) holds both wasm files next to the worker bundle; the
    // worker uses the compiled modules, the URLs only name them in errors.
    wasmUrl, ortWasmPaths: { wasm: ortWasmUrl },
    k: opts.k, maxRegions: opts.maxRegions, detectEvery: opts.detectEvery, track: opts.track, maxSide: opts.maxSide,
    onePass: opts.onePass,
    // ORT's threads need SharedArrayBuffer, which only cross-origin isolated pages have.
    threads: globalThis.crossOriginIsolated ? Math.floor(opts.threads) : 1,
    edge: opts.edge?.url ? { url: base(opts.edge.url), k: opts.edge.k } : null,
  };
  try {
    const info = await new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => {
        if (data.type === 'ready') resolve(data.info);
        else if (data.type === 'error') reject(new ShopframeWebError(data.error.code, data.error.message));
      };
      worker.onerror = (e) => reject(new ShopframeWebError('worker', `shopframe worker failed to start: ${e.message ?? 'see the console'}`));
      worker.postMessage(init);
    });
    session.info = info;
  } catch (e) {
    worker.terminate();
    throw e;
  }
  session._start();
  return session;
}
