// Model registry: resolves a model manifest to verified model bytes.
//
//   const { manifest, bytes, path } = await resolveModel('mobilenetv2-feat');
//
// Order: a local directory (SHOPFRAME_MODELS, else ../shared/models next to the
// repository when present), then a cache directory, then the manifest's source_url,
// downloaded and verified by sha256 before it is cached (write to a temp file, then
// rename). A manifest with "derived_from": { "model", "recipe" } instead has its file made
// from that model by tools/derive_model.py (Debian python3-onnx; SHOPFRAME_PYTHON, default
// /usr/bin/python3) and cached after the same sha256 check. A file whose hash does not match
// the manifest is never used; a bad cache entry is deleted and fetched or derived again.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ShopframeError } from './errors.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
export const MANIFEST_DIR = join(REPO, 'models');
export const MAX_MODEL_BYTES = 512 * 1024 * 1024;

/** Directories searched for model files, in order. */
export function modelDirs(env = process.env) {
  const dirs = [];
  if (env.SHOPFRAME_MODELS) dirs.push(resolve(env.SHOPFRAME_MODELS));
  const shared = resolve(REPO, '..', 'shared', 'models');
  if (existsSync(shared)) dirs.push(shared);
  return dirs;
}

export function cacheDir(env = process.env) {
  return resolve(env.SHOPFRAME_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'shopframe'), 'models');
}

// Recipes tools/derive_model.py knows (kept in step with its RECIPES).
export const DERIVE_RECIPES = ['dequantize-int8', 'dequantize-int8-multiscale', 'dequantize-int8-multiscale-maps', 'square-input-320', 'square-input-288', 'dynamic-input'];
const DERIVE_TOOL = join(REPO, 'tools', 'derive_model.py');

export function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

// The same rule as the core's manifest parser: a relative '/'-separated path without '..',
// so a manifest cannot point outside the model directories.
function filePathProblem(file) {
  if (file.startsWith('/')) return 'must be a relative path';
  if (file.includes('\\')) return "must use '/' as path separator";
  if (/[\u0000-\u001f]/.test(file)) return 'must not contain control characters';
  if (file.split('/').includes('..')) return "must not contain '..'";
  return '';
}

/**
 * Light JS checks of a parsed manifest (the core validates fully). Returns a copy with sha256 in
 * lower case, as the core stores it; throws ShopframeError('parse_error') naming `source`.
 */
export function checkManifest(manifest, source = 'model manifest') {
  const fail = (why) => { throw new ShopframeError('parse_error', `${source}: ${why}`); };
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) fail('expected a JSON object');
  for (const field of ['name', 'file', 'sha256', 'kind']) {
    if (typeof manifest[field] !== 'string' || !manifest[field]) fail(`field '${field}' must be a non-empty string`);
  }
  const why = filePathProblem(manifest.file);
  if (why) fail(`field 'file' ${why}, got ${JSON.stringify(manifest.file)}`);
  if (!/^[0-9a-fA-F]{64}$/.test(manifest.sha256)) fail("field 'sha256' must be 64 hex digits");
  if (manifest.source_url !== undefined && typeof manifest.source_url !== 'string') fail("field 'source_url' must be a string");
  const from = manifest.derived_from;
  if (from !== undefined && (typeof from !== 'object' || from === null || typeof from.model !== 'string' || !from.model ||
      !DERIVE_RECIPES.includes(from.recipe))) {
    fail(`field 'derived_from' must be { "model": manifest name, "recipe": one of ${DERIVE_RECIPES.join(', ')} }`);
  }
  // A one-pass embedder (pooling "regions") names the embedder whose index it can query; that
  // embedder names it back as its "one_pass" variant (js/engine.mjs).
  const compat = manifest.compatible_with;
  if (compat !== undefined && (typeof compat !== 'object' || compat === null || typeof compat.name !== 'string' ||
      !compat.name || typeof compat.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(compat.sha256))) {
    fail(`field 'compatible_with' must be { "name": manifest name, "sha256": 64 hex digits }`);
  }
  if (manifest.one_pass !== undefined && (typeof manifest.one_pass !== 'string' || !/^[A-Za-z0-9._-]+$/.test(manifest.one_pass))) {
    fail(`field 'one_pass' must be a manifest name, got ${JSON.stringify(manifest.one_pass)}`);
  }
  return { ...manifest, sha256: manifest.sha256.toLowerCase() };
}

