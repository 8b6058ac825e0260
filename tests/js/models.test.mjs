// The model registry (js/models.mjs): local directories, sha256 checks, and the download path
// against a local HTTP server, with the cache written atomically.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as ort from 'onnxruntime-web';

import { createVision } from '../../js/vision.mjs';
import { MAX_MODEL_BYTES, cacheDir, checkManifest, modelDirs, onePassVariant, resolveModel, sha256 } from '../../js/models.mjs';
import { solidImage, tinyEmbedder, tinyEmbedderReference, writeManifest } from './lib/tiny_onnx.mjs';

ort.env.wasm.numThreads = 1;

const MODEL = tinyEmbedder({ size: 8, dim: 4 });
const NAME = 'sf-test-tiny-embed';  // unlikely to exist in ../shared/models

/** A temp root with a model dir and a cache dir; removed after `fn`. */
async function withTemp(fn) {
  const root = await mkdtemp(join(tmpdir(), 'sf-models-'));
  try {
    return await fn({ root, models: join(root, 'models'), cache: join(root, 'cache') });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** A 127.0.0.1 server answering every request with handler(req, res); counts requests. */
async function withServer(handler, fn) {
  const server = createServer((req, res) => { server.requests.push(req.url); handler(req, res); });
  server.requests = [];
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    return await fn(server, `http://127.0.0.1:${server.address().port}`);
  } finally {
    server.closeAllConnections();  // fetch keeps connections alive
    await new Promise((ok) => server.close(ok));
  }
}

const serveBytes = (bytes) => (req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
  res.end(bytes);
};

const manifestFor = (bytes, extra = {}) => ({ name: NAME, file: `${NAME}.onnx`, sha256: sha256(bytes), licence: 'MIT', kind: 'embedding', ...extra });

const noFetch = () => { throw new Error('the network must not be used'); };

const listFiles = async (dir) => (existsSync(dir) ? readdir(dir) : []);

test('modelDirs and cacheDir follow the environment', () => {
  assert.equal(modelDirs({ SHOPFRAME_MODELS: '/m' })[0], '/m');
  const shared = fileURLToPath(new URL('../../../shared/models', import.meta.url));
  assert.deepEqual(modelDirs({}), existsSync(shared) ? [shared] : []);
  assert.equal(cacheDir({ SHOPFRAME_CACHE: '/c' }), '/c/models');
  assert.equal(cacheDir({ XDG_CACHE_HOME: '/x' }), '/x/shopframe/models');
});

test('checkManifest: required fields, safe file paths, sha256 case', () => {
  const good = manifestFor(MODEL);
  assert.equal(checkManifest({ ...good, sha256: good.sha256.toUpperCase() }).sha256, good.sha256);
  assert.equal(checkManifest({ ...good, file: 'sub/dir/m.onnx' }).file, 'sub/dir/m.onnx');
  for (const [bad, why] of [
    [{ ...good, file: '../escape.onnx' }, /field 'file' must not contain '\.\.'/],
    [{ ...good, file: 'a/../../b.onnx' }, /'\.\.'/],
    [{ ...good, file: '/etc/passwd' }, /relative path/],
    [{ ...good, file: 'a\\b.onnx' }, /separator/],
    [{ ...good, sha256: 'abc' }, /sha256/],
    [{ ...good, kind: undefined }, /field 'kind'/],
    [null, /JSON object/],
  ]) {
    assert.throws(() => checkManifest(bad, 'm.json'), (e) => e.code === 'parse_error' && why.test(e.message) && e.message.startsWith('m.json: '));
  }
});

test('(a) a model in SHOPFRAME_MODELS resolves by manifest path and by name, and runs', async () => {
  await withTemp(async ({ models, cache }) => {
    const { modelPath, manifestPath } = await writeManifest(models, { bytes: MODEL, name: NAME, size: 8, embeddingDim: 4 });
    const env = { SHOPFRAME_MODELS: models, SHOPFRAME_CACHE: cache };
    const r = await resolveModel(manifestPath, { env, fetch: noFetch });
    assert.equal(r.source, 'local');
    assert.equal(r.path, modelPath);
    assert.deepEqual(new Uint8Array(r.bytes), MODEL);
    assert.equal(r.manifest.name, NAME);
    assert.equal(r.manifestText, await readFile(manifestPath, 'utf8'));

    const byName = await resolveModel(NAME, { env, manifestDir: models, fetch: noFetch });
    assert.equal(byName.path, modelPath);
    assert.deepEqual(await listFiles(cache), [], 'a local model is not copied to the cache');

    // The resolved bytes are the model: onnxruntime runs them.
    const session = await ort.InferenceSession.create(r.bytes);
    const image = solidImage(8, [0.2, 0.4, 0.6]);
    const out = await session.run({ pixels: new ort.Tensor('float32', image, [1, 3, 8, 8]) });
    await session.release();
    const want = tinyEmbedderReference(image, { dim: 4 });
    out.vec.data.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5));
  });
});

