// shopframe's JS API: the same in node, browsers and workers.
//
//   import { loadIndex } from 'shopframe';
//   const index = await loadIndex(bytes);                 // Uint8Array of a .sfi file
//   const hits = index.search(queryFloat32, { k: 10, category: 'Fruit', minScore: 0.3 });
//   // [{ id, score, title, category, price, currency, url, image, item }]
//   index.info();                                         // what `shopframe catalog inspect` shows
//   index.close();                                        // frees WASM memory now (else on GC... never: call it)
import { allocBuffer, initCore, throwCoreError, ShopframeError } from './core.mjs';

export { initCore, ShopframeError };

/**
 * Open an index. The bytes are copied once into WASM memory and used there in place
 * (validated, checksums verified unless `verify: false`). To skip the copy, fill the
 * array returned by `allocIndexBuffer(size)` and pass it back.
 */
export async function loadIndex(bytes, options = {}) {
  const core = await initCore(options);
  if (!(bytes instanceof Uint8Array)) {
    if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
    else throw new ShopframeError('invalid_argument', 'loadIndex: expected a Uint8Array or ArrayBuffer');
  }
  let buffer = inPlaceBuffers.get(bytes);
  if (!buffer) {
    buffer = allocBuffer(core, bytes.length, 'loadIndex');
    buffer.view().set(bytes);
  }
  inPlaceBuffers.delete(bytes);
  const raw = new core.Index();
  const ok = raw.open(buffer, options.verify !== false);
  buffer.delete();  // the index holds its own reference
  if (!ok) {
    try { throwCoreError(raw); } finally { raw.delete(); }
  }
  return new Index(raw);
}

const inPlaceBuffers = new WeakMap();

/** A Uint8Array inside WASM memory; fill it (e.g. from a fetch stream) and pass it to loadIndex without a copy. */
export async function allocIndexBuffer(size, options = {}) {
  const core = await initCore(options);
  const buffer = allocBuffer(core, size, 'allocIndexBuffer');
  const view = buffer.view();
  inPlaceBuffers.set(view, buffer);
  return view;
}

// Search results' metadata, cached by item ordinal (bounded): an index never changes, and
// reading an item through the core cost more than a product search itself (50 per region).
const META_CACHE_ITEMS = 16384;

export class Index {
  #raw;
  #dim;
  #meta = new Map();
  constructor(raw) {
    this.#raw = raw;
    this.#dim = raw.dim();
  }

