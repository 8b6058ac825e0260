// The SDK's Web Worker: the WASM core, ONNX Runtime Web and the live analyser live here, so
// the page's main thread only grabs frames. One frame is analysed at a time; the page sends
// the next one only after the previous answer (back-pressure lives in js/web/index.mjs).
//
// Messages in:  { type: 'init', index, models, wasmUrl, ortWasmPaths, k, track, maxSide, threads }
//               { type: 'frame', seq, t, frame: VideoFrame | ImageBitmap | null, rgba, width, height }
//               { type: 'seek' } | { type: 'close' }
// Messages out: { type: 'ready', info } | { type: 'analysed', seq, t, events, regions, timings_ms, grab }
//               { type: 'skipped', seq, reason } | { type: 'error', seq?, error: { code, message } } | { type: 'closed' }
import * as ort from 'onnxruntime-web';

import { createEngine, pickEmbedder } from '../engine.mjs';
import { createLiveAnalyzer } from '../live.mjs';
import { withPrecompiledOrtWasm } from '../ort_wasm.mjs';
import { loadIndex, simdName } from '../shopframe.mjs';

let index = null, engine = null, live = null, maxSide = 640, edge = null;
const askedEdge = new Set();    // suggestion keys whose similar items were asked of the edge
let canvas = null, ctx = null;  // the fallback frame grabber (OffscreenCanvas)
let copyToRgba = true;          // VideoFrame.copyTo({ format: 'RGBA' }) works until it throws once

const now = () => performance.now();
const errorOf = (e) => ({ code: e?.code ?? 'internal', message: String(e?.message ?? e) });

async function fetchBytes(what, source) {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (typeof source !== 'string') throw Object.assign(new Error(`${what}: expected bytes or a URL`), { code: 'invalid_argument' });
  const res = await fetch(source);
  if (!res.ok) throw Object.assign(new Error(`${what}: GET ${source}: HTTP ${res.status}`), { code: 'io' });
  return new Uint8Array(await res.arrayBuffer());
}

// A model's manifest as JSON text: fetched when given as a URL, else the text or object given.
async function manifestText(role, m) {
  if (typeof m.manifest !== 'string') return JSON.stringify(m.manifest);
  if (m.manifest.trimStart().startsWith('{')) return m.manifest;
  return new TextDecoder().decode(await fetchBytes(`${role} manifest`, m.manifest));
}

async function loadModel(role, m) {
  if (!m) return null;
  return { manifest: await manifestText(role, m), bytes: await fetchBytes(`${role} model`, m.bytes ?? m.url), source: m.url ?? role };
}

// From a list of embedders, the one pickEmbedder (js/engine.mjs) chooses for the open index's
// CONF; only that model's bytes are fetched. A manifest that is not JSON never matches.
async function chooseEmbedder(candidates, openIndex, onePass) {
  if (!Array.isArray(candidates)) return candidates;
  const texts = await Promise.all(candidates.map((m) => manifestText('embedder', m)));
  const parsed = (text) => { try { return JSON.parse(text); } catch { return null; } };
  const i = pickEmbedder(texts.map(parsed), openIndex.config()?.embedder, { onePass });
  return { ...candidates[i], manifest: texts[i] };
}

async function init(msg) {
  maxSide = msg.maxSide ?? 640;
  edge = msg.edge?.url ? { url: msg.edge.url.replace(/\/+$/, ''), k: msg.edge.k ?? 12 } : null;
  // The page compiles both wasm files once and sends the modules (js/web/index.mjs): a new
  // session then skips fetching and compiling 14 MB of ORT.
  const coreOptions = msg.coreModule ? { wasmModule: msg.coreModule } : { wasmUrl: msg.wasmUrl };
  const [indexBytes, detector] = await Promise.all([fetchBytes('index', msg.index), loadModel('detector', msg.models?.detector)]);
  // Loaded once: its CONF picks the embedder, then the engine borrows it (close() frees it).
  index = await loadIndex(indexBytes, coreOptions);
  try {
    const embedder = await loadModel('embedder', await chooseEmbedder(msg.models?.embedder, index, msg.onePass));
    const create = () => createEngine({
      ...coreOptions, index, ortWasmPaths: msg.ortModule ? undefined : msg.ortWasmPaths, numThreads: msg.threads ?? 1,
      models: { embedder, detector }, maxRegions: msg.maxRegions,
    });
    engine = msg.ortModule ? await withPrecompiledOrtWasm(msg.ortModule, create) : await create();
    live = await createLiveAnalyzer(engine, { ...coreOptions, k: msg.k, track: msg.track, detectEvery: msg.detectEvery });
  } catch (e) {
    await close();
    throw e;
  }
  return {
    vectors: engine.index.size, calibrated: engine.calibrated, simd: await simdName(coreOptions),
    embedder: engine.vision.embedderInfo.name, detector: engine.vision.detectorInfo?.name ?? null,
    threads: ort.env.wasm.numThreads,  // what ORT runs with (1 when the page is not cross-origin isolated)
  };
}

/** Output size for a source frame: at most maxSide on the long side, never upscaled. */
function targetSize(w, h) {
  const s = Math.min(1, maxSide / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) };
}

