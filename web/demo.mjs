// The demo page: the sample video (made from Grocery Store Dataset photos by tools/demo.mjs)
// against the grocery catalog index, through the browser SDK (build/web = shopframe/web).
// The user can drop in their own video and index (file inputs, or a drop anywhere on the page).
// For automation it records every suggestion event in window.shopframeDemo.suggestions, sets
// window.shopframeDemo.ready while an engine is loaded (false during a switch), and names the
// video and index in use in window.shopframeDemo.source.
import { attachShoppable, hasWasmSimd } from '/build/index.mjs';
import '/build/element.mjs';

// The MobileNetV2 embedders: the worker loads the one a (dropped-in) index was built with, or
// its one-pass variant (?onePass=0 turns that off).
const MODELS = {
  embedder: [
    { manifest: '/manifests/mobilenetv2-f32-multiscale-maps288.json', url: '/models/mobilenetv2-f32-multiscale-maps288.onnx' },
    { manifest: '/manifests/mobilenetv2-f32-multiscale.json', url: '/models/mobilenetv2-f32-multiscale.onnx' },
    { manifest: '/manifests/mobilenetv2-f32-feat.json', url: '/models/mobilenetv2-f32-feat.onnx' },
    { manifest: '/manifests/mobilenetv2-feat.json', url: '/models/mobilenetv2-feat.onnx' },
  ],
  detector: { manifest: '/manifests/yolox-nano-dynamic.json', url: '/models/yolox-nano-dynamic.onnx' },
};
const SAMPLE = { video: '/demo/sample.webm', index: '/demo/catalog.sfi', truth: '/demo/sample.json' };

// ?sampleFps=&cpuBudget=&detectEvery= override the sampling (bench/browser.mjs measures the ceiling with them);
// ?threads= sets the worker's ONNX Runtime threads (default 2: this page is cross-origin isolated,
// and on 2 cores 2 threads analysed 1.4x the frames per second of 1; docs/web.md).
const params = new URLSearchParams(location.search);
const SAMPLING = { sampleFps: Number(params.get('sampleFps') ?? 2), cpuBudget: Number(params.get('cpuBudget') ?? 0.6),
  ...(params.has('detectEvery') ? { detectEvery: Number(params.get('detectEvery')) } : {}),
  threads: Number(params.get('threads') ?? 2), onePass: params.get('onePass') !== '0' };

const $ = (id) => document.getElementById(id);
const video = $('player');
// source: the names of the video and index in use (the user can drop in their own).
const demo = (window.shopframeDemo = {
  ready: false, error: null, suggestions: [], frames: 0, stats: null, session: null, source: { video: 'sample.webm', index: 'the sample catalog' },
});
let session = null;

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

