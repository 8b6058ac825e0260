// The shopframe edge worker: routes, catalog loading, errors. Runtime-neutral: the entry
// (worker.mjs) hands over the precompiled core wasm and the bundled assets.
//
//   GET  /v1/health    -> { ok, simd, index: { items, dim }, analyze }
//   GET  /v1/catalog   -> { version, items, dim, quantizer, metric, built, bytes, sections, generation, ... }
//   PUT  /v1/catalog   -> (bearer CATALOG_TOKEN, an index file) swaps the index; the new /v1/catalog (see catalog.mjs)
//   POST /v1/match     -> { results: [[hit...], ...] }           (see match.mjs)
//   POST /v1/analyze   -> { regions, top, suggestion, ... }      (see analyze.mjs; 501 without models)
//
// Every error is JSON { error: { code, message } } with its HTTP status; nothing escapes as a crash.
import { loadIndex, simdName } from '../../js/shopframe.mjs';

import { AnalyzeService } from './analyze.mjs';
import { Catalog, catalogBytes, catalogInfo, catalogUploader } from './catalog.mjs';
import { HttpError, errorResponse, json } from './http.mjs';
import { handleMatch } from './match.mjs';

const ROUTES = {
  '/v1/health': ['GET', 'HEAD'],
  '/v1/catalog': ['GET', 'HEAD', 'PUT'],
  '/v1/match': ['POST'],
  '/v1/analyze': ['POST'],
};

/**
 * A model's bytes: bundled (a Data module), or, for a deployment built with --models-bucket
 * (the models would not fit the script size limit), object `key` of the MODELS R2 bucket,
 * checked against the manifest's sha256.
 */
export async function modelBytes(env, model) {
  if (!model || model.bytes) return model;
  const bucket = env?.MODELS;
  if (!bucket || typeof bucket.get !== 'function') throw new Error(`model ${model.source} is not bundled and there is no MODELS bucket binding`);
  const object = await bucket.get(model.key);
  if (!object) throw new Error(`model ${model.source}: object '${model.key}' not found in the MODELS bucket`);
  const bytes = await object.arrayBuffer();
  const want = JSON.parse(model.manifest).sha256;
  const got = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
  if (got !== want) throw new Error(`model ${model.source}: '${model.key}' has sha256 ${got}, the manifest says ${want}`);
  return { ...model, bytes };
}

/**
 * @param {{ coreWasm: WebAssembly.Module, assets: { catalog: ArrayBuffer | null, analyze: null | {
 *   ortWasm: WebAssembly.Module, embedder: object, detector: object | null, load: () => Promise<{ createWorkerEngines }> } } }} bundle
 *   embedder/detector: { manifest (JSON text), source, bytes: ArrayBuffer } or { manifest, source, bytes: null, key }
 */
