// Crash safety of `shopframe catalog build` (the hardening issue's "nothing lost"): a build
// SIGKILLed at any moment leaves either the previous index or the new complete one, never a
// torn file, and the embedding cache survives the same.
//
// Kill moments come from a seeded PRNG (SHOPFRAME_CRASH_SEED, default fixed; the seed and every
// delay are printed as test diagnostics; SHOPFRAME_CRASH_REPEAT=N runs N times the kills) and
// are of three kinds:
//   anytime       a delay spread (stratified) over the build's measured duration and a bit past it;
//   at write      fired when the build's temp file appears in the directory (fs.watch), plus a
//                 delay spread over the measured write-to-rename window: the moments where a
//                 non-atomic write would tear the file;
//   after rename  fired when the rename into place is seen, plus a delay up to the exit.
// The same watch shows whether the rename into place happened, so every outcome is checked
// against it: renamed <=> the new file, not renamed <=> the previous file, byte for byte.
//
// Index builds from JSONL embeddings run the real CLI (bin/shopframe.mjs). Image builds use the
// tiny hand-built ONNX embedder (tests/js/lib/tiny_onnx.mjs); the killed image builds run a small
// driver that does exactly what `catalog build --embedder` does for a catalog with images:
// buildImageCatalog() (embedding cache under SHOPFRAME_CACHE), then writeFileAtomic().
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { loadIndex } from '../../js/shopframe.mjs';
import { buildImageCatalog, VIEWS } from '../../js/node/image_catalog.mjs';
import { EmbeddingCache, defaultCacheDir } from '../../js/node/embedding_cache.mjs';
import { writeFileAtomic } from '../../js/node/atomic_write.mjs';
import { catalogLines, rng } from './helpers.mjs';
import { encodePng } from './lib/png.mjs';
import { tinyEmbedder, writeManifest } from './lib/tiny_onnx.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'shopframe.mjs');
const SEED = Number(process.env.SHOPFRAME_CRASH_SEED ?? 20261126);
// More kills per test for a deeper local run (the default keeps the file under a minute).
const REPEAT = Math.max(1, Math.floor(Number(process.env.SHOPFRAME_CRASH_REPEAT ?? 1)));
const dir = mkdtempSync(join(tmpdir(), 'shopframe-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// ------------------------------------------------------------------------------ helpers

/** Index bytes equal except the header's build time (u64 at 64) and the header CRC over it (u32 at 124). */
function sameIndex(a, b, { prefix = false } = {}) {
  if (prefix ? a.length > b.length : a.length !== b.length) return false;
  const n = a.length;
  const eq = (from, to) => Buffer.from(a.buffer, a.byteOffset + Math.min(from, n), Math.max(0, Math.min(to, n) - Math.min(from, n)))
    .equals(Buffer.from(b.buffer, b.byteOffset + Math.min(from, n), Math.max(0, Math.min(to, n) - Math.min(from, n))));
  return eq(0, 64) && eq(72, 124) && eq(128, n);
}

async function indexInfo(bytes) {
  const index = await loadIndex(new Uint8Array(bytes));  // validates the layout and every section checksum
  try {
    return index.info();
  } finally {
    index.close();
  }
}

function shuffle(list, random) {
  for (let i = list.length - 1; i > 0; --i) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

/**
 * Runs `node ...args`, watching `dirs`, and SIGKILLs it `delayMs` after the start or, with
 * `trigger`, `trigger.delayMs` after the first watched file name matching `trigger.match` shows
 * up. Resolves { code, signal, killAt, exitAt, events: [{ t, type, name }], stdout, stderr, pid }
 * (times in ms since the spawn).
 */
function runNode(args, { env = process.env, dirs = [], delayMs = null, trigger = null } = {}) {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const now = () => +(performance.now() - t0).toFixed(1);
    const events = [];
    let killAt = null, timer = null, exited = false, stdout = '', stderr = '';
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = () => {
      if (exited || killAt !== null) return;
      killAt = now();
      child.kill('SIGKILL');
    };
    const watchers = dirs.map((d) => watch(d, (type, name) => {
      name = String(name);
      events.push({ t: now(), type, name });
      if (trigger && timer === null && trigger.match(name)) {
        if (trigger.delayMs <= 0) kill();
        else timer = setTimeout(kill, trigger.delayMs);
      }
    }));
    if (delayMs !== null) timer = setTimeout(kill, delayMs);
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('exit', () => { exited = true; clearTimeout(timer); });
    child.on('close', (code, signal) => {
      const exitAt = now();
      // Let the last directory events arrive before the watchers close.
      setTimeout(() => {
        for (const w of watchers) w.close();
        resolvePromise({ code, signal, killAt, exitAt, events, stdout, stderr, pid: child.pid });
      }, 40);
    });
  });
}

/**
 * A kill plan from `kinds`: [{ mode, count, spanMs, trigger? }]. Delays of a kind without a
 * trigger ("anytime") are stratified over [0, spanMs] from the start, so early and late kills
 * both occur; delays of a triggered kind are uniform in [0, spanMs] after the trigger file appears.
 */
function killPlan(random, kinds) {
  const plan = [];
  for (const { mode, count, spanMs, trigger = null } of kinds) {
    for (let i = 0; i < count; ++i) {
      const u = trigger ? random() : (i + random()) / count;
      plan.push({ mode, trigger, delayMs: Math.round(u * spanMs) });
    }
  }
  return shuffle(plan, random);
}

/** runNode options for one planned kill. */
const killOptions = (p, options) => (p.trigger
  ? { ...options, trigger: { match: p.trigger, delayMs: p.delayMs } }
  : { ...options, delayMs: p.delayMs });

const firstEvent = (events, test) => events.find((e) => test(e.name))?.t ?? null;

// ------------------------------------------------------------------------------ 1. the index file

test('catalog build killed at random moments leaves the previous index or the new complete one', async (t) => {
  const QUANTIZER = 'ivf32,pq16';
  const work = join(dir, 'index');
  mkdirSync(work);
  const catA = join(work, 'A.jsonl'), catB = join(work, 'B.jsonl');
  writeFileSync(catA, catalogLines(1000, 64, 3).lines.join('\n') + '\n');
  writeFileSync(catB, catalogLines(1200, 64, 5).lines.join('\n') + '\n');
  const out = join(work, 'out.sfi');
  const build = (catalog, output, opts) => runNode([BIN, 'catalog', 'build', catalog, '-o', output, '--quantizer', QUANTIZER, '--json'], opts);

  // The previous index A, then the new one B twice: builds are deterministic except for the
  // build time in the header, which sameIndex() ignores.
  let r = await build(catA, out);
  assert.equal(r.code, 0, r.stderr);
  const bytesA = readFileSync(out);
  assert.equal((await indexInfo(bytesA)).count, 1000);
  const refB = join(work, 'refB.sfi');
  const calib = await build(catB, refB, { dirs: [work] });
  assert.equal(calib.code, 0, calib.stderr);
  const bytesB = readFileSync(refB);
  assert.equal((await indexInfo(bytesB)).count, 1200);
  r = await build(catB, join(work, 'refB2.sfi'));
  assert.equal(r.code, 0, r.stderr);
  assert.ok(sameIndex(readFileSync(join(work, 'refB2.sfi')), bytesB), 'two builds of B differ beyond the build time');
  assert.ok(!sameIndex(bytesA, bytesB));
  rmSync(join(work, 'refB2.sfi'));

  const durationMs = calib.exitAt;
  const tmpOfRef = firstEvent(calib.events, (n) => n.startsWith('.refB.sfi.tmp-'));
  const renameOfRef = firstEvent(calib.events, (n) => n === 'refB.sfi');
  assert.ok(tmpOfRef !== null && renameOfRef !== null, `the reference build's temp file and rename were not seen: ${JSON.stringify(calib.events)}`);
  const FIXED = new Set(['A.jsonl', 'B.jsonl', 'out.sfi', 'refB.sfi']);
  const TEMP = /^\.out\.sfi\.tmp-(\d+)-[0-9a-f]{8}$/;
  // anytime: the whole build and a bit past it; at write: from the temp file to a bit past the
  // rename; after rename: between the rename and the exit (directory fsync, summary).
  const plan = killPlan(rng(SEED), [
    { mode: 'anytime', count: 4 * REPEAT, spanMs: 1.1 * durationMs },
    { mode: 'at write', count: 3 * REPEAT, spanMs: 1.3 * Math.max(1, renameOfRef - tmpOfRef), trigger: (n) => TEMP.test(n) },
    { mode: 'after rename', count: 3 * REPEAT, spanMs: Math.max(1, durationMs - renameOfRef), trigger: (n) => n === 'out.sfi' },
  ]);
  t.diagnostic(`seed ${SEED}; a build of B takes ${durationMs} ms, temp file at ${tmpOfRef} ms, renamed at ${renameOfRef} ms`);
  t.diagnostic(`plan: ${plan.map((p) => `${p.mode} +${p.delayMs}`).join(', ')}`);

  const outcomes = { beforeWrite: 0, duringWrite: 0, afterRename: 0, finished: 0 };
  for (const [i, p] of plan.entries()) {
    writeFileSync(out, bytesA);  // the previous index, whatever the last trial left
    const before = new Set(readdirSync(work));
    r = await build(catB, out, killOptions(p, { dirs: [work] }));
    const killed = r.signal === 'SIGKILL';
    if (!killed) {
      assert.equal(r.code, 0, `trial ${i}: the build failed on its own: ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).items, 1200);
    }
    const tmpSeen = firstEvent(r.events, (n) => TEMP.test(n));
    const renamed = firstEvent(r.events, (n) => n === 'out.sfi');

    assert.ok(existsSync(out), `trial ${i}: out.sfi is gone`);
    const bytes = readFileSync(out);
    const info = await indexInfo(bytes);  // throws on a torn file
    const kind = bytes.equals(bytesA) ? 'A' : sameIndex(bytes, bytesB) ? 'B' : 'torn';
    assert.notEqual(kind, 'torn', `trial ${i}: out.sfi (${bytes.length} bytes, ${info.count} items) is neither A nor B`);
    assert.equal(info.count, kind === 'A' ? 1000 : 1200);
    // The rename is the commit point: seen <=> the new index.
    assert.equal(kind, renamed === null ? 'A' : 'B', `trial ${i}: out.sfi is ${kind} but the rename was ${renamed === null ? 'not ' : ''}seen`);

    // Temp files: only killed builds may leave one, named as a hidden temp of this process,
    // holding a prefix of B's bytes.
    const fresh = readdirSync(work).filter((f) => !before.has(f));
    const leftovers = [];
    for (const f of fresh) {
      const m = TEMP.exec(f);
      assert.ok(m, `trial ${i}: unexpected file ${f}`);
      assert.equal(Number(m[1]), r.pid, `trial ${i}: ${f} is not this build's`);
      assert.ok(killed && kind === 'A', `trial ${i}: ${f} left by a build that ${killed ? 'renamed its output' : 'finished'}`);
      const tmp = readFileSync(join(work, f));
      assert.ok(sameIndex(tmp, bytesB, { prefix: true }), `trial ${i}: ${f} holds bytes that are not B's`);
      leftovers.push(`${f} (${tmp.length}/${bytesB.length} bytes)`);
    }
    let when;
    if (!killed) when = 'finished before the kill', ++outcomes.finished;
    else if (kind === 'B') when = 'killed after the rename', ++outcomes.afterRename;
    else if (tmpSeen !== null) when = 'killed while writing (temp file, no rename)', ++outcomes.duringWrite;
    else when = 'killed before the write', ++outcomes.beforeWrite;
    t.diagnostic(`trial ${i}: ${p.mode} +${p.delayMs} ms -> ${killed ? `killed at ${r.killAt} ms` : 'not killed'}, temp seen ${tmpSeen ?? '-'}, renamed ${renamed ?? '-'}, ` +
      `exit ${r.exitAt} ms: ${when}; out.sfi = ${kind}${leftovers.length ? `; left ${leftovers.join(', ')}` : ''}`);
  }

  // A complete build after all that succeeds and removes the temp files the killed builds left
  // (js/node/atomic_write.mjs removes those whose writer process is gone).
  r = await build(catB, out);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(sameIndex(readFileSync(out), bytesB));
  const stale = readdirSync(work).filter((f) => !FIXED.has(f));
  assert.deepEqual(stale, [], 'temp files of killed builds are cleaned up by the next build');
  const countA = outcomes.beforeWrite + outcomes.duringWrite, countB = outcomes.afterRename + outcomes.finished;
  t.diagnostic(`outcomes: ${JSON.stringify(outcomes)}; previous index kept ${countA}x, new index ${countB}x; ` +
    `${stale.length} stale temp file(s) left after a later complete build: ${stale.join(', ') || 'none'}`);
  // The plan makes both possible whatever the machine's speed: the earliest "anytime" kill lands
  // in the first 30% of the build (start-up and parsing), "after rename" kills after the rename.
  assert.ok(countA >= 1, 'no kill landed before the rename');
  assert.ok(countB >= 1, 'no build got as far as the rename');
});

// ------------------------------------------------------------------------------ 2. the embedding cache

const DIM = 16;
const SIZE = 32;
const IMG = 40;          // PNG side
const BASE_PRODUCTS = 12;
const NEW_PRODUCTS = 4;  // per build: new images, so every build has cache entries to add
const IMAGES_PER_PRODUCT = 3;

const sha256hex = (data) => createHash('sha256').update(data).digest('hex');
/** The cache keys of an image, as js/node/image_catalog.mjs makes them. */
const cacheKeys = (bytes) => {
  const hash = sha256hex(bytes);
  return VIEWS.map((view) => (view === 'full_frame' ? hash : sha256hex(`${hash}:${view}`)));
};

/** The cache test's world: tiny embedder, images, catalogs, reference embeddings. */
async function imageWorld(root, productCount) {
  const models = join(root, 'models');
  const { manifestPath, manifest } = await writeManifest(models, { bytes: tinyEmbedder({ size: SIZE, dim: DIM }), name: 'tiny-emb', size: SIZE, embeddingDim: DIM });
  process.env.SHOPFRAME_MODELS = models;  // for the builds in this process; children get it in env
  mkdirSync(join(root, 'img'));
  const random = rng(SEED + 1);
  const products = [];
  for (let p = 0; p < productCount; ++p) {
    const base = [random(), random(), random()].map((x) => 20 + 215 * x);
    const images = [];
    for (let k = 0; k < IMAGES_PER_PRODUCT; ++k) {
      const rgb = new Uint8Array(IMG * IMG * 3);
      for (let i = 0; i < rgb.length; ++i) rgb[i] = Math.max(0, Math.min(255, Math.round(base[i % 3] + 80 * (random() - 0.5))));
      const bytes = encodePng(rgb, IMG, IMG, 3);
      const ref = `img/p${p}_${k}.png`;
      writeFileSync(join(root, ref), bytes);
      images.push({ ref, keys: cacheKeys(bytes) });
    }
    products.push({ id: `p${p}`, title: `Product ${p}`, category: `Cat${p % 4}`, images });
  }
  const writeCatalog = (name, ps) => {
    const path = join(root, name);
    writeFileSync(path, ps.map((p) => JSON.stringify({ id: p.id, title: p.title, category: p.category, images: p.images.map((i) => i.ref) })).join('\n') + '\n');
    return path;
  };
  // Reference embeddings of every image: a build of everything with a fresh cache, read back.
  const refCache = join(root, 'ref-cache');
  await buildImageCatalog({ catalogPath: writeCatalog('all.jsonl', products), embedder: manifestPath, quantizer: 'flat', cacheDir: refCache });
  const cache = await EmbeddingCache.open(refCache, manifest.sha256, DIM);
  const reference = new Map();
  for (const p of products) for (const img of p.images) for (const k of img.keys) reference.set(k, cache.get(k));
  assert.equal(cache.size, reference.size);
  assert.ok([...reference.values()].every(Boolean));
  return { manifestPath, sha: manifest.sha256, products, writeCatalog, reference };
}

const keysOf = (ps) => new Set(ps.flatMap((p) => p.images.flatMap((i) => i.keys)));
const sameSet = (a, b) => a.size === b.size && [...a].every((k) => b.has(k));
const vectorBytes = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/**
 * The cache file is whole (or absent), and what a build would take from it is right: every
 * entry must be a reference embedding of one of our images, bit for bit. Returns the keys present.
 */
async function checkCache(world, cacheDir, what) {
  const cache = await EmbeddingCache.open(cacheDir, world.sha, DIM);
  assert.equal(cache.problem, null, `${what}: the cache file is damaged`);
  const present = new Set();
  for (const [key, ref] of world.reference) {
    const v = cache.get(key);
    if (!v) continue;
    present.add(key);
    assert.ok(vectorBytes(v).equals(vectorBytes(ref)), `${what}: the cache gives a wrong embedding for ${key}`);
  }
  assert.equal(cache.size, present.size, `${what}: the cache holds ${cache.size - present.size} entries that are no image's`);
  return present;
}

let imageState = null;  // handed from the kill test to the damaged-cache test

test('image catalog builds killed at random moments keep the embedding cache whole', async (t) => {
  const TRIALS = 6 * REPEAT;
  const root = join(dir, 'images');
  mkdirSync(root);
  const world = await imageWorld(root, BASE_PRODUCTS + NEW_PRODUCTS * (TRIALS + 1));
  const baseProducts = world.products.slice(0, BASE_PRODUCTS);
  const newProducts = (n) => world.products.slice(BASE_PRODUCTS + n * NEW_PRODUCTS, BASE_PRODUCTS + (n + 1) * NEW_PRODUCTS);
  const cacheRoot = join(root, 'cache');
  const cacheDir = defaultCacheDir({ SHOPFRAME_CACHE: cacheRoot });
  const cacheName = `${world.sha.slice(0, 16)}.bin`;
  const CACHE_TEMP = new RegExp(`^\\.${cacheName.replace('.', '\\.')}\\.tmp-(\\d+)-[0-9a-f]{8}$`);
  const env = { ...process.env, SHOPFRAME_CACHE: cacheRoot };
  const driver = join(root, 'build_driver.mjs');
  writeFileSync(driver, [
    `import { buildImageCatalog } from ${JSON.stringify(pathToFileURL(join(ROOT, 'js/node/image_catalog.mjs')).href)};`,
    `import { writeFileAtomic } from ${JSON.stringify(pathToFileURL(join(ROOT, 'js/node/atomic_write.mjs')).href)};`,
    'const [catalogPath, output, embedder] = process.argv.slice(2);',
    "const r = await buildImageCatalog({ catalogPath, embedder, quantizer: 'sq8' });",
    'await writeFileAtomic(output, r.bytes);',
    'console.log(JSON.stringify({ embedded: r.embedded, cached: r.cached, vectors: r.vectors }));',
    '',
  ].join('\n'));
  const out = join(root, 'shop.sfi');
  const clean = async (catalogPath) => {
    const fresh = mkdtempSync(join(root, 'clean-cache-'));
    try {
      return (await buildImageCatalog({ catalogPath, embedder: world.manifestPath, quantizer: 'sq8', cacheDir: fresh })).bytes;
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  };

  // First build (a child, the calibration run): makes the cache, measures the timing.
  const firstCatalog = world.writeCatalog('first.jsonl', [...baseProducts, ...newProducts(TRIALS)]);
  mkdirSync(cacheDir, { recursive: true });
  const calib = await runNode([driver, firstCatalog, out, world.manifestPath], { env, dirs: [cacheDir, root] });
  assert.equal(calib.code, 0, calib.stderr);
  assert.equal(JSON.parse(calib.stdout).embedded, (BASE_PRODUCTS + NEW_PRODUCTS) * IMAGES_PER_PRODUCT);
  assert.ok(sameIndex(readFileSync(out), await clean(firstCatalog)), 'a build with a fresh cache differs from a clean one');
  let keys = await checkCache(world, cacheDir, 'after the first build');
  assert.ok(sameSet(keys, keysOf([...baseProducts, ...newProducts(TRIALS)])));
  const durationMs = calib.exitAt;
  const tmpAt = firstEvent(calib.events, (n) => CACHE_TEMP.test(n));
  const renameAt = firstEvent(calib.events, (n) => n === cacheName);
  assert.ok(tmpAt !== null && renameAt !== null, `the cache's temp file and rename were not seen: ${JSON.stringify(calib.events)}`);
  const plan = killPlan(rng(SEED + 2), [
    { mode: 'anytime', count: 2 * REPEAT, spanMs: 1.1 * durationMs },
    { mode: 'at cache write', count: 3 * REPEAT, spanMs: 1.5 * Math.max(1, renameAt - tmpAt), trigger: (n) => CACHE_TEMP.test(n) },
    { mode: 'after cache rename', count: REPEAT, spanMs: Math.max(1, durationMs - renameAt), trigger: (n) => n === cacheName },
  ]);
  t.diagnostic(`seed ${SEED}; an image build takes ${durationMs} ms, cache temp file at ${tmpAt} ms, renamed at ${renameAt} ms`);
  t.diagnostic(`plan: ${plan.map((p) => `${p.mode} +${p.delayMs}`).join(', ')}`);

  const outcomes = { cacheKept: 0, cacheUpdated: 0 };
  const killedPids = new Set();
  let catalog = firstCatalog;
  for (const [i, p] of plan.entries()) {
    const previousIndex = readFileSync(out);
    const oldKeys = keys;
    catalog = world.writeCatalog(`trial${i}.jsonl`, [...baseProducts, ...newProducts(i)]);
    const newKeys = new Set([...oldKeys, ...keysOf(newProducts(i))]);
    const cleanBytes = await clean(catalog);
    const r = await runNode([driver, catalog, out, world.manifestPath], killOptions(p, { env, dirs: [cacheDir, root] }));
    const killed = r.signal === 'SIGKILL';
    if (killed) killedPids.add(r.pid);
    else assert.equal(r.code, 0, `trial ${i}: the build failed on its own: ${r.stderr}`);
    const cacheRenamed = firstEvent(r.events, (n) => n === cacheName);

    // The cache: readable, nothing wrong in it, and either the old or the new entries.
    keys = await checkCache(world, cacheDir, `trial ${i}, after the kill`);
    const state = sameSet(keys, oldKeys) ? 'old' : sameSet(keys, newKeys) ? 'new' : 'neither';
    assert.notEqual(state, 'neither', `trial ${i}: the cache holds ${keys.size} entries, neither the old ${oldKeys.size} nor the new ${newKeys.size}`);
    assert.equal(state, cacheRenamed === null ? 'old' : 'new', `trial ${i}: cache is ${state} but its rename was ${cacheRenamed === null ? 'not ' : ''}seen`);
    ++outcomes[state === 'old' ? 'cacheKept' : 'cacheUpdated'];
    const entriesAfterKill = keys.size;
    // The index next to it: the previous one or the new complete one.
    const bytes = readFileSync(out);
    await indexInfo(bytes);
    const indexState = bytes.equals(previousIndex) ? 'previous' : sameIndex(bytes, cleanBytes) ? 'new' : 'torn';
    assert.notEqual(indexState, 'torn', `trial ${i}: shop.sfi is neither the previous index nor the new one`);
    const temps = readdirSync(cacheDir).filter((f) => f !== cacheName);
    for (const f of temps) {
      const m = CACHE_TEMP.exec(f);
      assert.ok(m && killedPids.has(Number(m[1])), `trial ${i}: unexpected file in the cache directory: ${f}`);
    }

    // The next complete build succeeds, uses what the cache has, and makes the clean index.
    const rebuilt = await buildImageCatalog({ catalogPath: catalog, embedder: world.manifestPath, quantizer: 'sq8', cacheDir });
    await writeFileAtomic(out, rebuilt.bytes);
    assert.equal(rebuilt.embedded, state === 'new' ? 0 : NEW_PRODUCTS * IMAGES_PER_PRODUCT, `trial ${i}: images embedded again`);
    assert.ok(sameIndex(rebuilt.bytes, cleanBytes), `trial ${i}: the build after the kill differs from a build without cache`);
    keys = await checkCache(world, cacheDir, `trial ${i}, after the next build`);
    assert.ok(sameSet(keys, newKeys));
    t.diagnostic(`trial ${i}: ${p.mode} +${p.delayMs} ms -> ${killed ? `killed at ${r.killAt} ms` : 'not killed'}, ` +
      `cache temp seen ${firstEvent(r.events, (n) => CACHE_TEMP.test(n)) ?? '-'}, renamed ${cacheRenamed ?? '-'}, exit ${r.exitAt} ms: ` +
      `cache ${state} (${entriesAfterKill} entries), index ${indexState}` +
      `${temps.length ? `; cache dir also has ${temps.join(', ')}` : ''}`);
  }

  // A last complete build as a child, as a user would run it: all from the cache, no complaints.
  const r = await runNode([driver, catalog, out, world.manifestPath], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).embedded, 0);
  assert.equal(r.stderr, '');
  const cleanBytes = await clean(catalog);
  assert.ok(sameIndex(readFileSync(out), cleanBytes));
  t.diagnostic(`outcomes: ${JSON.stringify(outcomes)}; cache directory at the end: ${readdirSync(cacheDir).join(', ')}`);
  imageState = { root, world, cacheDir, cacheName, catalog, cleanBytes, driver, env };
});

// ------------------------------------------------------------------------------ 3. a damaged cache

// Atomic writes keep kills from tearing the cache, but a crash of the machine on a file system
// that does not order data before the rename, a bad disk or an older shopframe can still leave
// a damaged file. It must be reported, not used, and replaced: never a crash, never a wrong
// embedding (which would silently put wrong vectors in every later index).
test('a damaged embedding cache is detected, reported and rebuilt, never trusted', async (t) => {
  assert.ok(imageState, 'needs the previous test');
  const { root, world, cacheDir, cacheName, catalog, cleanBytes, driver, env } = imageState;
  const path = join(cacheDir, cacheName);
  const good = readFileSync(path);
  const record = 32 + 4 * DIM;
  const catalogImages = readFileSync(catalog, 'utf8').trim().split('\n').flatMap((l) => JSON.parse(l).images).length;
  const damages = {
    'empty file': () => Buffer.alloc(0),
    'cut inside the header': (g) => g.subarray(0, 10),
    'cut inside a record': (g) => g.subarray(0, g.length - 7),
    'cut at a record boundary': (g) => g.subarray(0, g.length - 3 * record),
    // The second 4 KiB page zeroed: entries of the base products, which every catalog uses.
    'a torn page (4 KiB of zeros)': (g) => { const b = Buffer.from(g); b.fill(0, 4096, 8192); return b; },
    'one flipped bit in an embedding': (g) => { const b = Buffer.from(g); b[b.length - 2] ^= 0x40; return b; },
    'garbage': (g) => Buffer.from(g.map((_, i) => (i * 151 + 7) & 0xff)),
    'the older unchecked format': (g) => {  // SFEMBC01: magic, u32 dim, then the records
      const b = Buffer.alloc(12 + g.length - 48);
      b.write('SFEMBC01', 0, 'latin1');
      b.writeUInt32LE(DIM, 8);
      g.copy(b, 12, 48);
      return b;
    },
  };
  assert.ok(good.length > 8192 + record, 'the cache is too small for the torn-page case');
  for (const [what, damage] of Object.entries(damages)) {
    writeFileSync(path, damage(good));
    const warnings = [];
    const rebuilt = await buildImageCatalog({ catalogPath: catalog, embedder: world.manifestPath, quantizer: 'sq8', cacheDir, onWarning: (m) => warnings.push(m) });
    assert.ok(sameIndex(rebuilt.bytes, cleanBytes), `${what}: the index differs from a build without cache`);
    assert.equal(warnings.length, 1, `${what}: expected one warning, got ${JSON.stringify(warnings)}`);
    assert.ok(warnings[0].includes(path) && /damaged|format/.test(warnings[0]), `${what}: unclear warning: ${warnings[0]}`);
    assert.equal(rebuilt.embedded, catalogImages, `${what}: a damaged file must not be used at all`);
    // Rewritten whole, with only right embeddings.
    const keys = await checkCache(world, cacheDir, `${what}, after the build`);
    assert.equal(keys.size, catalogImages * VIEWS.length);
    t.diagnostic(`${what}: ${warnings[0]}`);
  }

  // The same through a separate process, as `catalog build` runs it: a warning line on stderr.
  writeFileSync(path, damages['a torn page (4 KiB of zeros)'](good));
  const r = await runNode([driver, catalog, join(root, 'shop.sfi'), world.manifestPath], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^shopframe: warning: embedding cache .*damaged \(checksum mismatch\); not used/);
  assert.equal(JSON.parse(r.stdout).embedded, catalogImages);
  assert.ok(sameIndex(readFileSync(join(root, 'shop.sfi')), cleanBytes));
  await checkCache(world, cacheDir, 'after the build in a separate process');
});