test('(b) a local file whose sha256 does not match is rejected, with no fallback', async () => {
  await withTemp(async ({ models, cache }) => {
    const { modelPath, manifestPath, manifest } = await writeManifest(models, { bytes: MODEL, name: NAME, sourceUrl: 'http://127.0.0.1:9/x' });
    const other = tinyEmbedder({ size: 8, dim: 5 });
    await writeFile(modelPath, other);
    await assert.rejects(resolveModel(manifestPath, { env: { SHOPFRAME_MODELS: models, SHOPFRAME_CACHE: cache }, fetch: noFetch }), (e) => {
      assert.equal(e.code, 'corrupt');
      assert.equal(e.message, `model ${NAME}: ${modelPath} has sha256 ${sha256(other)}, the manifest says ${manifest.sha256}; not used`);
      return true;
    });
  });
});

test('(c) download: verified, cached atomically, then served from the cache', async () => {
  await withTemp(async ({ cache }) => {
    await withServer(serveBytes(MODEL), async (server, base) => {
      const manifest = manifestFor(MODEL, { source_url: `${base}/models/tiny.onnx` });
      const options = { dirs: [], cache };
      const first = await resolveModel(manifest, options);
      assert.equal(first.source, 'download');
      assert.deepEqual(new Uint8Array(first.bytes), MODEL);
      assert.deepEqual(server.requests, ['/models/tiny.onnx']);
      const cached = join(cache, `${manifest.sha256}-${NAME}.onnx`);
      assert.equal(first.path, cached);
      assert.deepEqual(await readdir(cache), [`${manifest.sha256}-${NAME}.onnx`], 'no temp files left');
      assert.deepEqual(new Uint8Array(await readFile(cached)), MODEL);

      const second = await resolveModel(manifest, { ...options, fetch: noFetch });
      assert.equal(second.source, 'cache');
      assert.equal(second.path, cached);
      assert.deepEqual(new Uint8Array(second.bytes), MODEL);
      assert.equal(server.requests.length, 1, 'the cache hit does not touch the server');
    });
  });
});

test('(c) the default cache comes from SHOPFRAME_CACHE', async () => {
  await withTemp(async ({ root }) => {
    await withServer(serveBytes(MODEL), async (server, base) => {
      const manifest = manifestFor(MODEL, { source_url: `${base}/m.onnx` });
      const env = { SHOPFRAME_CACHE: root };
      assert.equal((await resolveModel(manifest, { env, dirs: [] })).path, join(root, 'models', `${manifest.sha256}-${NAME}.onnx`));
      assert.equal((await resolveModel(manifest, { env, dirs: [] })).source, 'cache');
      assert.equal(server.requests.length, 1);
    });
  });
});

test('(d) a download with the wrong bytes is rejected and nothing is cached', async () => {
  await withTemp(async ({ cache }) => {
    const wrong = tinyEmbedder({ size: 8, dim: 6 });
    await withServer(serveBytes(wrong), async (server, base) => {
      const url = `${base}/tiny.onnx`;
      const manifest = manifestFor(MODEL, { source_url: url });
      await assert.rejects(resolveModel(manifest, { dirs: [], cache }), (e) => {
        assert.equal(e.code, 'corrupt');
        assert.equal(e.message, `model ${NAME}: ${url} has sha256 ${sha256(wrong)}, the manifest says ${manifest.sha256}; not used`);
        return true;
      });
      assert.deepEqual(await listFiles(cache), []);
    });
  });
});

