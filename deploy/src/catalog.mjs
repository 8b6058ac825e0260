// The catalog index an isolate serves: where it comes from, what GET /v1/catalog shows, and
// PUT /v1/catalog, which replaces it.
//
// Swapping safely: a request takes a reference to the Catalog serving when it starts and uses
// that index to its end, whatever happens meanwhile (a request awaits its body, analyze awaits
// ORT, so a swap can land mid-request). An upload is fully validated first (loadIndex verifies
// every checksum); the swap itself is one assignment, which no request can observe half-done
// (JS runs one step at a time); the replaced Catalog is retired and its index closed (WASM
// memory freed) when the last request holding it finishes.
import { loadIndex } from '../../js/shopframe.mjs';

import { embedderMismatch } from './analyze.mjs';
import { HttpError, badRequest, discardBody, readBody, requireMediaType } from './http.mjs';

/**
 * PUT /v1/catalog body limit, unless the CATALOG_UPLOAD_LIMIT var (bytes) says otherwise.
 * Swapping holds three copies at the peak (the serving index, the request body and its copy in
 * WASM memory), and a Workers isolate has 128 MB in all: raise it only where the isolate has
 * the memory (self-hosted workerd).
 */
export const UPLOAD_LIMIT = 32 * 1024 * 1024;

function uploadLimit(env) {
  if (env.CATALOG_UPLOAD_LIMIT === undefined || env.CATALOG_UPLOAD_LIMIT === null) return UPLOAD_LIMIT;
  const limit = Number(env.CATALOG_UPLOAD_LIMIT);
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new HttpError(503, 'unavailable', `the CATALOG_UPLOAD_LIMIT var is '${env.CATALOG_UPLOAD_LIMIT}', not a number of bytes`);
  }
  return limit;
}

export class Catalog {
  #refs = 0;
  #retired = false;

  /** @param {import('../../js/shopframe.mjs').Index} index  @param {number} generation 0: the deployment's; n: the n-th upload */
  constructor(index, generation) {
    this.index = index;
    this.generation = generation;
    this.loaded = new Date();
  }

  acquire() {
    ++this.#refs;
    return this;
  }

