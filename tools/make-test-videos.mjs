#!/usr/bin/env node
// Makes deterministic test videos from Grocery Store Dataset val photos (the dataset is
// read in place, never copied): each video is a run of 2-4 s segments, one photo each
// with a slow zoom or pan (ffmpeg zoompan), hard cuts between segments, 640x360 at 25 fps,
// H.264 (libx264 -preset veryfast; VP9 when ffmpeg has no libx264). Next to each video, a
// ground truth <name>.json:
//   { video, duration, width, height, fps, codec, segments: [{ from, to, expected, id,
//     category, photo, motion }] }
// from/to in seconds; expected = the product id, or null for a distractor (a product not
// in the catalog); id = the product shown; photo = path relative to the JSON's folder.
//
// Generated (seeded; video k depends only on --seed and k):
//   node tools/make-test-videos.mjs [--count 20] [--seed 1] [--segments 4-6]
//       [--in-catalog build/grocery/catalog-open.jsonl] [--catalog build/grocery/catalog.jsonl]
//       [--distractors id1,id2,...] [--distractor-rate 0.25] [--distractor-videos 0]
//   In-catalog products: the lines ("id", "category") of --in-catalog. Distractors: the
//   --distractors ids, else the products of --catalog missing from --in-catalog. Products
//   without val photos are left out. --distractor-videos N adds N videos made only of
//   distractor photos (distractors-NN). Names: <prefix>-NN (--prefix, default mix).
// From a spec:
//   node tools/make-test-videos.mjs --spec FILE.json
//   FILE.json: {"videos": [{"name", "segments": [...]}]}, or one {"name", "segments"}, or
//   a bare segment array. A segment: {"id": product, "photo": path (absolute, or relative
//   to the data dir, else to the spec's folder) or index into the product's val photos
//   (default 0), "duration": seconds (default 3; or "from"/"to"), "expected": id|null
//   (default: id; null when "distractor": true or when --in-catalog is given and lacks
//   the id), "motion": zoom-in|zoom-out|pan-left|pan-right|pan-up|pan-down}. A ground
//   truth file is itself a valid spec.
// Common: [--data DIR] (default ../shared/data/grocery or SHOPFRAME_GROCERY)
//   [--out DIR] (default build/videos) [--size 640x360] [--fps 25] [--codec auto|h264|vp9]
//   [--fit blur|pad|crop] (how a square photo fills the 16:9 frame; blur: the photo whole,
//   over a blurred, darkened copy of itself) [--threads 2] [--ffmpeg ffmpeg]
// Output is bit-identical for the same inputs, ffmpeg/x264 versions and --threads.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

import { writeFileAtomic } from '../js/node/atomic_write.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MOTIONS = ['zoom-in', 'zoom-out', 'pan-left', 'pan-right', 'pan-up', 'pan-down'];

function fail(msg) {
  console.error(`make-test-videos: ${msg}`);
  process.exit(2);
}