test('(e) HTTP 404 and connection refused are clear errors naming the URL', async () => {
  await withTemp(async ({ cache }) => {
    await withServer((req, res) => { res.writeHead(404); res.end('no such model'); }, async (server, base) => {
      const url = `${base}/missing.onnx`;
      await assert.rejects(resolveModel(manifestFor(MODEL, { source_url: url }), { dirs: [], cache }),
        { code: 'io_error', message: `model ${NAME}: ${url} answered HTTP 404` });
      assert.equal(server.requests.length, 1);
    });

    // A port that was just free: nothing listens there any more.
    const closedUrl = await withServer(() => {}, async (server, base) => `${base}/gone.onnx`);
    await assert.rejects(resolveModel(manifestFor(MODEL, { source_url: closedUrl }), { dirs: [], cache }), (e) => {
      assert.equal(e.code, 'io_error');
      assert.equal(e.message, `model ${NAME}: cannot download ${closedUrl}: ECONNREFUSED`);
      return true;
    });
    assert.deepEqual(await listFiles(cache), []);
  });
});

test('a corrupt cache entry is replaced by a fresh download, or reported when downloads are off', async () => {
  await withTemp(async ({ cache }) => {
    await withServer(serveBytes(MODEL), async (server, base) => {
      const manifest = manifestFor(MODEL, { source_url: `${base}/tiny.onnx` });
      await resolveModel(manifest, { dirs: [], cache });
      const cached = join(cache, `${manifest.sha256}-${NAME}.onnx`);
      await writeFile(cached, 'truncated');

      await assert.rejects(resolveModel(manifest, { dirs: [], cache, allowDownload: false }), { code: 'corrupt' });
      const again = await resolveModel(manifest, { dirs: [], cache });
      assert.equal(again.source, 'download');
      assert.equal(server.requests.length, 2);
      assert.deepEqual(new Uint8Array(await readFile(cached)), MODEL);
    });
  });
});

test('no local file, no cache, no source_url: not_found listing where it looked', async () => {
  await withTemp(async ({ models, cache }) => {
    await assert.rejects(resolveModel(manifestFor(MODEL), { dirs: [models], cache, fetch: noFetch }), (e) => {
      assert.equal(e.code, 'not_found');
      assert.ok(e.message.includes(join(models, `${NAME}.onnx`)), e.message);
      assert.ok(e.message.includes(cache), e.message);
      assert.match(e.message, /no source_url/);
      return true;
    });
    await assert.rejects(resolveModel(manifestFor(MODEL, { source_url: 'http://127.0.0.1:9/x' }), { dirs: [], cache, allowDownload: false, fetch: noFetch }),
      { code: 'not_found', message: /downloads are off/ });
  });
});

test('a download announcing more than MAX_MODEL_BYTES is refused before reading it', async () => {
  await withTemp(async ({ cache }) => {
    const url = 'http://example.invalid/huge.onnx';
    const fetch = async () => new Response('x', { headers: { 'content-length': String(MAX_MODEL_BYTES + 1) } });
    await assert.rejects(resolveModel(manifestFor(MODEL, { source_url: url }), { dirs: [], cache, fetch }),
      { code: 'limit_exceeded', message: `model ${NAME}: ${url} is over the ${MAX_MODEL_BYTES}-byte limit` });
    assert.deepEqual(await listFiles(cache), []);
  });
});

// ---- Derived models (manifest "derived_from"): tools/derive_model.py on the shared int8 file.

const SHARED_INT8 = fileURLToPath(new URL('../../../shared/models/mobilenetv2-12-int8.feat.onnx', import.meta.url));
const needsShared = existsSync(SHARED_INT8) ? false : 'needs ../shared/models (the int8 MobileNetV2)';

test('checkManifest: derived_from names a model and a known recipe', () => {
  const good = manifestFor(MODEL);
  assert.deepEqual(checkManifest({ ...good, derived_from: { model: 'm', recipe: 'dequantize-int8' } }).derived_from,
    { model: 'm', recipe: 'dequantize-int8' });
  for (const bad of [{ model: 'm', recipe: 'nope' }, { recipe: 'dequantize-int8' }, 'm', null]) {
    assert.throws(() => checkManifest({ ...good, derived_from: bad }, 'm.json'), (e) => e.code === 'parse_error' && /derived_from/.test(e.message));
  }
});