  get dim() { return this.#dim; }
  get size() { return this.#live().size(); }

  /**
   * @param {Float32Array | number[]} query  `dim` numbers
   * @param {{ k?: number, category?: string, minScore?: number, nprobe?: number, rerank?: number, distinct?: boolean }} [options]
   *   distinct: items sharing an id (one per catalog image of a product) count once, best score.
   */
  search(query, options = {}) {
    const raw = this.#live();
    if (!query || typeof query.length !== 'number' || query.length !== this.#dim) {
      throw new ShopframeError('invalid_argument',
        `search: query has ${query?.length ?? 'no'} dimensions, the index has ${this.#dim}`);
    }
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 0) throw new ShopframeError('invalid_argument', `search: k must be a non-negative integer, got ${k}`);
    const minScore = options.minScore ?? -Infinity;
    if (typeof minScore !== 'number' || Number.isNaN(minScore)) throw new ShopframeError('invalid_argument', 'search: minScore must be a number');
    raw.queryView().set(query);
    const n = raw.search(k, options.category ?? '', minScore, options.nprobe ?? 0, options.rerank ?? 0, !!options.distinct);
    if (n < 0) throwCoreError(raw);
    const items = raw.resultItems().slice();  // copy: later calls reuse the buffers
    const scores = raw.resultScores().slice();
    const out = new Array(n);
    for (let i = 0; i < n; ++i) {
      const meta = this.#metaOf(raw, items[i]);
      out[i] = {
        id: meta.id || String(items[i]), score: scores[i], title: meta.title, category: meta.category,
        price: meta.price, currency: meta.currency, url: meta.url, image: meta.image, item: items[i],
      };
    }
    return out;
  }

  /** Item ordinals and scores only (no metadata objects): the fast path for bulk use. */
  searchRaw(query, options = {}) {
    const raw = this.#live();
    if (!query || query.length !== this.#dim) {
      throw new ShopframeError('invalid_argument', `search: query has ${query?.length} dimensions, the index has ${this.#dim}`);
    }
    raw.queryView().set(query);
    const n = raw.search(options.k ?? 10, options.category ?? '', options.minScore ?? -Infinity, options.nprobe ?? 0,
      options.rerank ?? 0, !!options.distinct);
    if (n < 0) throwCoreError(raw);
    return { items: raw.resultItems().slice(), scores: raw.resultScores().slice() };
  }

  /** Metadata of item ordinal `i`. */
  item(i) { return this.#live().item(i); }

  info() { return this.#live().info(); }

  /** The bytes of this index with its engine configuration replaced (e.g. new calibration). */
  withConfig(config) {
    const raw = this.#live();
    const out = raw.withConfig(config === null ? '' : JSON.stringify(config));
    if (!out) throwCoreError(raw);
    try {
      return out.view().slice();
    } finally {
      out.delete();
    }
  }

  /** The engine configuration stored at build time (CONF section), or null. */
  config() {
    const text = this.#live().config();
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ShopframeError('corrupt', `index section CONF: not valid JSON (${e.message})`);
    }
  }

  close() {
    if (this.#raw) this.#raw.delete();
    this.#raw = null;
    this.#meta.clear();
  }

  // Never handed out: each result copies its fields, so a caller cannot change the cache.
  #metaOf(raw, item) {
    let meta = this.#meta.get(item);
    if (!meta) {
      if (this.#meta.size >= META_CACHE_ITEMS) this.#meta.clear();
      meta = raw.item(item);
      this.#meta.set(item, meta);
    }
    return meta;
  }

  #live() {
    if (!this.#raw) throw new ShopframeError('invalid_argument', 'index is closed');
    return this.#raw;
  }
}

function progressCallback(onProgress) {
  return onProgress ? (stage, done, total) => onProgress({ stage, done, total }) : undefined;
}

function runBuild(builder, options) {
  const ok = builder.build(options.quantizer ?? 'sq8', options.metric ?? 'cosine', options.seed ?? 1,
    options.buildTime ?? Date.now(), progressCallback(options.onProgress));
  if (!ok) throwCoreError(builder);
  const out = builder.output();
  const bytes = out.view().slice();
  out.delete();
  let recall;
  if (options.recallSample) {
    recall = builder.measureRecall(options.recallSample, 10);
    if (recall < 0) throwCoreError(builder);
  }
  return { bytes, recall };
}

/**
 * Build an index from vectors (n x dim, row-major) and optional item metadata.
 * @returns {Promise<Uint8Array>}
 */
export async function buildIndex(options) {
  return (await buildIndexDetailed(options)).bytes;
}

/**
 * buildIndex with catalog adaptation and a report. Extra options:
 *   labels: Uint32Array (one per vector; a product's images share a label),
 *   adapt: false | true | 'auto' ('auto': adapt when a held-out check says it helps),
 *   adaptDim (80), adaptReg (0.1), config (object stored in the CONF section), recallSample.
 * @returns {Promise<{ bytes: Uint8Array, recall?: number, adaptation: null | { applied: boolean, dim?: number,
 *   trial?: { rawRecallAt1: number, adaptedRecallAt1: number, rawRecallAt5: number, adaptedRecallAt5: number, heldOut: number } } }>}
 */
export async function buildIndexDetailed(options) {
  const { vectors, dim, items, labels } = options;
  if (!(vectors instanceof Float32Array) || !Number.isInteger(dim) || dim <= 0 || vectors.length % dim !== 0) {
    throw new ShopframeError('invalid_argument', 'buildIndex: vectors must be a Float32Array of n*dim numbers');
  }
  const n = vectors.length / dim;
  if (items && items.length !== n) throw new ShopframeError('invalid_argument', `buildIndex: ${items.length} items for ${n} vectors`);
  if (labels && labels.length !== n) throw new ShopframeError('invalid_argument', `buildIndex: ${labels.length} labels for ${n} vectors`);
  const adapt = options.adapt ?? false;
  if (adapt && !labels) throw new ShopframeError('invalid_argument', 'buildIndex: adaptation needs labels');
  const core = await initCore(options);
  const builder = new core.IndexBuilder();
  try {
    builder.reserveVectors(n, dim);
    builder.vectorView().set(vectors);
    for (const it of items ?? []) {
      builder.addMeta(String(it.id ?? ''), it.title ?? '', it.category ?? '', it.currency ?? '', it.url ?? '',
        it.image ?? '', typeof it.price === 'number' ? it.price : 0, typeof it.price === 'number');
    }
    let adaptation = null;
    if (adapt) {
      builder.labelView().set(labels);
      const outDim = options.adaptDim ?? 80, reg = options.adaptReg ?? 0.1;
      let apply = adapt === true;
      let trial;
      let reason;
      if (adapt === 'auto') {
        trial = builder.trialAdaptation(outDim, reg);
        if (trial === null) {
          reason = builder.errorMessage();  // e.g. too few products with several images to judge
          trial = undefined;
        } else {
          apply = trial.adaptedRecallAt1 >= trial.rawRecallAt1;  // ties: adapt (it also compacts the index)
        }
      }
      adaptation = { applied: apply, trial, ...(reason ? { reason } : {}) };
      if (apply) {
        const got = builder.learnAdaptation(outDim, reg);
        if (got < 0) throwCoreError(builder);
        adaptation.dim = got;
      }
    }
    if (options.config) builder.setConfig(JSON.stringify(options.config));
    const { bytes, recall } = runBuild(builder, options);
    return { bytes, recall, adaptation };
  } finally {
    builder.delete();
  }
}

/** Parse JSONL catalog text (no vectors needed): products with their image lists, and skipped lines. */
export async function parseCatalog(text, options = {}) {
  const core = await initCore(options);
  const builder = new core.IndexBuilder();
  try {
    if (!builder.parseCatalog(text, options.source ?? 'catalog.jsonl', !!options.skipBad, options.dim ?? 0, false)) throwCoreError(builder);
    return { products: builder.products(), skipped: builder.skipped() };
  } finally {
    builder.delete();
  }
}

/**
 * Build an index from JSONL catalog text whose lines carry embeddings.
 * @returns {Promise<{ bytes: Uint8Array, items: number, dim: number, skipped: {line:number, reason:string}[], recall?: number }>}
 */
export async function buildIndexFromCatalog(text, options = {}) {
  const core = await initCore(options);
  const builder = new core.IndexBuilder();
  try {
    if (!builder.parseCatalog(text, options.source ?? 'catalog.jsonl', !!options.skipBad, options.dim ?? 0, true)) throwCoreError(builder);
    const skipped = builder.skipped();
    if (builder.count() === 0) throw new ShopframeError('invalid_argument', `${options.source ?? 'catalog'}: no products`);
    const { bytes, recall } = runBuild(builder, options);
    return { bytes, items: builder.count(), dim: builder.dim(), skipped, recall };
  } finally {
    builder.delete();
  }
}

/** Name of the SIMD kernel table in use ("wasm128" or "scalar"). */
export async function simdName(options = {}) {
  return (await initCore(options)).simdName();
}

/** Current size of the WASM memory in bytes (it only grows; for leak checks and budgets). */
export async function coreMemoryBytes(options = {}) {
  return (await initCore(options)).heapBytes();
}
