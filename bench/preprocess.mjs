#!/usr/bin/env node
// Frame preprocessing: the WASM core (SIMD128) against a plain-JS implementation of the same
// resize + letterbox + normalise, in one process. Baseline: plain JS.
//   node bench/preprocess.mjs [--json] [--iterations N]
// Cases: a 1280x720 RGBA frame into YOLOX-Nano's 416x416 BGR letterbox (area averaging:
// the frame shrinks by ~3x) and into MobileNetV2's 224x224 RGB ImageNet-normalised input.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { initCore } from '../js/core.mjs';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, iterations: { type: 'string', default: '30' } } });
const iterations = Number(values.iterations);

// Plain JS: separable area-average (box) resampling in float, then normalisation into NCHW.
function resizeAreaJs(src, sw, sh, dw, dh) {
  const tmp = new Float32Array(dw * sh * 3);
  const sx = sw / dw, sy = sh / dh;
  for (let y = 0; y < sh; ++y) {
    for (let x = 0; x < dw; ++x) {
      const x0 = x * sx, x1 = x0 + sx;
      let r = 0, g = 0, b = 0;
      for (let i = Math.floor(x0); i < Math.ceil(x1); ++i) {
        const w = Math.min(x1, i + 1) - Math.max(x0, i);
        const p = (y * sw + i) * 4;
        r += w * src[p], g += w * src[p + 1], b += w * src[p + 2];
      }
      const o = (y * dw + x) * 3;
      tmp[o] = r / sx, tmp[o + 1] = g / sx, tmp[o + 2] = b / sx;
    }
  }
  const out = new Float32Array(dw * dh * 3);
  for (let y = 0; y < dh; ++y) {
    const y0 = y * sy, y1 = y0 + sy;
    for (let x = 0; x < dw; ++x) {
      let r = 0, g = 0, b = 0;
      for (let j = Math.floor(y0); j < Math.ceil(y1); ++j) {
        const w = Math.min(y1, j + 1) - Math.max(y0, j);
        const p = (j * dw + x) * 3;
        r += w * tmp[p], g += w * tmp[p + 1], b += w * tmp[p + 2];
      }
      const o = (y * dw + x) * 3;
      out[o] = r / sy, out[o + 1] = g / sy, out[o + 2] = b / sy;
    }
  }
  return out;
}

function preprocessJs(src, sw, sh, m) {
  const { width: W, height: H } = m.input;
  const scale = m.input.letterbox ? Math.min(W / sw, H / sh) : 0;
  const cw = m.input.letterbox ? Math.round(sw * scale) : W, ch = m.input.letterbox ? Math.round(sh * scale) : H;
  const rgb = resizeAreaJs(src, sw, sh, cw, ch);
  const out = new Float32Array(3 * W * H);
  const bgr = m.input.color === 'BGR';
  const s = m.input.scale, mean = m.input.mean, std = m.input.std, pad = m.input.pad_value ?? 0;
  for (let c = 0; c < 3; ++c) {
    const srcC = bgr ? 2 - c : c;
    const plane = c * W * H;
    for (let y = 0; y < H; ++y) {
      for (let x = 0; x < W; ++x) {
        const v = x < cw && y < ch ? rgb[(y * cw + x) * 3 + srcC] : pad;
        out[plane + y * W + x] = (v * s - mean[c]) / std[c];
      }
    }
  }
  return out;
}

const frameW = 1280, frameH = 720;
const frame = new Uint8Array(frameW * frameH * 4);
for (let i = 0; i < frame.length; ++i) frame[i] = (i * 2654435761) >>> 24;

const core = await initCore();
const manifests = {
  'yolox-nano 416 letterbox': JSON.parse(await readFile(new URL('../models/yolox-nano.json', import.meta.url), 'utf8')),
  'mobilenetv2 224 stretch': JSON.parse(await readFile(new URL('../models/mobilenetv2-feat.json', import.meta.url), 'utf8')),
};
const embedderText = JSON.stringify(manifests['mobilenetv2 224 stretch']);

function time(fn) {
  for (let i = 0; i < 3; ++i) fn();  // warm-up
  const t = [];
  for (let i = 0; i < iterations; ++i) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

const records = [];
for (const [name, m] of Object.entries(manifests)) {
  const vision = new core.Vision();
  const detector = m.kind === 'embedding' ? '' : JSON.stringify(m);
  if (!vision.configure(embedderText, 'embedder', detector, 'detector')) throw new Error(vision.errorMessage());
  vision.frameView(frameW, frameH).set(frame);
  if (m.kind !== 'embedding') {
    vision.prepareDetector();
  } else {
    vision.fixedRegions();
  }
  const wasm = m.kind !== 'embedding' ? () => vision.prepareDetector() : () => vision.prepareCrops(1);
  const wasmMs = time(wasm);
  const jsMs = time(() => preprocessJs(frame, frameW, frameH, m));
  records.push({ case: name, frame: `${frameW}x${frameH}`, simd: core.simdName(), wasm_ms: +wasmMs.toFixed(3), js_ms: +jsMs.toFixed(3), speedup_vs_js: +(jsMs / wasmMs).toFixed(2) });
  vision.delete();
}
if (values.json) console.log(JSON.stringify(records));
else for (const r of records) console.log(`${r.case}: wasm(${r.simd}) ${r.wasm_ms} ms, plain JS ${r.js_ms} ms -> ${r.speedup_vs_js}x`);