test('derived model: made once from the verified source, checked by sha256, then served from the cache', { skip: needsShared }, async () => {
  await withTemp(async ({ cache }) => {
    const dirs = modelDirs({});
    const first = await resolveModel('mobilenetv2-f32-feat', { dirs, cache, fetch: noFetch });
    assert.equal(first.source, 'derived');
    assert.equal(sha256(first.bytes), first.manifest.sha256);
    assert.deepEqual(await listFiles(cache), [`${first.manifest.sha256}-mobilenetv2-12-f32.feat.onnx`]);  // no temp file left
    const again = await resolveModel('mobilenetv2-f32-feat', { dirs, cache, fetch: noFetch });
    assert.equal(again.source, 'cache');

    // Same weights as the int8 graph: the pooled features of one image agree closely (the float
    // graph only drops the activations' 8-bit rounding).
    const int8 = await resolveModel('mobilenetv2-feat', { dirs, fetch: noFetch });
    const pixels = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i * 0.0007) * 1.5);
    const feat = async (bytes) => {
      const s = await ort.InferenceSession.create(bytes);
      const out = await s.run({ input: new ort.Tensor('float32', pixels, [1, 3, 224, 224]) }, ['feat']);
      await s.release();
      return out.feat.data;
    };
    const [a, b] = [await feat(int8.bytes), await feat(first.bytes)];
    let dot = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
    assert.equal(b.length, 1280);
    assert.ok(dot / Math.sqrt(na * nb) > 0.9, `cosine ${dot / Math.sqrt(na * nb)}`);

    // The multi-scale recipe (the default embedder): five L2-normalised pooled stages, the first
    // of them the same graph's final feature.
    const ms = await resolveModel('mobilenetv2-f32-multiscale', { dirs, cache, fetch: noFetch });
    assert.equal(ms.source, 'derived');
    assert.equal(sha256(ms.bytes), ms.manifest.sha256);
    const m = await feat(ms.bytes);
    assert.equal(m.length, ms.manifest.embedding_dim);
    const blocks = [1280, 960, 576, 192, 144];
    assert.equal(blocks.reduce((x, y) => x + y), m.length);
    let at = 0;
    for (const n of blocks) {
      let norm = 0;
      for (let i = at; i < at + n; i++) norm += m[i] * m[i];
      assert.ok(Math.abs(Math.sqrt(norm) - 1) < 1e-4, `block at ${at}: norm ${Math.sqrt(norm)}`);
      at += n;
    }
    const nf = Math.sqrt(nb);
    for (let i = 0; i < 1280; i++) assert.ok(Math.abs(m[i] - b[i] / nf) < 1e-5, `component ${i}: ${m[i]} vs ${b[i] / nf}`);
  });
});

test('derived embedder mobilenetv2-f32-multiscale-288: derived from a derived model, the same features at 288x288', { skip: needsShared }, async () => {
  await withTemp(async ({ cache }) => {
    const dirs = modelDirs({});
    const big = await resolveModel('mobilenetv2-f32-multiscale-288', { dirs, cache, fetch: noFetch });
    assert.equal(big.source, 'derived');
    assert.equal(sha256(big.bytes), big.manifest.sha256);
    const ms = await resolveModel('mobilenetv2-f32-multiscale', { dirs, cache, fetch: noFetch });
    assert.equal(ms.source, 'cache', 'the chain left its intermediate model in the cache');
    assert.deepEqual((await listFiles(cache)).sort(),
      [`${big.manifest.sha256}-${big.manifest.file}`, `${ms.manifest.sha256}-${ms.manifest.file}`].sort());

    // One smooth scene rendered at both sizes: same weights, so nearly the same features.
    const render = (size) => {
      const px = new Float32Array(3 * size * size);
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size; x++) {
            const u = x / size, v = y / size;
            px[(c * size + y) * size + x] = Math.sin(9 * u + 4 * v + 2 * c) + Math.cos(13 * v * (c + 1) - 5 * u);
          }
        }
      }
      return px;
    };
    const feat = async (model) => {
      const size = model.manifest.input.width;
      const s = await ort.InferenceSession.create(model.bytes);
      const out = await s.run({ input: new ort.Tensor('float32', render(size), [1, 3, size, size]) }, ['feat']);
      await s.release();
      return out.feat.data;
    };
    const [a, b] = [await feat(ms), await feat(big)];
    assert.equal(big.manifest.input.width, 288);
    assert.equal(b.length, big.manifest.embedding_dim);
    assert.equal(b.length, a.length);
    let dot = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
    assert.ok(Math.abs(nb - 5) < 1e-3, `five unit-norm blocks: squared norm ${nb}`);
    assert.ok(dot / Math.sqrt(na * nb) > 0.8, `cosine 224 vs 288 ${dot / Math.sqrt(na * nb)}`);
  });
});

/**
 * What both derived-detector tests start from: the derived detector `name` (checked: derived
 * now, bytes matching its sha256), the square yolox-nano it came from, a tiny embedder (the
 * detector is what is tested) and a val photo of bananas.
 */