const { values: opt } = parseArgs({
  options: {
    data: { type: 'string', default: process.env.SHOPFRAME_GROCERY ?? resolve(repo, '..', 'shared', 'data', 'grocery') },
    out: { type: 'string', default: join(repo, 'build', 'videos') },
    spec: { type: 'string' },
    count: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    segments: { type: 'string', default: '4-6' },
    'in-catalog': { type: 'string' },
    catalog: { type: 'string' },
    distractors: { type: 'string' },
    'distractor-rate': { type: 'string', default: '0.25' },
    'distractor-videos': { type: 'string', default: '0' },
    prefix: { type: 'string', default: 'mix' },
    size: { type: 'string', default: '640x360' },
    fps: { type: 'string', default: '25' },
    codec: { type: 'string', default: 'auto' },
    fit: { type: 'string', default: 'blur' },
    threads: { type: 'string', default: '2' },
    ffmpeg: { type: 'string', default: process.env.FFMPEG ?? 'ffmpeg' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (opt.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport ')[0].replace(/^#!.*\n/, '').replace(/^\/\/ ?/gm, ''));
  process.exit(0);
}

const data = resolve(opt.data);
const out = resolve(opt.out);
const fps = Number(opt.fps);
const threads = Number(opt.threads);
const sizeMatch = /^(\d+)x(\d+)$/.exec(opt.size);
if (!sizeMatch) fail(`--size: expected WxH, got ${opt.size}`);
const W = Number(sizeMatch[1]), H = Number(sizeMatch[2]);
if (W % 2 || H % 2 || W < 16 || H < 16) fail('--size: even dimensions of at least 16');
if (!(Number.isInteger(fps) && fps >= 1 && fps <= 60)) fail('--fps: an integer in 1..60');
if (!['blur', 'pad', 'crop'].includes(opt.fit)) fail('--fit: blur, pad or crop');
if (!(Number.isInteger(threads) && threads >= 1)) fail('--threads: a positive integer');
if (!existsSync(join(data, 'val'))) fail(`no Grocery Store Dataset at ${data} (no val/); set --data or SHOPFRAME_GROCERY`);

// ---- the dataset: product id -> { category, photos (paths relative to data) } -------------

function loadDataset() {
  const products = new Map();
  const csvPath = join(data, 'classes.csv');
  const valPath = join(data, 'val.txt');
  if (existsSync(csvPath) && existsSync(valPath)) {
    const byClass = new Map();
    for (const line of readFileSync(csvPath, 'utf8').trim().split(/\r?\n/).slice(1)) {
      const [name, cls, , , iconic] = line.split(',');
      const parts = iconic.replace(/^\//, '').split('/');
      const p = { id: name, category: parts.slice(1, -2).join('/'), photos: [] };
      products.set(name, p);
      byClass.set(Number(cls), p);
    }
    for (const line of readFileSync(valPath, 'utf8').trim().split(/\r?\n/)) {
      const [path, cls] = line.split(',').map((s) => s.trim());
      byClass.get(Number(cls))?.photos.push(path);
    }
  }
  for (const p of products.values()) p.photos.sort();
  return products;
}
const dataset = loadDataset();

/** Val photos of a product: from val.txt, else <data>/val/<category>/<id>/*.jpg. */
function photosOf(id, category) {
  const known = dataset.get(id);
  if (known?.photos.length) return known.photos;
  const dir = join('val', category ?? known?.category ?? '', id);
  try {
    return readdirSync(join(data, dir)).filter((f) => /\.jpe?g$/i.test(f)).sort().map((f) => join(dir, f));
  } catch {
    return [];
  }
}

function readCatalog(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    fail(`catalog ${path}: ${e.code === 'ENOENT' ? 'no such file (make it with node tools/grocery.mjs)' : e.message}`);
  }
  const rows = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let r;
    try {
      r = JSON.parse(line);
    } catch (e) {
      fail(`${path}:${i + 1}: ${e.message}`);
    }
    if (typeof r.id !== 'string') fail(`${path}:${i + 1}: no "id"`);
    rows.push({ id: r.id, category: typeof r.category === 'string' ? r.category : dataset.get(r.id)?.category ?? '' });
  });
  return rows;
}

// ---- deterministic randomness ----------------------------------------------------------------

function rng(...keys) {
  let h = 0x811c9dc5;
  for (const ch of keys.join('/')) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  let s = h || 1;
  return () => {  // mulberry32
    s = (s + 0x6D2B79F5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = (r, list) => list[Math.floor(r() * list.length)];

// ---- what to render ----------------------------------------------------------------------------

function generatedVideos() {
  const inCatalog = readCatalog(resolve(opt['in-catalog'] ?? join(repo, 'build', 'grocery', 'catalog-open.jsonl')))
    .map((p) => ({ ...p, photos: photosOf(p.id, p.category) }));
  const inIds = new Set(inCatalog.map((p) => p.id));
  let distractors;
  if (opt.distractors !== undefined) {
    distractors = opt.distractors.split(',').map((s) => s.trim()).filter(Boolean).map((id) => {
      if (inIds.has(id)) fail(`--distractors: ${id} is in the catalog`);
      if (!dataset.has(id) && !photosOf(id).length) fail(`--distractors: unknown product ${id}`);
      return { id, category: dataset.get(id)?.category ?? '' };
    });
  } else {
    const full = resolve(opt.catalog ?? join(repo, 'build', 'grocery', 'catalog.jsonl'));
    distractors = readCatalog(full).filter((p) => !inIds.has(p.id));
  }
  distractors = distractors.map((p) => ({ ...p, photos: photosOf(p.id, p.category) }));
  const usable = (list) => list.filter((p) => p.photos.length > 0);
  const inUse = usable(inCatalog), disUse = usable(distractors);
  const skipped = [...inCatalog, ...distractors].filter((p) => !p.photos.length).map((p) => p.id);
  if (skipped.length) console.error(`make-test-videos: ${skipped.length} products have no val photos, left out: ${skipped.join(', ')}`);

  const count = Number(opt.count), disVideos = Number(opt['distractor-videos']), rate = Number(opt['distractor-rate']);
  const seg = /^(\d+)(?:-(\d+))?$/.exec(opt.segments);
  if (!Number.isInteger(count) || count < 0) fail('--count: a non-negative integer');
  if (!Number.isInteger(disVideos) || disVideos < 0) fail('--distractor-videos: a non-negative integer');
  if (!(rate >= 0 && rate <= 1)) fail('--distractor-rate: a number in [0, 1]');
  if (!seg) fail('--segments: N or MIN-MAX');
  const segMin = Number(seg[1]), segMax = Number(seg[2] ?? seg[1]);
  if (segMin < 1 || segMax < segMin) fail('--segments: 1 <= MIN <= MAX');
  if (count > 0 && !inUse.length) fail('no in-catalog product has val photos');
  if (disVideos > 0 && !disUse.length) fail('no distractor product has val photos');

  const make = (name, r, pool) => {
    const n = segMin + Math.floor(r() * (segMax - segMin + 1));
    const segments = [];
    const used = new Set();
    let prev = null;
    for (let i = 0; i < n; ++i) {
      const distractor = pool === 'distractors' || (disUse.length > 0 && r() < rate);
      const list = distractor ? disUse : inUse;
      let p = pick(r, list);
      for (let k = 0; k < 8 && list.length > 1 && p.id === prev; ++k) p = pick(r, list);
      let photo = pick(r, p.photos);
      for (let k = 0; k < 8 && used.has(photo); ++k) photo = pick(r, p.photos);
      used.add(photo);
      prev = p.id;
      const frames = Math.round((2 + 2 * r()) * fps);  // 2-4 s
      segments.push({ id: p.id, category: p.category, expected: distractor ? null : p.id, photo: join(data, photo), frames, motion: pick(r, MOTIONS) });
    }
    return { name, segments };
  };
  const pad = (k, total) => String(k).padStart(Math.max(2, String(total).length), '0');
  const videos = [];
  for (let k = 1; k <= count; ++k) videos.push(make(`${opt.prefix}-${pad(k, count)}`, rng(opt.seed, 'mix', k), 'mixed'));
  for (let k = 1; k <= disVideos; ++k) videos.push(make(`distractors-${pad(k, disVideos)}`, rng(opt.seed, 'distractors', k), 'distractors'));
  return videos;
}

function specVideos(specPath) {
  let spec;
  try {
    spec = JSON.parse(readFileSync(specPath, 'utf8'));
  } catch (e) {
    fail(`spec ${specPath}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  const specDir = dirname(specPath);
  const inIds = opt['in-catalog'] ? new Set(readCatalog(resolve(opt['in-catalog'])).map((p) => p.id)) : null;
  const list = Array.isArray(spec) ? [{ segments: spec }] : Array.isArray(spec.videos) ? spec.videos : [spec];
  return list.map((v, vi) => {
    const name = v.name ?? (v.video ? basename(v.video, extname(v.video)) : null) ??
      (list.length === 1 ? basename(specPath, extname(specPath)) : `video-${vi + 1}`);
    if (!/^[\w.-]+$/.test(name)) fail(`spec: video name ${JSON.stringify(name)}: letters, digits, . _ - only`);
    if (!Array.isArray(v.segments) || !v.segments.length) fail(`spec: video ${name}: no segments`);
    const segments = v.segments.map((s, i) => {
      const where = `spec: video ${name}, segment ${i + 1}`;
      let id = typeof s.id === 'string' ? s.id : null;
      let photo;
      if (typeof s.photo === 'string') {
        photo = isAbsolute(s.photo) ? s.photo : [join(data, s.photo), resolve(specDir, s.photo)].find((p) => existsSync(p));
        if (!photo || !existsSync(photo)) fail(`${where}: photo ${s.photo} not found (in ${data} or ${specDir})`);
        id ??= dataset.has(basename(dirname(photo))) ? basename(dirname(photo)) : null;
      } else {
        if (!id) fail(`${where}: needs "id" or "photo"`);
        const photos = photosOf(id, s.category);
        const k = s.photo ?? 0;
        if (!Number.isInteger(k) || k < 0 || k >= photos.length) fail(photos.length ? `${where}: ${id} has ${photos.length} val photos, no photo ${k}` : `${where}: no val photos for ${id} (unknown product?)`);
        photo = join(data, photos[k]);
      }
      const seconds = s.duration ?? (Number.isFinite(s.from) && Number.isFinite(s.to) ? s.to - s.from : 3);
      const frames = Math.round(seconds * fps);
      if (!(frames >= 1 && seconds <= 600)) fail(`${where}: duration ${seconds}: expected (0, 600] seconds`);
      if (s.motion !== undefined && !MOTIONS.includes(s.motion)) fail(`${where}: motion: one of ${MOTIONS.join(', ')}`);
      let expected;
      if (s.expected !== undefined) expected = s.expected;
      else if (s.distractor === true || !id) expected = null;
      else expected = inIds && !inIds.has(id) ? null : id;
      if (expected !== null && typeof expected !== 'string') fail(`${where}: expected: a product id or null`);
      const category = typeof s.category === 'string' ? s.category : dataset.get(id)?.category ?? null;
      return { id, category, expected, photo, frames, motion: s.motion ?? MOTIONS[i % MOTIONS.length] };
    });
    return { name, segments };
  });
}

// ---- rendering -------------------------------------------------------------------------------------

function chooseCodec() {
  const r = spawnSync(opt.ffmpeg, ['-hide_banner', '-encoders'], { encoding: 'utf8' });
  if (r.error) fail(`cannot run ${opt.ffmpeg}: ${r.error.code === 'ENOENT' ? 'not found (Debian: apt-get install ffmpeg)' : r.error.message}`);
  const has = (name) => new RegExp(`^\\s*V\\S*\\s+${name}\\s`, 'm').test(r.stdout);
  const want = opt.codec;
  if (!['auto', 'h264', 'vp9'].includes(want)) fail('--codec: auto, h264 or vp9');
  if ((want === 'auto' || want === 'h264') && has('libx264')) return 'h264';
  if ((want === 'auto' || want === 'vp9') && has('libvpx-vp9')) return 'vp9';
  fail(`ffmpeg has no ${want === 'auto' ? 'libx264 or libvpx-vp9' : want === 'h264' ? 'libx264' : 'libvpx-vp9'} encoder`);
}

/** zoompan expressions; P = progress 0..1 over the segment, zoom 1 -> 1.15 or pan at 1.15. */
function zoompan(motion, frames) {
  const P = frames > 1 ? `(on/${frames - 1})` : '0';
  const cx = '(iw-iw/zoom)/2', cy = '(ih-ih/zoom)/2';
  const [z, x, y] = {
    'zoom-in': [`1+0.15*${P}`, cx, cy],
    'zoom-out': [`1.15-0.15*${P}`, cx, cy],
    'pan-left': ['1.15', `(iw-iw/zoom)*(1-${P})`, cy],
    'pan-right': ['1.15', `(iw-iw/zoom)*${P}`, cy],
    'pan-up': ['1.15', cx, `(ih-ih/zoom)*(1-${P})`],
    'pan-down': ['1.15', cx, `(ih-ih/zoom)*${P}`],
  }[motion];
  return `zoompan=z='${z}':x='${x}':y='${y}':d=${frames}:s=${W}x${H}:fps=${fps}`;
}

function filterGraph(segments) {
  // The photo is composed on a canvas at twice the output size so that zoompan's integer
  // crop offsets move by half an output pixel at most (smooth motion).
  const CW = 2 * W, CH = 2 * H;
  const parts = segments.map((s, i) => {
    let compose;
    if (opt.fit === 'crop') {
      compose = `[${i}:v]scale=${CW}:${CH}:force_original_aspect_ratio=increase,crop=${CW}:${CH},setsar=1`;
    } else if (opt.fit === 'pad') {
      compose = `[${i}:v]scale=${CW}:${CH}:force_original_aspect_ratio=decrease,setsar=1,pad=${CW}:${CH}:(ow-iw)/2:(oh-ih)/2:color=0x202020`;
    } else {
      compose = `[${i}:v]split[a${i}][b${i}];` +
        `[a${i}]scale=${CW}:${CH}:force_original_aspect_ratio=increase,crop=${CW}:${CH},setsar=1,boxblur=24:2,eq=brightness=-0.12[bg${i}];` +
        `[b${i}]scale=${CW}:${CH}:force_original_aspect_ratio=decrease,setsar=1[fg${i}];` +
        `[bg${i}][fg${i}]overlay=(W-w)/2:(H-h)/2`;
    }
    return `${compose},${zoompan(s.motion, s.frames)},setsar=1,format=yuv420p[s${i}]`;
  });
  const inputs = segments.map((_, i) => `[s${i}]`).join('');
  return `${parts.join(';')};${inputs}concat=n=${segments.length}:v=1:a=0[v]`;
}

function encoderArgs(codec) {
  const common = ['-pix_fmt', 'yuv420p', '-threads', String(threads), '-map_metadata', '-1', '-fflags', '+bitexact', '-flags:v', '+bitexact'];
  if (codec === 'h264') {
    return [...common, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-g', String(2 * fps), '-movflags', '+faststart', '-f', 'mp4'];
  }
  return [...common, '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1', '-b:v', '0', '-crf', '34', '-g', String(2 * fps), '-f', 'webm'];
}

function run(args) {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(opt.ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s) => { err = (err + s).slice(-4000); });
    child.on('error', rejectRun);
    child.on('close', (code, signal) => (code === 0 ? resolveRun() : rejectRun(new Error(`ffmpeg exited with ${code ?? signal}: ${err.trim()}`))));
  });
}

async function render(video, codec) {
  const ext = codec === 'h264' ? '.mp4' : '.webm';
  const file = join(out, video.name + ext);
  const tmp = join(out, `.${video.name}.tmp-${process.pid}${ext}`);
  const args = ['-hide_banner', '-nostdin', '-nostats', '-v', 'error', '-y'];
  for (const s of video.segments) args.push('-i', `file:${s.photo}`);
  args.push('-filter_complex', filterGraph(video.segments), '-map', '[v]', ...encoderArgs(codec), tmp);
  try {
    await run(args);
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  let frame = 0;
  const segments = video.segments.map((s) => {
    const from = frame / fps;
    frame += s.frames;
    return {
      from: +from.toFixed(6), to: +(frame / fps).toFixed(6), expected: s.expected, id: s.id, category: s.category,
      photo: relative(out, s.photo), motion: s.motion,
    };
  });
  const truth = { video: basename(file), duration: +(frame / fps).toFixed(6), width: W, height: H, fps, codec, segments };
  await writeFileAtomic(join(out, `${video.name}.json`), JSON.stringify(truth, null, 2) + '\n');
  return { file, truth };
}

const videos = opt.spec ? specVideos(resolve(opt.spec)) : generatedVideos();
const names = new Set();
for (const v of videos) {
  if (names.has(v.name)) fail(`two videos named ${v.name}`);
  names.add(v.name);
}
const codec = chooseCodec();
await mkdir(out, { recursive: true });
if (!statSync(out).isDirectory()) fail(`--out ${out}: not a directory`);
const t0 = Date.now();
for (const v of videos) {
  const t = Date.now();
  try {
    const { file, truth } = await render(v, codec);
    const shown = truth.segments.map((s) => (s.expected === null ? `(${s.id})` : s.id)).join(' | ');
    console.error(`make-test-videos: ${relative(process.cwd(), file)}  ${truth.duration.toFixed(2)} s, ${truth.segments.length} segments, ` +
      `${((Date.now() - t) / 1000).toFixed(1)} s: ${shown}`);
  } catch (e) {
    fail(`${v.name}: ${e.message}`);
  }
}
console.error(`make-test-videos: ${videos.length} videos (${codec}) in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${out}`);
