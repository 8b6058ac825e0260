// Model registry: resolves a model manifest to verified model bytes.
//
//   const { manifest, bytes, path } = await resolveModel('mobilenetv2-feat');
//
// Order: a local directory (SHOPFRAME_MODELS, else ../shared/models next to the
// repository when present), then a cache directory, then the manifest's source_url,
// downloaded and verified by sha256 before it is cached (write to a temp file, then
// rename). A file whose hash does not match the manifest is never used.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
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

export function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads a manifest by name (models/NAME.json) or path; light JS checks (the core validates fully). */
export async function readManifest(nameOrPath) {
  const path = nameOrPath.endsWith('.json') ? resolve(nameOrPath) : join(MANIFEST_DIR, `${nameOrPath}.json`);
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ShopframeError('not_found', `model manifest ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new ShopframeError('parse_error', `model manifest ${path}: ${e.message}`);
  }
  for (const field of ['name', 'file', 'sha256', 'kind']) {
    if (typeof manifest[field] !== 'string' || !manifest[field]) {
      throw new ShopframeError('parse_error', `model manifest ${path}: field '${field}' must be a non-empty string`);
    }
  }
  if (!/^[0-9a-f]{64}$/.test(manifest.sha256)) throw new ShopframeError('parse_error', `model manifest ${path}: field 'sha256' must be 64 lowercase hex digits`);
  return { manifest, text, path };
}

async function readVerified(path, manifest) {
  const bytes = await readFile(path);
  const got = sha256(bytes);
  if (got !== manifest.sha256) {
    throw new ShopframeError('corrupt', `model ${manifest.name}: ${path} has sha256 ${got}, the manifest says ${manifest.sha256}`);
  }
  return bytes;
}

async function download(url, manifest, fetchImpl) {
  let res;
  try {
    res = await fetchImpl(url);
  } catch (e) {
    throw new ShopframeError('io_error', `model ${manifest.name}: cannot download ${url}: ${e.cause?.code ?? e.message}`);
  }
  if (!res.ok) throw new ShopframeError('io_error', `model ${manifest.name}: ${url} answered HTTP ${res.status}`);
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_MODEL_BYTES) throw new ShopframeError('limit_exceeded', `model ${manifest.name}: ${url} is ${length} bytes, over the ${MAX_MODEL_BYTES}-byte limit`);
  const bytes = Buffer.from(await res.arrayBuffer());
  if (bytes.length > MAX_MODEL_BYTES) throw new ShopframeError('limit_exceeded', `model ${manifest.name}: download exceeds ${MAX_MODEL_BYTES} bytes`);
  const got = sha256(bytes);
  if (got !== manifest.sha256) {
    throw new ShopframeError('corrupt', `model ${manifest.name}: ${url} has sha256 ${got}, the manifest says ${manifest.sha256}; not used`);
  }
  return bytes;
}

/**
 * Resolve a manifest (name, path, or parsed object) to verified bytes.
 * @param {string | object} model
 * @param {{ env?: object, fetch?: typeof fetch, allowDownload?: boolean }} [options]
 */
export async function resolveModel(model, options = {}) {
  const env = options.env ?? process.env;
  const { manifest, text } = typeof model === 'string' ? await readManifest(model) : { manifest: model, text: JSON.stringify(model) };
  const tried = [];
  for (const dir of modelDirs(env)) {
    const path = join(dir, manifest.file);
    tried.push(path);
    if (existsSync(path)) return { manifest, manifestText: text, bytes: await readVerified(path, manifest), path };
  }
  const cached = join(cacheDir(env), `${manifest.sha256}-${manifest.file}`);
  tried.push(cached);
  if (existsSync(cached)) return { manifest, manifestText: text, bytes: await readVerified(cached, manifest), path: cached };
  if (options.allowDownload === false || !manifest.source_url) {
    throw new ShopframeError('not_found', `model ${manifest.name}: ${manifest.file} not found (looked in ${tried.join(', ')}); set SHOPFRAME_MODELS`);
  }
  const bytes = await download(manifest.source_url, manifest, options.fetch ?? globalThis.fetch);
  await mkdir(dirname(cached), { recursive: true });
  const tmp = `${cached}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, cached);
  } finally {
    await unlink(tmp).catch(() => {});
  }
  return { manifest, manifestText: text, bytes, path: cached };
}
