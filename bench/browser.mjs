#!/usr/bin/env node
// The browser SDK's per-frame cost by stage and its sustained analysed frames per second, in
// Debian chromium (playwright-core), with the node pipeline on the same video as the baseline,
// in one script. Baseline: node (onnxruntime-web's wasm backend in node, same engine, frames
// from ffmpeg at 2 fps).
//   node bench/browser.mjs [--json] [--threads N] [--video build/demo/web/sample.webm]
//   (--video: the node side; the page plays the demo's sample; --threads: ORT threads, both sides)
// Needs tools/demo.mjs --no-serve (demo files) and tools/build.sh (build/web). The browser side
// plays the demo's sample video once at normal speed with sampleFps 30 and cpuBudget 1, so the
// worker analyses frames back to back: its frame rate is the ceiling on this machine.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

import { createEngine } from '../js/engine.mjs';
import { readVideoFrames } from '../js/node/video_frames.mjs';
import { createDemoServer, repoMounts } from '../web/server.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, threads: { type: 'string', default: '1' }, video: { type: 'string', default: join(REPO, 'build/demo/web/sample.webm') } } });
const index = join(REPO, 'build/demo/web/catalog.sfi');
for (const f of [values.video, index, join(REPO, 'build/web/worker.mjs')]) {
  if (!existsSync(f)) { console.error(`bench/browser: missing ${f} (run node tools/demo.mjs --no-serve)`); process.exit(2); }
}
const STAGES = ['grab', 'decode', 'preprocess', 'detect', 'embed', 'search', 'total'];

async function browserRun() {
  const server = await createDemoServer({ mounts: await repoMounts() });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--autoplay-policy=no-user-gesture-required'] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/?sampleFps=30&cpuBudget=1&threads=${values.threads}`);
    await page.waitForFunction(() => window.shopframeDemo?.ready || window.shopframeDemo?.error, null, { timeout: 180_000 });
    const version = browser.version();
    const stats = await page.evaluate(async () => {
      const v = document.getElementById('player');
      await v.play();
      await new Promise((resolve) => v.addEventListener('ended', resolve, { once: true }));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      return { ...window.shopframeDemo.session.stats, threads: window.shopframeDemo.session.info.threads };
    });
    return { version, ...stats };
  } finally {
    await browser.close();
    server.close();
    server.closeAllConnections();
  }
}

async function nodeRun() {
  const engine = await createEngine({ index: new Uint8Array(await readFile(index)), numThreads: Number(values.threads) });
  const sums = {};
  let frames = 0;
  const t0 = performance.now();
  try {
    for await (const f of readVideoFrames(values.video, { fps: 2 })) {
      const r = await engine.analyzeImage(f.rgba, f.width, f.height, { k: 10 });
      for (const [k, v] of Object.entries(r.timings_ms)) sums[k] = (sums[k] ?? 0) + v;
      ++frames;
    }
  } finally {
    await engine.close();
  }
  const wall = (performance.now() - t0) / 1000;
  return { frames, mean_ms: Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / frames])), fps: frames / wall };
}

const nodeStats = await nodeRun();
const browserStats = await browserRun();
const rows = STAGES.map((s) => {
  const b = browserStats.mean_ms[s], n = nodeStats.mean_ms[s];
  return { stage: s, browser_ms: b ?? null, node_ms: n ?? null, ratio: b !== undefined && n ? b / n : null };
});
const result = {
  threads: Number(values.threads),
  browser: { chromium: browserStats.version, threads: browserStats.threads, frames: browserStats.frames, fps: browserStats.fps, grab: browserStats.grab, skippedBusy: browserStats.skippedBusy },
  node: { frames: nodeStats.frames, fps_including_ffmpeg: nodeStats.fps },
  stages: rows,
};
if (values.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(`chromium ${browserStats.version}, ${browserStats.threads} ORT thread(s): ${browserStats.frames} frames analysed back to back, ${browserStats.fps?.toFixed(2)} frames/s sustained (frame grab: ${browserStats.grab})`);
  console.log(`node baseline (${values.threads} ORT thread(s)): ${nodeStats.frames} frames (ffmpeg, 2 fps), ${nodeStats.fps.toFixed(2)} frames/s including decoding`);
  console.log('stage         browser ms   node ms   browser/node');
  for (const r of rows) {
    const f = (v, d = 1) => (v === null ? '-' : v.toFixed(d));
    console.log(`${r.stage.padEnd(12)} ${f(r.browser_ms).padStart(11)} ${f(r.node_ms).padStart(9)} ${f(r.ratio, 2).padStart(14)}`);
  }
}