  release() {
    if (--this.#refs === 0 && this.#retired) this.index.close();
  }

  /** No longer served: closed now if unused, else by the last release(). */
  retire() {
    this.#retired = true;
    if (this.#refs === 0) this.index.close();
  }
}

/**
 * Where the deployment's index comes from, first match wins:
 *   env.CATALOG  an R2 bucket binding (object env.CATALOG_KEY, default 'catalog.sfi'),
 *                or bytes (a workerd `data` binding: ArrayBuffer / typed array);
 *   bundled      the index bundled as a Data module by deploy/build.mjs.
 */
export async function catalogBytes(env, bundled) {
  const binding = env?.CATALOG;
  if (isBucket(binding)) {
    const object = await binding.get(catalogKey(env));
    if (!object) throw new Error(`catalog object '${catalogKey(env)}' not found in the CATALOG bucket`);
    return new Uint8Array(await object.arrayBuffer());
  }
  if (binding instanceof ArrayBuffer) return new Uint8Array(binding);
  if (ArrayBuffer.isView(binding)) return new Uint8Array(binding.buffer, binding.byteOffset, binding.byteLength);
  if (binding) throw new Error('the CATALOG binding is neither an R2 bucket nor bytes');
  if (bundled) return new Uint8Array(bundled);
  throw new Error('no catalog: bundle one (node deploy/build.mjs --catalog FILE.sfi) or bind CATALOG');
}

const isBucket = (binding) => binding && typeof binding.get === 'function';
const catalogKey = (env) => env.CATALOG_KEY ?? 'catalog.sfi';

/** What `shopframe catalog inspect` shows, for GET /v1/catalog, plus which load of this isolate it is. */
export function catalogInfo(catalog) {
  const { index } = catalog;
  const info = index.info();
  let config = null;
  try {
    config = index.config();
  } catch {
    // a damaged CONF section: report the rest
  }
  return {
    version: info.version,
    items: info.count,
    dim: info.dim,
    workDim: info.workDim,
    metric: info.metric,
    quantizer: info.quantizer,
    built: new Date(Number(info.buildUnixMs)).toISOString(),
    bytes: info.fileBytes,
    ivfLists: info.ivfLists,
    defaultNprobe: info.defaultNprobe,
    defaultRerank: info.defaultRerank,
    hasMetadata: info.hasMetadata,
    embedder: config?.embedder ?? null,
    calibrated: !!config?.calibration,
    generation: catalog.generation,
    loaded: catalog.loaded.toISOString(),
    sections: info.sections.map((s) => ({ kind: s.kind, offset: s.offset, bytes: s.bytes, crc32: s.crc32, verified: s.verified })),
  };
}

// ------------------------------------------------------------------------- PUT /v1/catalog

const sha256 = async (text) => new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

/**
 * `Authorization: Bearer <token>` against the secret, in constant time: both are hashed and the
 * digests compared without an early exit, so the time shows neither where they differ nor the
 * secret's length.
 */
async function bearerMatches(request, secret) {
  const token = /^bearer +(\S+) *$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  const [a, b] = await Promise.all([sha256(token ?? ''), sha256(String(secret))]);
  let diff = token === undefined ? 1 : 0;
  for (let i = 0; i < a.length; ++i) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Drops the unread body, then refuses (see discardBody). Up to the upload limit: an operator
 * who sent a real upload with a wrong token or type gets the answer, not a reset connection.
 */
async function refuse(request, error, limit = UPLOAD_LIMIT) {
  await discardBody(request, limit);
  throw error;
}

/**
 * Checks an upload and opens it: the same validation as any load (structure, every section's
 * checksum), the CONF section must parse, and with /v1/analyze the embedder must match.
 * Errors are 400s carrying the reader's message, which names the section or byte offset.
 */
async function openUpload(bytes, { coreWasm, embedderManifest }) {
  let index;
  try {
    index = await loadIndex(bytes, { wasmModule: coreWasm });
  } catch (e) {
    if (e?.code === 'out_of_memory') throw new HttpError(413, 'payload_too_large', `body: ${e.message}`);
    throw badRequest(`body: not a usable index (${e?.code ?? 'error'}): ${e?.message ?? e}`, 'invalid_index');
  }
  try {
    index.config();
    const mismatch = embedderManifest && embedderMismatch(index, embedderManifest);
    if (mismatch) throw badRequest(`body: ${mismatch}`, 'invalid_index');
    return index;
  } catch (e) {
    index.close();
    if (e instanceof HttpError) throw e;
    throw badRequest(`body: not a usable index (${e?.code ?? 'error'}): ${e?.message ?? e}`, 'invalid_index');
  }
}

/**
 * PUT /v1/catalog. Disabled (403) unless the CATALOG_TOKEN secret is set; 401 without the right
 * bearer token; 409 while another upload is being checked (one at a time bounds memory).
 * A valid upload is also written to the CATALOG R2 bucket when there is one, so isolates that
 * start later load it too. Returns the new index, opened; the caller installs it.
 * Any failure leaves the serving catalog untouched.
 */
export function catalogUploader({ coreWasm, embedderManifest }) {
  let busy = false;
  return async function upload(request, env) {
    const secret = env?.CATALOG_TOKEN;
    if (!secret) {
      await refuse(request, new HttpError(403, 'forbidden', 'catalog uploads are disabled: set the CATALOG_TOKEN secret to enable PUT /v1/catalog'));
    }
    if (!(await bearerMatches(request, secret))) {
      const given = request.headers.has('authorization');
      await refuse(request, new HttpError(401, 'unauthorized',
        given ? 'the bearer token is not the CATALOG_TOKEN secret' : 'PUT /v1/catalog needs an Authorization: Bearer <CATALOG_TOKEN> header',
        { 'www-authenticate': `Bearer realm="shopframe catalog"${given ? ', error="invalid_token"' : ''}` }));
    }
    const limit = uploadLimit(env);
    try {
      requireMediaType(request, ['application/octet-stream']);
    } catch (e) {
      await refuse(request, e, limit);
    }
    if (busy) await refuse(request, new HttpError(409, 'conflict', 'another catalog upload is being checked; retry when it is done'), limit);
    busy = true;
    try {
      const bytes = await readBody(request, limit);
      const index = await openUpload(bytes, { coreWasm, embedderManifest });
      if (isBucket(env.CATALOG) && typeof env.CATALOG.put === 'function') {
        try {
          await env.CATALOG.put(catalogKey(env), bytes);
        } catch (e) {
          index.close();
          throw new HttpError(503, 'unavailable', `the upload is valid but could not be stored in the CATALOG bucket (${e?.message ?? e}); the serving catalog is unchanged`);
        }
      }
      return index;
    } finally {
      busy = false;
    }
  };
}