/**
 * The model a query should run for embedder NAME: its manifest's "one_pass" variant when that
 * manifest names one that is known here and is compatible_with NAME's sha256 (one embedder run
 * per frame, js/engine.mjs), else NAME.
 */
export async function onePassVariant(name, options = {}) {
  const base = (await readManifest(name, options)).manifest;
  const variant = base.one_pass;
  if (!variant || !isKnownModel(variant, options)) return name;
  // Only a variant that names this very model back (by sha256) stands in for it: manifests that
  // drifted apart would otherwise turn a working index into an embedder mismatch.
  const compat = (await readManifest(variant, options)).manifest.compatible_with;
  return compat?.sha256?.toLowerCase() === base.sha256 ? variant : name;
}

/** True when models/NAME.json exists (a plain name, not a path). */
export function isKnownModel(name, { manifestDir = MANIFEST_DIR } = {}) {
  return typeof name === 'string' && /^[\w.-]+$/.test(name) && existsSync(join(manifestDir, `${name}.json`));
}

/** Reads a manifest by name (models/NAME.json) or path (ending in .json). */
export async function readManifest(nameOrPath, { manifestDir = MANIFEST_DIR } = {}) {
  const path = nameOrPath.endsWith('.json') ? resolve(nameOrPath) : join(manifestDir, `${nameOrPath}.json`);
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ShopframeError('not_found', `model manifest ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ShopframeError('parse_error', `model manifest ${path}: ${e.message}`);
  }
  return { manifest: checkManifest(parsed, `model manifest ${path}`), text, path };
}

async function readVerified(path, manifest) {
  const bytes = await readFile(path);
  const got = sha256(bytes);
  if (got !== manifest.sha256) {
    throw new ShopframeError('corrupt', `model ${manifest.name}: ${path} has sha256 ${got}, the manifest says ${manifest.sha256}; not used`);
  }
  return bytes;
}

// Reads a response body, giving up (and cancelling the stream) past MAX_MODEL_BYTES even when
// the server sent no Content-Length.
async function readLimited(res, url, manifest) {
  const tooBig = () => new ShopframeError('limit_exceeded', `model ${manifest.name}: ${url} is over the ${MAX_MODEL_BYTES}-byte limit`);
  if (Number(res.headers.get('content-length') ?? 0) > MAX_MODEL_BYTES) {
    await res.body?.cancel();
    throw tooBig();
  }
  const chunks = [];
  let total = 0;
  for await (const chunk of res.body ?? []) {  // throwing here cancels the stream
    total += chunk.length;
    if (total > MAX_MODEL_BYTES) throw tooBig();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

async function download(url, manifest, fetchImpl) {
  let res;
  try {
    res = await fetchImpl(url);
  } catch (e) {
    throw new ShopframeError('io_error', `model ${manifest.name}: cannot download ${url}: ${e.cause?.code ?? e.cause?.message ?? e.message}`, { cause: e });
  }
  if (!res.ok) {
    await res.body?.cancel();  // an unread body would keep the connection busy
    throw new ShopframeError('io_error', `model ${manifest.name}: ${url} answered HTTP ${res.status}`);
  }
  const bytes = await readLimited(res, url, manifest);
  const got = sha256(bytes);
  if (got !== manifest.sha256) {
    throw new ShopframeError('corrupt', `model ${manifest.name}: ${url} has sha256 ${got}, the manifest says ${manifest.sha256}; not used`);
  }
  return bytes;
}

// Temp file in the same directory, then rename: readers never see a partial file.
async function writeAtomic(path, bytes) {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

// Runs tools/derive_model.py RECIPE SRC DST; resolves when it exits 0.
function runDeriveTool(python, recipe, src, dst, manifest) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, [DERIVE_TOOL, recipe, src, dst], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-2000); });
    const failed = (why) => new ShopframeError('not_found',
      `model ${manifest.name}: cannot derive ${manifest.file} from ${manifest.derived_from.model} with ${python} ${DERIVE_TOOL} ` +
      `(${why}); it needs Debian's python3-onnx and python3-numpy (tools/setup.sh installs them), or put the file in SHOPFRAME_MODELS`);
    child.on('error', (e) => reject(failed(e.code === 'ENOENT' ? `${python}: no such program` : e.message)));
    child.on('close', (code) => (code === 0 ? resolvePromise() : reject(failed(`exit ${code}: ${stderr.trim().split('\n').pop()}`))));
  });
}

