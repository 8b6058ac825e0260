// The in-browser demo in a real browser: Debian's chromium driven by playwright-core, the page
// served by web/server.mjs. Needs the demo files (tools/demo.mjs --no-serve writes
// build/demo/web: the grocery catalog index and the sample video with its ground truth) and
// the SDK bundle (build/web). tools/test.sh prepares both.
//
//   node --test tests/browser/        CHROMIUM=/path/to/chrome to use another browser
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

import { createDemoServer, repoMounts } from '../../web/server.mjs';
import { buildIndexDetailed, loadIndex } from '../../js/shopframe.mjs';
import { tinyEmbedder, writeManifest } from '../js/lib/tiny_onnx.mjs';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const DEMO = join(REPO, 'build', 'demo', 'web');
const SCREENSHOT = join(REPO, 'build', 'test-artifacts', 'demo.png');
const EXECUTABLE = process.env.CHROMIUM ?? '/usr/bin/chromium';

let server, base, browser, tinyDir;

before(async () => {
  for (const f of [join(DEMO, 'catalog.sfi'), join(DEMO, 'sample.webm'), join(DEMO, 'sample.json'), join(REPO, 'build', 'web', 'worker.mjs'),
    join(REPO, 'build', 'demo', 'grocery', 'catalog-open.jsonl')]) {
    assert.ok(existsSync(f), `${f} is missing: run tools/demo.sh --no-serve (or tools/test.sh) first`);
  }
  assert.ok(existsSync(EXECUTABLE), `${EXECUTABLE} is missing: apt-get install chromium (tools/setup.sh does)`);
  tinyDir = await mkdtemp(join(tmpdir(), 'shopframe-browser-'));
  await writeTinyAssets(tinyDir);
  server = await createDemoServer({ mounts: [...await repoMounts(), { prefix: '/tiny/', dir: tinyDir }] });
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: EXECUTABLE, args: ['--autoplay-policy=no-user-gesture-required'] });
});

after(async () => {
  await browser?.close();
  server?.close();
  server?.closeAllConnections();
  if (tinyDir) await rm(tinyDir, { recursive: true, force: true });
});

/** A page that fails the test on console errors and uncaught exceptions. */
async function openPage(path, { context } = {}) {
  const page = await (context ?? browser).newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  await page.goto(`${base}${path}`);
  return { page, problems };
}

// A tiny embedder (8-d, 32x32, built here) and a matching uncalibrated index: enough to run
// the worker's whole lifecycle quickly, 100 times.
async function writeTinyAssets(dir) {
  const bytes = tinyEmbedder({ size: 32, dim: 8 });
  const { manifest } = await writeManifest(dir, { bytes, name: 'tiny-emb', size: 32, embeddingDim: 8 });
  const n = 16;
  const vectors = Float32Array.from({ length: n * 8 }, (_, i) => Math.sin(i * 1.7) + (i % 8 === i % 3 ? 1 : 0));
  const items = Array.from({ length: n }, (_, i) => ({ id: `p${i}`, title: `Product ${i}`, category: 'Things', price: 1, currency: 'EUR' }));
  const { bytes: index } = await buildIndexDetailed({ vectors, dim: 8, items, config: { embedder: { name: manifest.name, sha256: manifest.sha256, dim: 8 } } });
  await writeFile(join(dir, 'tiny.sfi'), index);
}

// ----------------------------------------------------------------------------- the demo

/** Does a suggestion name what a ground-truth segment shows? (the product, or its category) */
function names(s, seg) {
  if (seg.expected === null) return false;  // not in the catalog: any suggestion is wrong
  return s.kind === 'item' ? s.id === seg.expected : seg.category === s.id || seg.category.startsWith(`${s.id}/`);
}