async function derivedDetectorSetup(name, { root, cache }) {
  const dirs = modelDirs({});
  const derived = await resolveModel(name, { dirs, cache, fetch: noFetch });
  assert.equal(derived.source, 'derived');
  assert.equal(sha256(derived.bytes), derived.manifest.sha256);
  const full = await resolveModel('yolox-nano', { dirs, fetch: noFetch });
  const { manifest } = await writeManifest(root, { bytes: MODEL, size: 8, embeddingDim: 4 });
  const grocery = process.env.SHOPFRAME_GROCERY ?? fileURLToPath(new URL('../../../shared/data/grocery', import.meta.url));
  const photo = await readFile(join(grocery, 'val', 'Fruit', 'Banana', 'Banana_001.jpg'));
  return { derived, full, embedder: { manifest, bytes: MODEL }, photo };
}

test('derived detector yolox-nano-320: yolox-nano\'s proposals on a grocery photo, at 320x320', { skip: needsShared }, async () => {
  await withTemp(async (tmp) => {
    const { derived: small, full, embedder, photo } = await derivedDetectorSetup('yolox-nano-320', tmp);
    const proposals = async (model) => {
      const vision = await createVision({ embedder, detector: { manifest: model.manifestText, bytes: model.bytes } });
      try {
        vision.decode(photo, 'Banana_001.jpg');
        return (await vision.detect({ maxRegions: 6 })).filter((r) => r.kind !== 'full_frame' && r.kind !== 'centre_crop');
      } finally {
        await vision.close();
      }
    };
    const [a, b] = [await proposals(full), await proposals(small)];
    assert.ok(a.length >= 1 && b.length >= 1, `416: ${a.length}, 320: ${b.length} proposals`);
    // Several bananas: the two sizes rank them differently, but the 416 graph's best box is
    // found at 320 too, with the same class (decoded on the 320 grid: 2100 anchor points).
    const match = b.find((r) => boxIou(a[0].box, r.box) > 0.7);
    assert.ok(match, `416's best ${a[0].box} not among 320's ${b.map((r) => r.box.map(Math.round)).join(' | ')}`);
    assert.equal(match.classId, a[0].classId);
  });
});

test('derived detector yolox-nano-dynamic: a 16:9 frame goes in as 416x256 and gets yolox-nano\'s proposals', { skip: needsShared }, async () => {
  await withTemp(async (tmp) => {
    const { derived: fit, full, embedder, photo } = await derivedDetectorSetup('yolox-nano-dynamic', tmp);
    assert.equal(fit.manifest.input.size_multiple, 32);
    // A 16:9 frame: the photo on the left, a grey gradient to its right.
    let frame, W, H;
    const proposals = async (model) => {
      const vision = await createVision({ embedder, detector: { manifest: model.manifestText, bytes: model.bytes } });
      try {
        if (!frame) {
          const { width, height } = vision.decode(photo, 'Banana_001.jpg');
          const px = vision.frameView(width, height).slice();
          H = height, W = Math.round((height * 16) / 9);
          frame = new Uint8Array(W * H * 4);
          for (let y = 0; y < H; y++) {
            for (let x = 0; x < W; x++) {
              const o = (y * W + x) * 4;
              if (x < width) frame.set(px.subarray((y * width + x) * 4, (y * width + x + 1) * 4), o);
              else frame.set([60 + (x % 97), 60 + (x % 97), 60 + (x % 97), 255], o);
            }
          }
        }
        vision.setFrame(frame, W, H);
        const regions = (await vision.detect({ maxRegions: 6 })).filter((r) => r.kind !== 'full_frame' && r.kind !== 'centre_crop');
        return { regions, input: vision.lastDetectorInput };
      } finally {
        await vision.close();
      }
    };
    const [a, b] = [await proposals(full), await proposals(fit)];
    assert.deepEqual(a.input, { width: 416, height: 416 });
    assert.deepEqual(b.input, { width: 416, height: 256 }, `${W}x${H}`);
    assert.ok(a.regions.length >= 1, 'yolox-nano finds the bananas');
    // Same scale, same weights: only the padding below the content differs, so the best
    // boxes agree (measured on the demo video: median IoU 0.995 between the two).
    for (const r of a.regions.slice(0, 2)) {
      const m = b.regions.find((q) => boxIou(r.box, q.box) > 0.9);
      assert.ok(m, `${r.box.map(Math.round)} not among ${b.regions.map((q) => q.box.map(Math.round)).join(' | ')}`);
      assert.ok(Math.abs(m.score - r.score) < 0.05, `score ${m.score} vs ${r.score}`);
    }
  });
});