// Makes a derived model from its (resolved, verified) source model, checks the result against
// the manifest and caches it; a mismatch is an error and nothing is cached.
async function derive(manifest, cached, options, env) {
  const { model, recipe } = manifest.derived_from;
  const chain = options.derivedChain ?? [];
  if (chain.includes(manifest.name) || chain.length >= 4) {
    throw new ShopframeError('invalid_argument', `model ${manifest.name}: derived_from goes round in a circle (${[...chain, manifest.name].join(' -> ')})`);
  }
  const source = await resolveModel(model, { ...options, derivedChain: [...chain, manifest.name] });
  await mkdir(dirname(cached), { recursive: true });
  const tmp = `${cached}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await runDeriveTool(env.SHOPFRAME_PYTHON ?? '/usr/bin/python3', recipe, source.path, tmp, manifest);
    const bytes = await readFile(tmp);
    const got = sha256(bytes);
    if (got !== manifest.sha256) {
      throw new ShopframeError('corrupt', `model ${manifest.name}: deriving it from ${model} (${recipe}) gave sha256 ${got}, ` +
        `the manifest says ${manifest.sha256}; not used (a different python3-onnx or numpy than Debian bookworm's?)`);
    }
    await rename(tmp, cached);
    return bytes;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/**
 * Resolve a manifest (name, path, or parsed object) to verified bytes:
 * { manifest, manifestText, bytes, path, source: 'local' | 'cache' | 'download' | 'derived' }.
 * Options (for tests and embedders; defaults from `env`):
 *   env            environment to read SHOPFRAME_MODELS / SHOPFRAME_CACHE / XDG_CACHE_HOME from
 *   manifestDir    where a manifest given by name is read from, default MANIFEST_DIR (models/)
 *   dirs           local model directories, default modelDirs(env)
 *   cache          cache directory, default cacheDir(env)
 *   fetch          fetch implementation, default globalThis.fetch
 *   allowDownload  false: never touch the network
 * @param {string | object} model
 * @param {{ env?: object, manifestDir?: string, dirs?: string[], cache?: string, fetch?: typeof fetch, allowDownload?: boolean }} [options]
 */
export async function resolveModel(model, options = {}) {
  const env = options.env ?? process.env;
  const { manifest, text } = typeof model === 'string'
    ? await readManifest(model, { manifestDir: options.manifestDir })
    : { manifest: checkManifest(model), text: JSON.stringify(model) };
  const found = (path, bytes, source) => ({ manifest, manifestText: text, bytes, path, source });

  const tried = [];
  for (const dir of options.dirs ?? modelDirs(env)) {
    const path = join(dir, manifest.file);
    tried.push(path);
    if (existsSync(path)) return found(path, await readVerified(path, manifest), 'local');
  }

  const canDownload = options.allowDownload !== false && Boolean(manifest.source_url);
  const cached = join(options.cache ?? cacheDir(env), `${manifest.sha256}-${basename(manifest.file)}`);
  tried.push(cached);
  if (existsSync(cached)) {
    try {
      return found(cached, await readVerified(cached, manifest), 'cache');
    } catch (e) {
      if (e.code !== 'corrupt' || !(canDownload || manifest.derived_from)) throw e;
      await unlink(cached).catch(() => {});  // ours to replace: fetch or derive it again
    }
  }

  if (manifest.derived_from) return found(cached, await derive(manifest, cached, options, env), 'derived');

  if (!canDownload) {
    const why = manifest.source_url ? 'downloads are off' : 'the manifest has no source_url';
    throw new ShopframeError('not_found', `model ${manifest.name}: ${manifest.file} not found (looked in ${tried.join(', ')}; ${why}); set SHOPFRAME_MODELS`);
  }
  const bytes = await download(manifest.source_url, manifest, options.fetch ?? globalThis.fetch);
  await writeAtomic(cached, bytes);
  return found(cached, bytes, 'download');
}
