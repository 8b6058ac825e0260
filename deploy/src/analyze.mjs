// POST /v1/analyze: a JPEG or PNG in, detected products with similar catalog items out.
//
//   POST /v1/analyze?k=5&category=Mugs&maxRegions=4     content-type: image/jpeg | image/png, <= 4 MB
//   -> 200 { width, height,
//            regions: [{ box: [x0, y0, x1, y1] (pixels), score, kind, label, matches: [hit...], suggest }],
//            top: [hit...], suggestion: { id, kind, confidence } | null, timings_ms }
//   where a hit is { id, score, title, category, price, currency, url, image } as in /v1/match.
//
// The models (ONNX Runtime Web sessions) are loaded on the first request of an isolate and
// reused across catalog swaps; requests run one at a time through them (one frame buffer).
import { HttpError, badRequest, queryValue, readBody, readQuery, requireMediaType } from './http.mjs';
import { publicHit } from './match.mjs';
import { embedderServesIndex } from '../../js/engine.mjs';

export const ANALYZE_LIMITS = {
  bodyBytes: 4 * 1024 * 1024,  // 4 MiB encoded image
  side: 8192,                  // pixels per side
  pixels: 12_000_000,          // width * height (48 MB as RGBA; a worker has 128 MB in all)
  k: 20,
  maxRegions: 8,
};

/** Width and height from a PNG (IHDR) or baseline/progressive JPEG (SOFn) header, or null. */
export function imageSize(bytes, type) {
  const u16 = (i) => (bytes[i] << 8) | bytes[i + 1];
  const u32 = (i) => ((bytes[i] << 24) >>> 0) + (bytes[i + 1] << 16) + (bytes[i + 2] << 8) + bytes[i + 3];
  if (type === 'image/png') {
    const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
    if (bytes.length < 24 || sig.some((b, i) => bytes[i] !== b)) return null;
    return { width: u32(16), height: u32(20) };
  }
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1];
    if (marker === 0xff) { ++i; continue; }  // fill byte
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { i += 2; continue; }
    const len = u16(i + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return i + 9 <= bytes.length ? { height: u16(i + 5), width: u16(i + 7) } : null;
    if (marker === 0xd9 || marker === 0xda || len < 2) return null;  // end or scan data before any frame header
    i += 2 + len;
  }
  return null;
}

function checkImage(bytes, type) {
  const size = imageSize(bytes, type);
  const what = type === 'image/png' ? 'PNG' : 'JPEG';
  if (!size) throw badRequest(`body: not a ${what} image (content-type is ${type}), or its header is damaged`, 'invalid_image');
  if (size.width === 0 || size.height === 0) throw badRequest(`body: ${what} image is ${size.width}x${size.height}`, 'invalid_image');
  if (size.width > ANALYZE_LIMITS.side || size.height > ANALYZE_LIMITS.side || size.width * size.height > ANALYZE_LIMITS.pixels) {
    throw new HttpError(413, 'image_too_large',
      `body: ${what} image is ${size.width}x${size.height}; the limit is ${ANALYZE_LIMITS.side} pixels per side and ${ANALYZE_LIMITS.pixels} pixels`);
  }
  return size;
}

function parseOptions(url) {
  const q = readQuery(url, { k: queryValue.number, category: queryValue.string, maxRegions: queryValue.number });
  const int = (name, lo, hi, dflt) => {
    if (q[name] === undefined) return dflt;
    if (!Number.isInteger(q[name]) || q[name] < lo || q[name] > hi) throw badRequest(`query parameter ${name}: expected an integer in ${lo}..${hi}, got ${q[name]}`);
    return q[name];
  };
  return { k: int('k', 1, ANALYZE_LIMITS.k, 5), maxRegions: int('maxRegions', 1, ANALYZE_LIMITS.maxRegions, 4), category: q.category || undefined };
}

/**
 * Why an index cannot serve /v1/analyze with this embedder (its vectors would not be comparable),
 * or null: the dimension must match, and the embedder's sha256 when the index records one.
 * @param {string} manifestText the embedder's manifest (JSON)
 */
export function embedderMismatch(index, manifestText) {
  const have = JSON.parse(manifestText);
  const want = index.config()?.embedder;
  if (index.dim === have.embedding_dim && embedderServesIndex(have, want)) return null;
  return `the index was built with embedder ${want?.name ?? '?'} (${index.dim}-d); /v1/analyze here embeds with ${have.name} (${have.embedding_dim}-d)`;
}

/**
 * Per-isolate vision state: the models are loaded once (ORT sessions and the frame buffer), and
 * each catalog index gets a light engine over them, so a catalog swap reloads no model. All
 * requests go through the one frame buffer, so they run one at a time.
 */
export class AnalyzeService {
  #setup; #embedderManifest; #engineFor = null; #engines = new WeakMap(); #queue = Promise.resolve();

  /**
   * @param {() => Promise<(index) => object>} setup loads the models; resolves to a function
   *   making an engine for an index (see ort_engine.mjs)
   * @param {string} embedderManifest
   */
  constructor(setup, embedderManifest) {
    this.#setup = setup;
    this.#embedderManifest = embedderManifest;
  }

  #setupOnce() {
    if (!this.#engineFor) {
      this.#engineFor = this.#setup();
      this.#engineFor.catch(() => { this.#engineFor = null; });
    }
    return this.#engineFor;
  }

  async #engine(index) {
    let engine = this.#engines.get(index);
    if (engine) return engine;
    const mismatch = embedderMismatch(index, this.#embedderManifest);
    if (mismatch) throw new HttpError(503, 'unavailable', `/v1/analyze cannot use this catalog: ${mismatch}`);
    let engineFor;
    try {
      engineFor = await this.#setupOnce();
    } catch (e) {
      throw new HttpError(503, 'unavailable', `the vision engine could not start: ${e?.message ?? e}`);
    }
    engine = this.#engines.get(index) ?? engineFor(index);
    this.#engines.set(index, engine);  // weak: gone with the index once a swap retires it
    return engine;
  }

  /** @param {import('../../js/shopframe.mjs').Index} index the catalog this request holds */
  async handle(request, url, index) {
    const type = requireMediaType(request, ['image/jpeg', 'image/png']);
    const options = parseOptions(url);
    const bytes = await readBody(request, ANALYZE_LIMITS.bodyBytes);
    checkImage(bytes, type);
    const engine = await this.#engine(index);
    const run = this.#queue.then(() => engine.analyzeEncoded(bytes, { ...options, source: 'body' }));
    this.#queue = run.catch(() => {});
    let r;
    try {
      r = await run;
    } catch (e) {
      // A bad image is the client's error, whatever the decoder called it.
      if (['corrupt', 'truncated', 'unsupported', 'invalid_argument', 'parse_error'].includes(e?.code)) {
        throw badRequest(`body: ${e.message}`, 'invalid_image');
      }
      if (e?.code === 'limit_exceeded') throw new HttpError(413, 'image_too_large', `body: ${e.message}`);
      throw e;
    }
    return {
      width: r.width, height: r.height,
      regions: r.regions.map((g) => ({ box: g.box, score: g.score, kind: g.kind, label: g.label, matches: g.matches.map(publicHit), suggest: g.suggest })),
      top: r.top.map(publicHit),
      suggestion: r.suggestion,
      timings_ms: r.timings_ms,
    };
  }
}