test('demo: the sample video gets the right suggestions in their time windows, none for products not in the catalog', async () => {
  const truth = JSON.parse(readFileSync(join(DEMO, 'sample.json'), 'utf8'));
  const { page, problems } = await openPage('/');
  await page.waitForFunction(() => window.shopframeDemo?.ready || window.shopframeDemo?.error, null, { timeout: 180_000 });
  assert.equal(await page.evaluate(() => window.shopframeDemo.error), null);
  // The demo is served cross-origin isolated (COOP/COEP), so its worker gets 2 ORT threads.
  assert.equal(await page.evaluate(() => window.shopframeDemo.session.info.threads), 2);
  // Half speed: a 2-core machine then samples about 2 frames per second of video, as the
  // node pipeline does (a sample costs ~0.3-0.5 s; the SDK keeps within its CPU budget).
  const started = Date.now();
  await page.evaluate(() => { const v = document.getElementById('player'); v.playbackRate = 0.5; return v.play(); });
  await page.waitForFunction(() => document.getElementById('player').ended, null, { timeout: (2 * truth.duration + 60) * 1000 });
  await page.waitForTimeout(1500);  // the last frame's answer
  const { suggestions, stats } = await page.evaluate(() => {
    const latest = new Map();
    for (const s of window.shopframeDemo.suggestions) latest.set(s.key, s);
    return { suggestions: [...latest.values()], stats: window.shopframeDemo.session.stats };
  });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  console.log(`screenshot: ${SCREENSHOT}`);
  console.log(`played ${truth.duration} s in ${((Date.now() - started) / 1000).toFixed(1)} s; analysed ${stats.frames} frames, ` +
    `${stats.fps?.toFixed(2)} frames/s sustained; frame grab ${stats.grab}; mean ms per frame: ` +
    Object.entries(stats.mean_ms).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', '));
  for (const s of suggestions) console.log(`  ${s.from.toFixed(2)}-${s.to.toFixed(2)} s  ${s.kind} ${s.id}  confidence ${s.confidence.toFixed(3)}`);

  assert.ok(stats.frames >= truth.duration, `only ${stats.frames} frames analysed in ${truth.duration} s`);
  assert.equal(stats.errors, 0);
  // Every suggestion overlaps only segments showing what it names (so none during a product
  // that is not in the catalog)...
  for (const s of suggestions) {
    const overlapped = truth.segments.filter((seg) => s.from < seg.to && s.to >= seg.from);
    assert.ok(overlapped.length > 0, `suggestion ${s.id} at ${s.from}-${s.to} s is outside the video`);
    for (const seg of overlapped) {
      assert.ok(names(s, seg), `${s.kind} suggestion ${s.id} (${s.from.toFixed(2)}-${s.to.toFixed(2)} s) during ${seg.id} ` +
        `(${seg.from}-${seg.to} s${seg.expected === null ? ', not in the catalog' : ''})`);
    }
  }
  // ... and every product in the catalog gets one within its window. (Until one embedder pass
  // per frame the engine abstained on the oat milk and this asked for half; docs/web.md.)
  const products = truth.segments.filter((seg) => seg.expected !== null);
  const found = products.filter((seg) => suggestions.some((s) => s.from < seg.to && s.to >= seg.from && names(s, seg)));
  console.log(`products suggested: ${found.length}/${products.length} (${found.map((s) => s.id).join(', ')})`);
  const missed = products.filter((seg) => !found.includes(seg)).map((seg) => `${seg.id} (${seg.from}-${seg.to} s)`);
  assert.deepEqual(missed, [], `products without a suggestion in their window: ${missed.join(', ')}`);

  // Replay: seeking back and playing again reuses what was analysed (known slots are skipped).
  const replay = await page.evaluate(async () => {
    const v = document.getElementById('player');
    const before = window.shopframeDemo.session.stats;
    v.currentTime = 0;
    await new Promise((resolve) => v.addEventListener('seeked', resolve, { once: true }));
    v.playbackRate = 1;
    await v.play();
    await new Promise((resolve) => setTimeout(resolve, 4000));
    v.pause();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = window.shopframeDemo.session.stats;
    return { frames: after.frames - before.frames, known: after.skippedKnown - before.skippedKnown, t: v.currentTime };
  });
  console.log(`replay of 0-${replay.t.toFixed(1)} s: ${replay.frames} frames analysed again, ${replay.known} skipped as already analysed`);
  assert.ok(replay.known >= 20, `replay skipped only ${replay.known} frames as known`);
  assert.ok(replay.frames <= 4, `replay analysed ${replay.frames} frames again (of ~8 sample slots)`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('demo: the chip is a keyboard-operable button that opens a panel of similar items', async () => {
  const { page, problems } = await openPage('/');
  await page.waitForFunction(() => window.shopframeDemo?.ready, null, { timeout: 180_000 });
  // Play until the first chip appears (the first segment is a catalog product).
  await page.evaluate(() => document.getElementById('player').play());
  const chip = page.locator('shopframe-suggestions').locator('button[part~="chip"]');
  await chip.waitFor({ state: 'visible', timeout: 60_000 });
  await page.evaluate(() => document.getElementById('player').pause());
  const heightBefore = await page.locator('shopframe-suggestions').evaluate((e) => e.getBoundingClientRect().height);
  await chip.focus();
  await page.keyboard.press('Enter');
  const panel = page.locator('shopframe-suggestions').locator('[part~="panel"]');
  await panel.waitFor({ state: 'visible' });
  assert.equal(await chip.getAttribute('aria-expanded'), 'true');
  const items = panel.locator('[part~="item"]');
  assert.ok(await items.count() >= 1, 'the panel lists similar items');
  const firstTitle = await items.first().innerText();
  assert.ok(firstTitle.trim().length > 0);
  // Opening the panel does not move the page below the element (no layout shift).
  assert.equal(await page.locator('shopframe-suggestions').evaluate((e) => e.getBoundingClientRect().height), heightBefore);
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'hidden' });
  assert.equal(await chip.getAttribute('aria-expanded'), 'false');
  assert.deepEqual(problems, []);
  await page.close();
});