// Catalog thumbnails: the index stores the first image's path relative to the catalog file;
// the demo server serves the dataset's iconic images under /grocery/iconic/. Any other path but
// a full URL (a dropped-in index) is relative to a file this page cannot reach: no thumbnail.
function resolveImage(path) {
  const at = path.indexOf('iconic-images-and-descriptions/');
  if (at >= 0) return `/grocery/iconic/${path.slice(at + 'iconic-images-and-descriptions/'.length)}`;
  return /^https?:\/\//i.test(path) ? path : '';
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

// ---- the session, and switching to the user's own video and index

// The index in use: a URL or the bytes of a file the user chose, and a name for messages.
let index = { source: SAMPLE.index, name: 'the sample catalog' };
// Switches run one at a time, in the order the user asked for them.
let switching = Promise.resolve();
const queued = (fn) => (switching = switching.then(fn, fn));

async function stop() {
  demo.ready = false;
  if (session) await session.detach();
  session = demo.session = null;
  byKey.clear();
  drawTimeline();
}

async function start(next) {
  status(`Loading the engine with ${next.name}…`);
  const s = await attachShoppable(video, { index: next.source, models: MODELS, ...SAMPLING, onSuggestion, resolveImage });
  session = demo.session = s;
  $('chips').session = s;
  s.addEventListener('frame', onFrame);
  s.addEventListener('error', ({ detail }) => {
    demo.error = `${detail.code}: ${detail.message}`;
    status(`Error: ${detail.message}`, true);
  });
  demo.source.index = next.name;
  demo.ready = true;
  return s.info;
}

function readyText(i, name) {
  return `Ready: ${name}, ${i.vectors} catalog vectors, embedder ${i.embedder}, detector ${i.detector ?? 'none'}, SIMD ${i.simd}` +
    `${i.calibrated ? '' : ' (index not calibrated: no suggestions)'}. Press play.`;
}

/**
 * A new session on `next` (the video element's current video). When its index cannot be used
 * (not an index, damaged, built with another embedder), the page says why and goes back to the
 * index that worked, so one bad file never leaves the page without an engine.
 */
async function useIndex(next) {
  await stop();
  try {
    const info = await start(next);
    index = next;
    const problem = videoProblem();  // a video that failed while the engine loaded stays reported
    demo.error = problem && `video: ${problem}`;
    status(problem ?? readyText(info, next.name), !!problem);
  } catch (e) {
    demo.error = `${e.code ?? 'error'}: ${e.message}`;
    const why = `Cannot use ${next.name}: ${e.message}`;
    if (next === index) return status(why, true);
    try {
      await start(index);
      status(`${why}. Still using ${index.name}.`, true);
    } catch (again) {
      status(`${why}; ${index.name} failed too: ${again.message}`, true);
    }
  }
}

function chooseIndex(file) {
  return queued(async () => useIndex({ source: await file.arrayBuffer(), name: file.name }));
}

// A new video gets a new session: the analysed sample slots and the tracks were the old video's.
function chooseVideo(file) {
  return queued(async () => {
    await stop();
    const old = video.src;
    video.src = URL.createObjectURL(file);
    if (old.startsWith('blob:')) URL.revokeObjectURL(old);
    demo.source.video = file.name;
    $('truth-lane').replaceChildren();  // the ground truth lane is the sample's
    await useIndex(index);
  });
}

// MediaError codes in words; the browser's own message (often a decoder's) follows in brackets.
const MEDIA_ERRORS = {
  1: 'loading was stopped', 2: 'a network error interrupted loading',
  3: 'the file is damaged or encoded in a way this browser cannot decode', 4: 'not a video format this browser can play',
};

function videoProblem() {
  const e = video.error;
  if (!e) return null;
  return `Cannot play ${demo.source.video}: ${MEDIA_ERRORS[e.code] ?? `media error ${e.code}`}${e.message ? ` (${e.message})` : ''}.`;
}

const isVideoFile = (f) => f.type.startsWith('video/') || /\.(webm|mp4|m4v|mov|mkv|ogv)$/i.test(f.name);
const isIndexFile = (f) => /\.sfi$/i.test(f.name);

// Files dropped anywhere on the page: a video, an index (.sfi), or one of each.
function onDrop(e) {
  e.preventDefault();
  document.body.classList.remove('dropping');
  const files = [...(e.dataTransfer?.files ?? [])];
  const videoFile = files.find(isVideoFile);
  const indexFile = files.find(isIndexFile);
  if (!videoFile && !indexFile) {
    status(`Drop a video or a catalog index (.sfi); ${files.map((f) => f.name).join(', ') || 'nothing'} is neither.`, true);
    return;
  }
  if (indexFile) chooseIndex(indexFile);
  if (videoFile) chooseVideo(videoFile);
}

// The user's own files: the two file inputs, drops, and a video the browser cannot play.
function acceptOwnFiles() {
  const carriesFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  document.addEventListener('dragover', (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();  // allows the drop
    document.body.classList.add('dropping');
  });
  document.addEventListener('dragleave', (e) => {
    if (e.relatedTarget === null) document.body.classList.remove('dropping');  // left the window
  });
  document.addEventListener('drop', onDrop);
  $('own-video').addEventListener('change', (e) => { if (e.target.files[0]) chooseVideo(e.target.files[0]); });
  $('own-index').addEventListener('change', (e) => { if (e.target.files[0]) chooseIndex(e.target.files[0]); });
  video.addEventListener('error', () => {
    demo.error = `video: ${videoProblem()}`;
    status(videoProblem(), true);
  });
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
  acceptOwnFiles();
  await queued(() => useIndex(index));
}

main().catch((e) => console.warn('shopframe demo:', e.message));
