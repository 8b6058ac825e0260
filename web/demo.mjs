// The demo page: the sample video (made from Grocery Store Dataset photos by tools/demo.mjs)
// against the grocery catalog index, through the browser SDK (build/web = shopframe/web).
// For automation it records every suggestion event in window.shopframeDemo.suggestions and
// sets window.shopframeDemo.ready once the engine is loaded.
import { attachShoppable, hasWasmSimd } from '/build/index.mjs';
import '/build/element.mjs';

const MODELS = {
  embedder: { manifest: '/manifests/mobilenetv2-feat.json', url: '/models/mobilenetv2-feat.onnx' },
  detector: { manifest: '/manifests/yolox-nano.json', url: '/models/yolox-nano.onnx' },
};
const SAMPLE = { video: '/demo/sample.webm', index: '/demo/catalog.sfi', truth: '/demo/sample.json' };

// ?sampleFps=&cpuBudget= override the sampling (bench/browser.mjs measures the ceiling with them).
const params = new URLSearchParams(location.search);
const SAMPLING = { sampleFps: Number(params.get('sampleFps') ?? 2), cpuBudget: Number(params.get('cpuBudget') ?? 0.6) };

const $ = (id) => document.getElementById(id);
const video = $('player');
const demo = (window.shopframeDemo = { ready: false, error: null, suggestions: [], frames: 0, stats: null, session: null });
let session = null;

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

// Catalog thumbnails: the index stores the first image's path relative to the catalog file;
// the demo server serves the dataset's iconic images under /grocery/iconic/.
function resolveImage(path) {
  const at = path.indexOf('iconic-images-and-descriptions/');
  return at >= 0 ? `/grocery/iconic/${path.slice(at + 'iconic-images-and-descriptions/'.length)}` : path;
}

function lane(el, spans, duration) {
  el.replaceChildren(...spans.map(({ from, to, text, cls }) => {
    const s = document.createElement('span');
    s.style.left = `${(100 * from) / duration}%`;
    s.style.width = `${(100 * Math.max(0.25, to - from)) / duration}%`;
    s.textContent = text;
    s.title = `${text} (${from.toFixed(1)}–${to.toFixed(1)} s)`;
    if (cls) s.className = cls;
    return s;
  }));
}

function drawTimeline() {
  const d = video.duration;
  if (!Number.isFinite(d) || d <= 0) return;
  lane($('suggestion-lane'), [...byKey.values()].map((s) => ({ from: s.from, to: s.to, text: s.title, cls: s.kind })), d);
  $('suggestion-list').replaceChildren(...[...byKey.values()].map((s) => {
    const li = document.createElement('li');
    li.textContent = `${s.from.toFixed(1)}–${s.to.toFixed(1)} s: ${s.title} (${s.kind}, confidence ${s.confidence.toFixed(2)})`;
    return li;
  }));
}

async function drawTruth(url) {
  try {
    const res = await fetch(url);
    if (!res.ok) return;
    const truth = await res.json();
    const d = truth.duration;
    lane($('truth-lane'), truth.segments.map((s) => ({
      from: s.from, to: s.to, text: s.expected ? s.id : `${s.id} (not in catalog)`, cls: s.expected ? '' : 'distractor',
    })), d);
  } catch { /* the truth lane is optional */ }
}

const byKey = new Map();
function onSuggestion(s) {
  demo.suggestions.push(s);
  byKey.set(s.key, s);
  drawTimeline();
}

function onFrame({ detail: f }) {
  demo.frames += 1;
  demo.stats = session?.stats ?? null;
  const stats = demo.stats;
  if (stats) {
    $('timings').tBodies[0].replaceChildren(...['grab', 'preprocess', 'detect', 'embed', 'search', 'total', 'roundtrip'].map((k) => {
      const tr = document.createElement('tr');
      for (const v of [k, (stats.mean_ms[k] ?? 0).toFixed(1)]) tr.insertCell().textContent = v;
      return tr;
    }));
    $('fps').textContent = `${stats.frames} frames analysed, ${stats.fps?.toFixed(2) ?? '–'} frames/s sustained, frame grab: ${stats.grab}`;
  }
  const canvas = $('overlay');
  const ctx = canvas.getContext('2d');
  canvas.width = f.width;
  canvas.height = f.height;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!$('show-boxes').checked) return;
  ctx.lineWidth = 2;
  ctx.font = '12px system-ui';
  for (const r of f.regions) {
    const [x0, y0, x1, y1] = r.box;
    ctx.strokeStyle = r.kind === 'detection' ? '#ffeb3b' : '#4fc3f7';
    ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    ctx.fillStyle = ctx.strokeStyle;
    if (r.top) ctx.fillText(`${r.kind}: ${r.top.title} ${r.top.score.toFixed(2)}`, x0 + 3, y0 + 14);
  }
}

async function attach(index) {
  if (session) await session.detach();
  session = demo.session = null;
  byKey.clear();
  drawTimeline();
  status('Loading the engine…');
  try {
    session = await attachShoppable(video, { index, models: MODELS, ...SAMPLING, onSuggestion, resolveImage });
  } catch (e) {
    demo.error = `${e.code ?? 'error'}: ${e.message}`;
    status(`Cannot start: ${e.message}`, true);
    throw e;
  }
  demo.session = session;
  $('chips').session = session;
  session.addEventListener('frame', onFrame);
  session.addEventListener('error', ({ detail }) => {
    demo.error = `${detail.code}: ${detail.message}`;
    status(`Error: ${detail.message}`, true);
  });
  const i = session.info;
  status(`Ready: ${i.vectors} catalog vectors, embedder ${i.embedder}, detector ${i.detector ?? 'none'}, SIMD ${i.simd}` +
    `${i.calibrated ? '' : ' (index not calibrated: no suggestions)'}. Press play.`);
  demo.ready = true;
}

async function main() {
  if (!hasWasmSimd()) {
    demo.error = 'unsupported: no WebAssembly SIMD';
    status('This browser does not support WebAssembly SIMD, which shopframe needs. Try a current Chrome, Edge, Firefox or Safari.', true);
    video.removeAttribute('src');
    return;
  }
  video.addEventListener('loadedmetadata', drawTimeline);
  drawTruth(SAMPLE.truth);
  $('own-video').addEventListener('change', (e) => {
    const f = e.target.files[0];
    if (!f) return;
    video.src = URL.createObjectURL(f);
    $('truth-lane').replaceChildren();
    attach(ownIndex ?? SAMPLE.index).catch(() => {});
  });
  let ownIndex = null;
  $('own-index').addEventListener('change', async (e) => {
    const f = e.target.files[0];
    if (!f) return;
    ownIndex = await f.arrayBuffer();
    attach(ownIndex.slice(0)).catch(() => {});
  });
  await attach(SAMPLE.index);
}

main().catch((e) => console.warn('shopframe demo:', e.message));