// ----------------------------------------------------------------------------- your own video and index

/**
 * What a user would bring, made as a user would: an index built by the CLI from 25 of the demo
 * catalog's products (every third, plus the two the clip shows; iconic image + 11 train photos
 * each, whose embeddings the demo's build cached), renamed so that every suggestion and similar
 * item shows which index answered (ids "own-...", categories "Own/..."); and an 8 s clip of
 * val photos of two of them (tools/make-test-videos.mjs, VP9), with its ground truth.
 */
async function makeOwnVideoAndIndex(dir) {
  const run = promisify(execFile);
  const source = join(REPO, 'build', 'demo', 'grocery', 'catalog-open.jsonl');
  const spec = { name: 'own', segments: [
    { id: 'Banana', photo: 1, duration: 4, motion: 'zoom-in' },
    { id: 'Granny-Smith', photo: 1, duration: 4, motion: 'pan-left' },
  ] };
  const shown = new Set(spec.segments.map((seg) => seg.id));
  const products = readFileSync(source, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    .filter((p, i) => i % 3 === 0 || shown.has(p.id))
    .map((p) => ({ ...p, id: `own-${p.id}`, title: `Own ${p.title}`, category: `Own/${p.category}`,
      images: p.images.slice(0, 12).map((img) => resolve(dirname(source), img)) }));
  await writeFile(join(dir, 'own.jsonl'), products.map((p) => JSON.stringify(p)).join('\n') + '\n');
  await writeFile(join(dir, 'own-spec.json'), JSON.stringify(spec));
  const index = join(dir, 'own.sfi');
  // Built with the int8 embedder, not the page's default: the page offers both and the worker
  // must load the one this index names.
  await run(process.execPath, [join(REPO, 'bin', 'shopframe.mjs'), 'catalog', 'build', join(dir, 'own.jsonl'), '-o', index, '--embedder', 'mobilenetv2-feat']);
  await run(process.execPath, [join(REPO, 'tools', 'make-test-videos.mjs'), '--spec', join(dir, 'own-spec.json'), '--out', dir, '--codec', 'vp9']);
  const built = await loadIndex(readFileSync(index));
  const info = { vectors: built.size, calibrated: !!built.config()?.calibration };
  built.close();
  return {
    index, video: join(dir, 'own.webm'), truth: JSON.parse(readFileSync(join(dir, 'own.json'), 'utf8')), ...info,
    ids: new Set(products.map((p) => p.id)), categories: new Set(products.map((p) => p.category)),
  };
}

test('demo: a user\'s own video and index replace the sample; a bad index or video gets a clear message, not a broken page', async () => {
  const own = await makeOwnVideoAndIndex(tinyDir);
  assert.ok(own.calibrated, 'the CLI calibrated the own index (else it never suggests)');
  const { page, problems } = await openPage('/');
  await page.waitForFunction(() => window.shopframeDemo?.ready, null, { timeout: 180_000 });

  // The page's file inputs, as a user choosing files: the index, then the video.
  await page.setInputFiles('#own-index', own.index);
  await page.waitForFunction(() => window.shopframeDemo.ready && window.shopframeDemo.source.index === 'own.sfi', null, { timeout: 120_000 });
  await page.setInputFiles('#own-video', own.video);
  await page.waitForFunction(() => window.shopframeDemo.ready && window.shopframeDemo.source.video === 'own.webm', null, { timeout: 120_000 });
  const loaded = await page.evaluate(async () => {
    const v = document.getElementById('player');
    if (v.readyState < 1) await new Promise((resolve) => v.addEventListener('loadedmetadata', resolve, { once: true }));
    return { src: v.currentSrc, duration: v.duration, vectors: window.shopframeDemo.session.info.vectors, status: document.getElementById('status').textContent };
  });
  console.log(`own: ${loaded.status}`);
  assert.match(loaded.src, /^blob:/);
  assert.ok(Math.abs(loaded.duration - own.truth.duration) < 0.5, `the page plays a ${loaded.duration} s video, not the ${own.truth.duration} s clip`);
  assert.equal(loaded.vectors, own.vectors, 'the session searches the own index');
  assert.match(loaded.status, /^Ready: own\.sfi/);
  assert.match(loaded.status, /embedder mobilenetv2-feat,/, 'the worker chose the embedder the own index was built with');

  await page.evaluate(() => { const v = document.getElementById('player'); v.playbackRate = 0.5; return v.play(); });
  await page.waitForFunction(() => document.getElementById('player').ended, null, { timeout: (2 * own.truth.duration + 60) * 1000 });
  await page.waitForTimeout(1500);  // the last frame's answer
  const suggestions = await page.evaluate(() => {
    const latest = new Map();
    for (const s of window.shopframeDemo.suggestions) latest.set(s.key, s);
    return [...latest.values()];
  });
  for (const s of suggestions) console.log(`  own: ${s.from.toFixed(2)}-${s.to.toFixed(2)} s  ${s.kind} ${s.id}  confidence ${s.confidence.toFixed(3)}`);
  assert.ok(suggestions.length >= 1, 'no suggestion on the own clip');
  // Everything shown comes from the own index (its ids and categories exist nowhere else)...
  for (const s of suggestions) {
    assert.ok(s.kind === 'item' ? own.ids.has(s.id) : own.categories.has(s.id), `${s.kind} ${s.id} is not in the own index`);
    for (const h of s.similar) assert.ok(own.ids.has(h.id), `similar item ${h.id} of ${s.id} is not in the own index`);
  }
  // ... and names what the clip shows at that time.
  const ownSegment = (seg) => ({ ...seg, expected: `own-${seg.expected}`, category: `Own/${seg.category}` });
  for (const s of suggestions) {
    for (const seg of own.truth.segments.filter((x) => s.from < x.to && s.to >= x.from)) {
      assert.ok(names(s, ownSegment(seg)), `${s.kind} ${s.id} (${s.from.toFixed(2)}-${s.to.toFixed(2)} s) during ${seg.id}`);
    }
  }

  // A file that is no index, dropped on the page: a clear message, and the own index stays in use.
  await page.evaluate(() => {
    const files = new DataTransfer();
    files.items.add(new File(['this is not a shopframe index\n'], 'broken.sfi'));
    document.getElementById('suggestion-list').dispatchEvent(new DragEvent('drop', { dataTransfer: files, bubbles: true, cancelable: true }));
  });
  await page.waitForFunction(() => window.shopframeDemo.error && window.shopframeDemo.ready, null, { timeout: 120_000 });
  const after = await page.evaluate(() => ({
    status: document.getElementById('status').textContent, isError: document.getElementById('status').classList.contains('error'),
    error: window.shopframeDemo.error, source: window.shopframeDemo.source, vectors: window.shopframeDemo.session.info.vectors,
  }));
  console.log(`bad index: ${after.status}`);
  assert.ok(after.isError, 'the message is shown as an error');
  assert.match(after.status, /^Cannot use broken\.sfi: index: .+\. Still using own\.sfi\.$/);
  assert.deepEqual(after.source, { video: 'own.webm', index: 'own.sfi' });
  assert.equal(after.vectors, own.vectors);
  // The page still works: playing the clip again is analysed by the new session.
  const frames = await page.evaluate(async () => {
    const v = document.getElementById('player');
    const s = window.shopframeDemo.session;
    v.currentTime = 0;
    await v.play();
    await new Promise((resolve) => { const check = () => (s.stats.frames >= 2 || v.ended ? resolve() : setTimeout(check, 50)); check(); });
    v.pause();
    return s.stats.frames;
  });
  assert.ok(frames >= 2, `only ${frames} frames analysed after the bad index`);

  // A file that is no video: said so on the page.
  await page.setInputFiles('#own-video', { name: 'broken.webm', mimeType: 'video/webm', buffer: Buffer.from('this is not a video\n') });
  await page.waitForFunction(() => window.shopframeDemo.ready && window.shopframeDemo.source.video === 'broken.webm' &&
    document.getElementById('status').classList.contains('error'), null, { timeout: 120_000 });
  const badVideo = await page.locator('#status').innerText();
  console.log(`bad video: ${badVideo}`);
  assert.match(badVideo, /^Cannot play broken\.webm: not a video format this browser can play/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('sampling adapts: with cpuBudget 0.25 the worker stays within a quarter of one core', async () => {
  const { page, problems } = await openPage('/?sampleFps=30&cpuBudget=0.25&threads=1');
  await page.waitForFunction(() => window.shopframeDemo?.ready, null, { timeout: 180_000 });
  // Steady state: the first frame (ORT's warm-up, several times slower) is left out.
  const r = await page.evaluate(async () => {
    const v = document.getElementById('player');
    const s = window.shopframeDemo.session;
    const busyMs = () => s.stats.mean_ms.roundtrip * s.stats.frames;
    await v.play();
    await new Promise((resolve) => { const check = () => (s.stats.frames >= 2 ? resolve() : setTimeout(check, 50)); check(); });
    const f0 = s.stats.frames, b0 = busyMs(), t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    v.pause();
    const frames = s.stats.frames - f0;
    return { wall: performance.now() - t0, frames, cost: (busyMs() - b0) / Math.max(1, frames), interval: s.interval };
  });
  const busy = (r.frames * r.cost) / r.wall;
  console.log(`cpuBudget 0.25: ${r.frames} frames in ${(r.wall / 1000).toFixed(1)} s at ${r.cost.toFixed(0)} ms each: ` +
    `worker busy ${(100 * busy).toFixed(0)}% of the time; sampling interval ${r.interval.toFixed(2)} s`);
  assert.ok(r.frames >= 2, `${r.frames} frames`);
  assert.ok(busy <= 0.25 * 1.3 + 0.05, `worker busy ${busy.toFixed(2)} of the time with a 0.25 budget`);
  assert.ok(r.interval >= (r.cost / 1000 / 0.25) * 0.5, `interval ${r.interval} s for a ${r.cost} ms frame`);
  assert.deepEqual(problems, []);
  await page.close();
});

async function freePort() {
  const s = createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

test('with an edge URL, a new suggestion gains similar items from the edge worker (/v1/match, CORS)', async () => {
  // The edge worker in workerd (npm run edge:dev) with the demo catalog, allowing this page's origin.
  const port = await freePort();
  const edge = spawn(process.execPath, [join(REPO, 'deploy', 'dev.mjs'), '--no-analyze'], {
    env: { ...process.env, PORT: String(port), CORS_ORIGINS: base }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let edgeLog = '';
  edge.stdout.on('data', (d) => { edgeLog += d; });
  edge.stderr.on('data', (d) => { edgeLog += d; });
  const edgeUrl = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; ++i) {
      const up = await fetch(`${edgeUrl}/v1/health`).then((r) => r.ok, () => false);
      if (up) break;
      assert.ok(i < 300 && edge.exitCode === null, `the edge worker did not start:\n${edgeLog}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { page, problems } = await openPage('/');
    await page.waitForFunction(() => window.shopframeDemo?.ready, null, { timeout: 180_000 });
    const got = await page.evaluate(async (url) => {
      const { attachShoppable } = await import('/build/index.mjs');
      await window.shopframeDemo.session.detach();
      const video = document.getElementById('player');
      const events = [];
      const session = await attachShoppable(video, {
        index: '/demo/catalog.sfi', sampleFps: 2, cpuBudget: 1, edge: { url, k: 12 },
        models: { embedder: { manifest: '/manifests/mobilenetv2-f32-multiscale.json', url: '/models/mobilenetv2-f32-multiscale.onnx' },
          detector: { manifest: '/manifests/yolox-nano-dynamic.json', url: '/models/yolox-nano-dynamic.onnx' } },
      });
      const errors = [];
      session.addEventListener('error', (e) => errors.push(e.detail.message));
      const withEdge = new Promise((resolve) => session.addEventListener('suggestion', ({ detail }) => {
        events.push(detail);
        if (detail.similar.some((h) => h.source === 'edge')) resolve(detail);
      }));
      video.playbackRate = 0.5;
      await video.play();
      const s = await Promise.race([withEdge, new Promise((resolve) => setTimeout(() => resolve(null), 60_000))]);
      video.pause();
      await session.detach();
      const first = s ? events.find((e) => e.key === s.key) : null;
      return { s, first, errors };
    }, edgeUrl);
    assert.deepEqual(got.errors, []);
    assert.ok(got.s, 'no suggestion gained items from the edge within 60 s');
    const local = new Set(got.first.similar.map((h) => h.id));
    const fromEdge = got.s.similar.filter((h) => h.source === 'edge');
    console.log(`edge: suggestion ${got.s.kind} ${got.s.id}: ${local.size} on-device items, +${fromEdge.length} from ${edgeUrl}/v1/match`);
    assert.ok(fromEdge.length >= 1);
    for (const h of fromEdge) {
      assert.ok(!local.has(h.id), `${h.id} was already listed on the device`);
      const category = got.s.kind === 'item' ? got.first.similar[0].category : got.s.id;
      assert.ok(h.category === category || h.category.startsWith(`${category}/`), `${h.id} (${h.category}) is outside ${category}`);
    }
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    edge.kill('SIGTERM');
  }
});

test('a browser without WebAssembly SIMD gets a clear message, not a broken page', async () => {
  const context = await browser.newContext();
  // Emulate a SIMD-less engine: validate() rejects modules using v128.
  await context.addInitScript(() => {
    const validate = WebAssembly.validate;
    WebAssembly.validate = (bytes) => {
      const b = new Uint8Array(bytes.buffer ?? bytes);
      return b.includes(0x7b) && b.includes(0xfd) ? false : validate(bytes);
    };
  });
  const { page, problems } = await openPage('/', { context });
  await page.waitForFunction(() => window.shopframeDemo?.error, null, { timeout: 30_000 });
  const status = await page.locator('#status').innerText();
  assert.match(status, /does not support WebAssembly SIMD/);
  assert.equal(await page.evaluate(() => window.shopframeDemo.ready), false);
  assert.deepEqual(problems, []);
  await context.close();
});

test('100 attach/detach cycles leave no workers behind and no memory growth', async () => {
  const { page, problems } = await openPage('/');
  await page.waitForFunction(() => window.shopframeDemo?.ready, null, { timeout: 180_000 });
  await page.evaluate(() => window.shopframeDemo.session.detach());
  const cdp = await page.context().newCDPSession(page);
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  const cycles = async (n) => page.evaluate(async (count) => {
    const { attachShoppable } = await import('/build/index.mjs');
    const video = document.getElementById('player');
    video.loop = true;  // frames keep coming however long the cycles take
    await video.play();
    let frames = 0;
    for (let i = 0; i < count; ++i) {
      const session = await attachShoppable(video, {
        index: '/tiny/tiny.sfi', models: { embedder: { manifest: '/tiny/tiny-emb.json', url: '/tiny/tiny-emb.onnx' } }, sampleFps: 10,
        threads: 1 + (i % 2),  // every other session also starts (and must stop) an ORT thread worker
      });
      if (session.info.threads !== 1 + (i % 2)) throw new Error(`session ${i}: ${session.info.threads} ORT threads`);
      await new Promise((resolve) => {
        session.addEventListener('frame', () => { frames += 1; resolve(); }, { once: true });
        setTimeout(resolve, 2000);
      });
      await session.detach();
    }
    video.pause();
    video.loop = false;
    return frames;
  }, n);
  const workersGone = async () => {  // live workers, once their 'close' events (which arrive late) are in
    for (let i = 0; i < 50 && page.workers().length > 0; ++i) await page.waitForTimeout(100);
    return page.workers().length;
  };
  const framesWarm = await cycles(10);
  const workersAfterWarmup = await workersGone();
  const heapWarm = await heap();
  const cyclesStarted = Date.now();
  const frames = await cycles(100);
  const msPerCycle = (Date.now() - cyclesStarted) / 100;
  const workersAfter = await workersGone();
  const heapAfter = await heap();
  console.log(`100 cycles (${msPerCycle.toFixed(0)} ms each: attach, first frame, detach): ${frames} first frames analysed; main-thread heap ${(heapWarm / 1e6).toFixed(2)} MB after 10 warm-up cycles, ` +
    `${(heapAfter / 1e6).toFixed(2)} MB after 100 more; live workers ${workersAfter}`);
  assert.ok(framesWarm >= 8 && frames >= 90, `sessions analysed frames: ${framesWarm}/10, ${frames}/100`);
  assert.equal(workersAfterWarmup, 0);
  assert.equal(workersAfter, 0);
  assert.ok(heapAfter - heapWarm < 2e6, `heap grew by ${((heapAfter - heapWarm) / 1e6).toFixed(2)} MB over 100 cycles`);
  assert.deepEqual(problems, []);
  await page.close();
});
