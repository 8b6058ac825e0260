// The shopframe edge worker: routes, catalog loading, errors. Runtime-neutral: the entry
// (worker.mjs) hands over the precompiled core wasm and the bundled assets.
//
//   GET  /v1/health    -> { ok, simd, index: { items, dim }, analyze }
//   GET  /v1/catalog   -> { version, items, dim, quantizer, metric, built, bytes, sections, ... }
//   POST /v1/match     -> { results: [[hit...], ...] }           (see match.mjs)
//   POST /v1/analyze   -> { regions, top, suggestion, ... }      (see analyze.mjs; 501 without models)
//
// Every error is JSON { error: { code, message } } with its HTTP status; nothing escapes as a crash.
import { loadIndex, simdName } from '../../js/shopframe.mjs';

import { AnalyzeService } from './analyze.mjs';
import { HttpError, errorResponse, json } from './http.mjs';
import { handleMatch } from './match.mjs';

const ROUTES = {
  '/v1/health': ['GET', 'HEAD'],
  '/v1/catalog': ['GET', 'HEAD'],
  '/v1/match': ['POST'],
  '/v1/analyze': ['POST'],
};

/**
 * Where the catalog index comes from, first match wins:
 *   env.CATALOG  an R2 bucket binding (object env.CATALOG_KEY, default 'catalog.sfi'),
 *                or bytes (a workerd `data` binding: ArrayBuffer / typed array);
 *   assets.catalog  the index bundled as a Data module by deploy/build.mjs.
 */
async function catalogBytes(env, bundled) {
  const binding = env?.CATALOG;
  if (binding && typeof binding.get === 'function') {
    const key = env.CATALOG_KEY ?? 'catalog.sfi';
    const object = await binding.get(key);
    if (!object) throw new Error(`catalog object '${key}' not found in the CATALOG bucket`);
    return new Uint8Array(await object.arrayBuffer());
  }
  if (binding instanceof ArrayBuffer) return new Uint8Array(binding);
  if (ArrayBuffer.isView(binding)) return new Uint8Array(binding.buffer, binding.byteOffset, binding.byteLength);
  if (binding) throw new Error('the CATALOG binding is neither an R2 bucket nor bytes');
  if (bundled) return new Uint8Array(bundled);
  throw new Error('no catalog: bundle one (node deploy/build.mjs --catalog FILE.sfi) or bind CATALOG');
}

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
 *   ortWasm: WebAssembly.Module, embedder: object, detector: object | null, load: () => Promise<{ createWorkerEngine }> } } }} bundle
 *   embedder/detector: { manifest (JSON text), source, bytes: ArrayBuffer } or { manifest, source, bytes: null, key }
 */
export function createApp({ coreWasm, assets }) {
  let state = null;  // Promise<{ index, analyze }> once per isolate; dropped on failure so the next request retries

  function load(env) {
    if (!state) {
      state = (async () => {
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
        const a = assets.analyze;
        const analyze = a && new AnalyzeService(async () => {
          const [{ createWorkerEngine }, embedder, detector] = await Promise.all([a.load(), modelBytes(env, a.embedder), modelBytes(env, a.detector)]);
          return createWorkerEngine({ index, coreWasm, ortWasm: a.ortWasm, embedder, detector });
        });
        return { index, analyze, simd: await simdName({ wasmModule: coreWasm }) };
      })();
      state.catch(() => { state = null; });
    }
    return state;
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

    if (url.pathname === '/v1/health') {
      let s;
      try {
        s = await load(env);
      } catch (e) {
        return json({ ok: false, error: { code: e.code ?? 'internal', message: e.message } }, 503);
      }
      return json({ ok: true, simd: s.simd, index: { items: s.index.size, dim: s.index.dim }, analyze: !!s.analyze });
    }

    const s = await load(env);
    if (url.pathname === '/v1/catalog') return json(catalogInfo(s.index));
    if (url.pathname === '/v1/match') return json(await handleMatch(request, url, s.index));
    if (!s.analyze) {
      throw new HttpError(501, 'not_implemented',
        'this deployment has no vision models; build it with `node deploy/build.mjs --catalog FILE.sfi --analyze` to enable /v1/analyze');
    }
    return json(await s.analyze.handle(request, url));
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

/** What `shopframe catalog inspect` shows, for GET /v1/catalog. */
export function catalogInfo(index) {
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
    sections: info.sections.map((s) => ({ kind: s.kind, offset: s.offset, bytes: s.bytes, crc32: s.crc32, verified: s.verified })),
  };
}

function withCors(response, env, request) {
  const origin = env?.CORS_ORIGIN ?? '*';
  if (!origin) return response;
  const headers = new Headers(response.headers);
  headers.set('access-control-allow-origin', origin);
  if (origin !== '*') headers.append('vary', 'origin');
  if (request.method === 'OPTIONS') {
    headers.set('access-control-allow-methods', headers.get('allow') ?? 'GET, POST, OPTIONS');
    headers.set('access-control-allow-headers', 'content-type');
    headers.set('access-control-max-age', '86400');
  }
  return new Response(request.method === 'HEAD' ? null : response.body, { status: response.status, headers });
}