export function createApp({ coreWasm, assets }) {
  let current = null;   // the Catalog serving now
  let first = null;     // Promise of the deployment's catalog, while it loads; dropped on failure so the next request retries
  let uploads = 0;
  let analyze = null;   // AnalyzeService, once per isolate
  let simd = null;
  const upload = catalogUploader({ coreWasm, embedderManifest: assets.analyze?.embedder.manifest });

  /** Puts `catalog` in service (one assignment: see catalog.mjs) and retires the one it replaces. */
  function install(catalog) {
    const old = current;
    current = catalog;
    old?.retire();
  }

  /** The serving Catalog, acquired: the caller must release() it. */
  async function acquire(env) {
    if (!current) {
      first ??= (async () => {
        let bytes;
        try {
          bytes = await catalogBytes(env, assets.catalog);
        } catch (e) {
          throw new HttpError(503, 'unavailable', `catalog unavailable: ${e.message}`);
        }
        let index;
        try {
          index = await loadIndex(bytes, { wasmModule: coreWasm });
        } catch (e) {
          throw new HttpError(503, 'unavailable', `catalog index cannot be opened (${e.code ?? 'error'}): ${e.message}`);
        }
        if (current) index.close();  // an upload came first: it is newer
        else install(new Catalog(index, 0));
      })().finally(() => { first = null; });
      await first;
    }
    return current.acquire();
  }

  function analyzeService(env) {
    const a = assets.analyze;
    analyze ??= a && new AnalyzeService(async () => {
      const [{ createWorkerEngines }, embedder, detector] = await Promise.all([a.load(), modelBytes(env, a.embedder), modelBytes(env, a.detector)]);
      return createWorkerEngines({ coreWasm, ortWasm: a.ortWasm, embedder, detector });
    }, a.embedder.manifest);
    return analyze;
  }

  async function route(request, env) {
    const url = new URL(request.url);
    const methods = ROUTES[url.pathname];
    if (!methods) throw new HttpError(404, 'not_found', `no route ${url.pathname} (routes: ${Object.keys(ROUTES).join(', ')})`);
    if (request.method === 'OPTIONS') {
      return new Response(null, { status: 204, headers: { allow: [...methods, 'OPTIONS'].join(', ') } });
    }
    if (!methods.includes(request.method)) {
      throw new HttpError(405, 'method_not_allowed', `${request.method} ${url.pathname}: use ${methods.join(' or ')}`,
        { allow: [...methods, 'OPTIONS'].join(', ') });
    }

    if (request.method === 'PUT') {  // /v1/catalog: works even when the deployment's catalog does not load
      const catalog = new Catalog(await upload(request, env), ++uploads);
      install(catalog);
      return json(catalogInfo(catalog));
    }

    if (url.pathname === '/v1/health') {
      let catalog;
      try {
        catalog = await acquire(env);
      } catch (e) {
        return json({ ok: false, error: { code: e.code ?? 'internal', message: e.message } }, 503);
      }
      try {
        return json({ ok: true, simd: await (simd ??= simdName({ wasmModule: coreWasm })), index: { items: catalog.index.size, dim: catalog.index.dim }, analyze: !!assets.analyze });
      } finally {
        catalog.release();
      }
    }

    // The request keeps this catalog to its end, even if an upload replaces it meanwhile.
    const catalog = await acquire(env);
    try {
      if (url.pathname === '/v1/catalog') return json(catalogInfo(catalog));
      if (url.pathname === '/v1/match') return json(await handleMatch(request, url, catalog.index));
      if (!assets.analyze) {
        throw new HttpError(501, 'not_implemented',
          'this deployment has no vision models; build it with `node deploy/build.mjs --catalog FILE.sfi --analyze` to enable /v1/analyze');
      }
      return json(await analyzeService(env).handle(request, url, catalog.index));
    } finally {
      catalog.release();
    }
  }

  return {
    async fetch(request, env) {
      let response;
      try {
        response = await route(request, env);
      } catch (e) {
        response = errorResponse(e);
      }
      return withCors(response, env, request);
    },
  };
}

/**
 * CORS for the origins in CORS_ORIGINS (comma-separated, exactly as browsers send them, e.g.
 * "https://shop.example,https://player.example"; "*" allows any). Unset or empty: no CORS
 * headers at all, so browsers on other sites cannot read answers. Preflights never offer PUT
 * nor the Authorization header: catalog uploads are not for browsers.
 */
export function corsOrigin(env, request) {
  const allowed = String(env?.CORS_ORIGINS ?? '').split(',').map((s) => s.trim().replace(/\/+$/, '')).filter(Boolean);
  if (allowed.includes('*')) return '*';
  const origin = request.headers.get('origin');
  return origin && allowed.includes(origin) ? origin : null;
}

function withCors(response, env, request) {
  const headers = new Headers(response.headers);
  const origin = corsOrigin(env, request);
  if (origin) {
    headers.set('access-control-allow-origin', origin);
    if (request.method === 'OPTIONS') {
      const methods = (headers.get('allow') ?? 'GET, POST, OPTIONS').split(', ').filter((m) => m !== 'PUT');
      headers.set('access-control-allow-methods', methods.join(', '));
      headers.set('access-control-allow-headers', 'content-type');
      headers.set('access-control-max-age', '86400');
    }
  }
  // The answer depends on Origin whenever a list is configured: caches must keep them apart.
  if (origin !== '*' && env?.CORS_ORIGINS) headers.append('vary', 'origin');
  return new Response(request.method === 'HEAD' ? null : response.body, { status: response.status, headers });
}