function drawToRgba(source, width, height, view) {
  if (!canvas || canvas.width !== width || canvas.height !== height) {
    canvas = new OffscreenCanvas(width, height);
    ctx = canvas.getContext('2d', { willReadFrequently: true });
  }
  ctx.drawImage(source, 0, 0, width, height);
  view.set(ctx.getImageData(0, 0, width, height).data);
}

/**
 * The frame's pixels into the engine's WASM frame buffer. A VideoFrame at the target size is
 * copied straight into WASM memory with copyTo (converted to RGBA by the browser); a larger one,
 * or a browser without RGBA conversion, goes through an OffscreenCanvas; the page's canvas
 * fallback sends RGBA bytes.
 */
function grabber(msg) {
  const { frame } = msg;
  if (!frame) {
    return { width: msg.width, height: msg.height, how: 'canvas', fill: (view) => view.set(new Uint8Array(msg.rgba)) };
  }
  const w = frame.displayWidth ?? frame.width, h = frame.displayHeight ?? frame.height;
  const size = targetSize(w, h);
  const isVideoFrame = typeof VideoFrame !== 'undefined' && frame instanceof VideoFrame;
  if (isVideoFrame && copyToRgba && size.width === w && size.height === h && frame.visibleRect?.width === w) {
    return {
      ...size, how: 'videoframe-copyto',
      fill: async (view) => {
        try {
          await frame.copyTo(view, { format: 'RGBA', colorSpace: 'srgb' });
        } catch {
          copyToRgba = false;  // no RGBA conversion in this browser: canvas from now on
          drawToRgba(frame, size.width, size.height, view);
        }
      },
    };
  }
  return { ...size, how: 'offscreen-canvas', fill: (view) => drawToRgba(frame, size.width, size.height, view) };
}

async function analyse(msg) {
  const g = grabber(msg);
  let grabMs = 0;
  const { events, result } = await live.addFrame(msg.t, g.width, g.height, async (view) => {
    const t0 = now();
    await g.fill(view);
    grabMs = now() - t0;
  });
  const tm = result.timings_ms;
  return {
    type: 'analysed', seq: msg.seq, t: msg.t, events, grab: g.how, width: g.width, height: g.height,
    regions: result.regions.map(({ box, kind, label, matches }) => ({ box, kind, label, top: matches[0] ? { id: matches[0].id, title: matches[0].title, score: matches[0].score } : null })),
    timings_ms: { grab: grabMs, preprocess: tm.preprocess, detect: tm.detect, embed: tm.embed, search: tm.search, total: tm.total },
  };
}

/**
 * More items like a new suggestion from the full catalog behind the edge worker (issue 6's
 * POST /v1/match): only the embedding of the region that matched leaves the device, never a
 * frame. Decisions stay on the device (the shard's calibrated thresholds); the edge only
 * lengthens the list of similar items. Failures are reported, never fatal.
 */
async function askEdge(key) {
  const q = live?.queryFor(key);
  if (!q) return;
  try {
    const res = await fetch(`${edge.url}/v1/match`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ embedding: Array.from(q.embedding), k: edge.k, category: q.category, distinct: true }),
    });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
    const hits = (body?.results?.[0] ?? []).map(({ id, title, category, price, currency, url, image, score }) =>
      ({ id, title, category, price: Number.isFinite(price) ? price : null, currency: currency ?? '', url: url ?? '', image: image ?? '', score, source: 'edge' }));
    self.postMessage({ type: 'similar', key, similar: hits });
  } catch (e) {
    self.postMessage({ type: 'error', error: { code: 'edge', message: `edge ${edge.url}/v1/match: ${e.message}` } });
  }
}

async function close() {
  live?.close();
  await engine?.close();
  index?.close();  // borrowed by the engine, so freed here
  live = engine = index = null;
}

let queue = Promise.resolve();  // messages are handled one at a time, in order
// With threads, ONNX Runtime starts its pthread workers from this same bundle (js/ort_wasm.mjs),
// named 'em-pthread'; those answer ORT's messages, not the SDK's.
if (!self.name?.startsWith('em-pthread')) self.onmessage = ({ data: msg }) => {
  queue = queue.then(async () => {
    try {
      if (msg.type === 'init') self.postMessage({ type: 'ready', info: await init(msg) });
      else if (msg.type === 'frame') {
        if (!live) self.postMessage({ type: 'skipped', seq: msg.seq, reason: 'not ready' });
        else {
          const out = await analyse(msg);
          self.postMessage(out);
          for (const s of out.events) {
            if (edge && !askedEdge.has(s.key)) {
              askedEdge.add(s.key);
              askEdge(s.key);  // not awaited: frames keep flowing while the edge answers
            }
          }
        }
      } else if (msg.type === 'seek') live?.seek();
      else if (msg.type === 'close') {
        await close();
        self.postMessage({ type: 'closed' });
        self.close();
      }
    } catch (e) {
      self.postMessage({ type: 'error', seq: msg.seq, error: errorOf(e) });
    } finally {
      msg.frame?.close?.();  // VideoFrames hold decoder memory until closed
    }
  });
};