function boxIou(p, q) {
  const w = Math.max(0, Math.min(p[2], q[2]) - Math.max(p[0], q[0])), h = Math.max(0, Math.min(p[3], q[3]) - Math.max(p[1], q[1]));
  const area = (r) => (r[2] - r[0]) * (r[3] - r[1]);
  return (w * h) / (area(p) + area(q) - w * h);
}

test('derived model: a result with another sha256 is refused and not cached; a missing tool is named', { skip: needsShared }, async () => {
  await withTemp(async ({ root, cache }) => {
    const manifest = JSON.parse(await readFile(new URL('../../models/mobilenetv2-f32-feat.json', import.meta.url), 'utf8'));
    const wrong = { ...manifest, sha256: '0'.repeat(64) };
    await assert.rejects(resolveModel(wrong, { dirs: modelDirs({}), cache, fetch: noFetch }),
      (e) => e.code === 'corrupt' && /gave sha256 1d0097a8/.test(e.message) && /says 0000/.test(e.message));
    assert.deepEqual(await listFiles(cache), []);

    // A manifest derived from itself is refused, not resolved for ever.
    await writeFile(join(root, 'self.json'), JSON.stringify({ ...manifest, name: 'self', derived_from: { model: 'self', recipe: 'dequantize-int8' } }));
    await assert.rejects(resolveModel('self', { manifestDir: root, dirs: [], cache, fetch: noFetch }),
      (e) => e.code === 'invalid_argument' && /goes round in a circle \(self -> self\)/.test(e.message));

    const env = { SHOPFRAME_PYTHON: join(root, 'no-such-python') };
    await assert.rejects(resolveModel(manifest, { env, dirs: modelDirs({}), cache, fetch: noFetch }),
      (e) => e.code === 'not_found' && /no-such-python: no such program/.test(e.message) && /python3-onnx/.test(e.message));
    assert.deepEqual(await listFiles(cache), []);
  });
});

test('derived model: a source that is not an ONNX model fails with the tool\'s one-line reason, nothing cached', async () => {
  await withTemp(async ({ root, models, cache }) => {
    const garbage = new Uint8Array(4096).map((_, i) => (i * 131 + 7) & 0xff);
    await mkdir(models, { recursive: true });
    await writeFile(join(models, 'garbage.onnx'), garbage);
    await writeFile(join(root, 'garbage.json'), JSON.stringify({ name: 'garbage', file: 'garbage.onnx', sha256: sha256(garbage), licence: 'MIT', kind: 'embedding' }));
    await writeFile(join(root, 'derived.json'), JSON.stringify({ name: 'derived', file: 'derived.onnx', sha256: '1'.repeat(64), licence: 'MIT',
      kind: 'embedding', derived_from: { model: 'garbage', recipe: 'dequantize-int8' } }));
    await assert.rejects(resolveModel('derived', { manifestDir: root, dirs: [models], cache, fetch: noFetch }),
      (e) => e.code === 'not_found' && /garbage\.onnx: not a readable ONNX model/.test(e.message));
    assert.deepEqual(await listFiles(cache), []);
  });
});

test('onePassVariant: a one_pass variant stands in only when it names the model back by sha256', async () => {
  await withTemp(async ({ models }) => {
    await mkdir(models, { recursive: true });
    const base = manifestFor(MODEL, { name: 'base', one_pass: 'maps' });
    const write = (m) => writeFile(join(models, `${m.name}.json`), JSON.stringify(m));
    const maps = { ...manifestFor(MODEL, { name: 'maps', pooling: 'regions' }), compatible_with: { name: 'base', sha256: base.sha256.toUpperCase() } };
    await write(base);
    await write(maps);
    assert.equal(await onePassVariant('base', { manifestDir: models }), 'maps');
    // Drifted apart: the variant names another sha256, so the model is used as it is.
    await write({ ...maps, compatible_with: { name: 'base', sha256: '0'.repeat(64) } });
    assert.equal(await onePassVariant('base', { manifestDir: models }), 'base');
    // A variant that is not here, and a model without one.
    await write({ ...base, one_pass: 'absent' });
    assert.equal(await onePassVariant('base', { manifestDir: models }), 'base');
    assert.equal(await onePassVariant('maps', { manifestDir: models }), 'maps');
  });
  // The shipped default names its one-pass variant, which names it back.
  assert.equal(await onePassVariant('mobilenetv2-f32-multiscale'), 'mobilenetv2-f32-multiscale-maps288');
});
