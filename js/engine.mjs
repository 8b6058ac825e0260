// The shopframe engine: frame in, similar items (or an honest nothing) out.
//
//   import { createEngine } from 'shopframe/engine';
//   const engine = await createEngine({ index: indexBytes, models: { embedder, detector } });
//   const r = await engine.analyzeImage(rgba, width, height);
//   // { width, height, regions: [{ box, score, kind, label, matches, suggest }],
//   //   top: [{ id, score, title, ... }], suggestion: { id, kind, confidence } | null, timings_ms }
//
// Models are { manifest, bytes } pairs (in node, omit them to resolve the defaults through
// the model registry, js/models.mjs). The index must have been built from the same
// embedder (its CONF section names it); a mismatch is an error, not a silent bad match.
import { loadIndex, Index, ShopframeError } from './shopframe.mjs';
import { createVision, now } from './vision.mjs';
import { createPolicy, fuseMatches, FUSION_K } from './decide.mjs';

export const DEFAULT_MODELS = { embedder: 'mobilenetv2-f32-multiscale', detector: 'yolox-nano-dynamic' };

// Node only: a model given by name (or not at all) is resolved through js/models.mjs. Without an
// explicit embedder the one the index was built with is used when its manifest is known here,
// so an index built with another embedder (e.g. the int8 mobilenetv2-feat) keeps working.
// Chosen that way (not named by the caller), an embedder whose manifest names a "one_pass"
// variant (a model with "pooling": "regions" that is "compatible_with" it) is swapped for that
// one unless onePass is false: every region's embedding then comes from one pass over the frame
// instead of one pass per cropped region.
async function resolveDefaultModels(models, indexEmbedder, onePass) {
  const out = { ...models };
  for (const role of ['embedder', 'detector']) {
    if (out[role] === undefined || typeof out[role] === 'string') {
      const { resolveModel, isKnownModel, onePassVariant } = await import('./models.mjs');
      const fromIndex = role === 'embedder' && out[role] === undefined && isKnownModel(indexEmbedder?.name);
      let name = fromIndex ? indexEmbedder.name : out[role] ?? DEFAULT_MODELS[role];
      if (role === 'embedder' && out[role] === undefined && onePass !== false) name = await onePassVariant(name);
      const r = await resolveModel(name);
      out[role] = { manifest: r.manifestText ?? r.manifest, bytes: r.bytes, source: r.path };
    }
  }
  return out;
}

/**
 * Whether an embedder (its manifest: JSON text or object) computes the features of the index
 * built with embedder `want` ({ name, sha256 } from the index's CONF): the same model, or a
 * one-pass model ("pooling": "regions") whose manifest says it is compatible_with that one.
 * An index that names no sha256 has nothing to contradict.
 */
export function embedderServesIndex(manifest, want) {
  if (!want?.sha256) return true;
  let m = manifest;
  if (typeof m === 'string') {
    try { m = JSON.parse(m); } catch { return false; }
  }
  const sha = (x) => (typeof x === 'string' ? x.toLowerCase() : null);
  return sha(m?.sha256) === want.sha256 || (m?.pooling === 'regions' && sha(m?.compatible_with?.sha256) === want.sha256);
}

/**
 * Which of several embedder manifests (parsed objects; null for one that was not JSON, which
 * never matches) to run for an index built with embedder `want` ({ name, sha256 } from its
 * CONF, or undefined): a one-pass model compatible_with it unless onePass is false, else the
 * same model, else the first in the list, as the node engine falls back to its default (with
 * onePass false: the first that embeds crops). Returns an index (0 for an empty list).
 */
export function pickEmbedder(manifests, want, { onePass } = {}) {
  const same = (m) => want && (want.sha256 ? m?.sha256?.toLowerCase() === want.sha256 : m?.name === want.name);
  const compatible = (m) => onePass !== false && m?.pooling === 'regions' && want?.sha256 && embedderServesIndex(m, want);
  const crops = (m) => onePass === false && m !== null && typeof m === 'object' && m.pooling !== 'regions';
  for (const fits of [compatible, same, crops]) {
    const i = manifests.findIndex(fits);
    if (i >= 0) return i;
  }
  return 0;
}

export class Engine {
  #vision; #index; #ownsIndex; #policy; #options;

  constructor(vision, index, ownsIndex, options) {
    this.#vision = vision;
    this.#index = index;
    this.#ownsIndex = ownsIndex;
    this.#options = options;
    const config = index.config();
    this.#policy = createPolicy(options.calibration ?? config?.calibration);
  }

  get index() { return this.#index; }
  get vision() { return this.#vision; }
  /** True when the index carries calibrated thresholds (else the engine never suggests). */
  get calibrated() { return this.#policy.calibrated; }
  /** The calibration in use (index CONF or the createEngine option), or null. */
  get calibration() { return this.#options.calibration ?? this.#index.config()?.calibration ?? null; }

  /** Analyse an RGBA frame (tight rows). */
  async analyzeImage(rgba, width, height, options = {}) {
    const t0 = now();
    this.#vision.setFrame(rgba, width, height);
    return this.#analyze(t0, now(), options);
  }

  /**
   * Analyse a frame written in place: `fill(view)` gets the WASM-memory RGBA view of
   * width x height (tight rows) and fills it (may be async, e.g. VideoFrame.copyTo).
   */
  async analyzeFilled(width, height, fill, options = {}) {
    const t0 = now();
    await fill(this.#vision.frameView(width, height));
    return this.#analyze(t0, now(), options);
  }

  /** Analyse JPEG or PNG bytes (decoded by the core's stb). */
  async analyzeEncoded(bytes, options = {}) {
    const t0 = now();
    this.#vision.decode(bytes, options.source ?? 'image');
    return this.#analyze(t0, now(), options);
  }

  async #analyze(t0, tFrame, options) {
    const k = options.k ?? this.#options.k ?? 5;
    this.#vision.preprocessMs = 0;
    const t1 = now();
    // reuseProposals (boolean, or a function asked now, after the frame was filled): video
    // callers skip the detector on some samples and embed the last run's boxes (js/live.mjs).
    const reuse = typeof options.reuseProposals === 'function' ? !!options.reuseProposals() : !!options.reuseProposals;
    const regions = await this.#vision.detect({ maxRegions: options.maxRegions ?? this.#options.maxRegions ?? 4, reuse });
    const reused = this.#vision.lastDetectReused;
    const t2 = now();
    const prepDetect = this.#vision.preprocessMs;
    const embeddings = await this.#vision.embed(regions.length);
    const t3 = now();
    const prepEmbed = this.#vision.preprocessMs - prepDetect;
    const searchOptions = { k: Math.max(k, FUSION_K), distinct: true, category: options.category };
    const lists = embeddings.map((e) => this.#index.search(e, searchOptions));
    const out = regions.map((r, i) => {
      const matches = lists[i].slice(0, k);
      const label = r.classId >= 0 ? this.#vision.className(r.classId) : null;
      const region = { box: r.box, score: r.score, kind: r.kind, label: label ?? r.kind, matches, suggest: this.#policy.decide(matches) };
      if (options.embeddings) region.embedding = embeddings[i];  // raw model features (for tracking)
      return region;
    });
    const top = fuseMatches(lists, k);
    const suggestion = this.#policy.decide(top);
    const t4 = now();
    return {
      width: this.#vision.frameWidth, height: this.#vision.frameHeight,
      top, suggestion, regions: out, proposals: reused ? 'reused' : 'detected',
      // Disjoint stages: decode (or frame copy), preprocess (model inputs: resize, normalise,
      // crops), detect (detector run + output decoding), embed (embedder runs), search.
      timings_ms: {
        decode: tFrame - t0, preprocess: prepDetect + prepEmbed,
        detect: t2 - t1 - prepDetect, embed: t3 - t2 - prepEmbed, embed_per_region: (t3 - t2 - prepEmbed) / regions.length,
        search: t4 - t3, total: t4 - t0,
      },
    };
  }

  async close() {
    await this.#vision.close();
    if (this.#ownsIndex) this.#index.close();
  }
}

/**
 * @param {{ index: Index | Uint8Array, models?: { embedder?: object|string, detector?: object|string|null },
 *           k?: number, maxRegions?: number, calibration?: object, numThreads?: number, onePass?: boolean }} options
 */
export async function createEngine(options = {}) {
  const ownsIndex = !(options.index instanceof Index);
  const index = ownsIndex ? await loadIndex(options.index, options) : options.index;
  try {
    const models = await resolveDefaultModels(options.models ?? {}, index.config()?.embedder, options.onePass);
    const vision = await createVision({ ...options, embedder: models.embedder, detector: models.detector });
    const want = index.config()?.embedder;
    const have = vision.embedderInfo;
    if (index.dim !== have.embeddingDim || !embedderServesIndex(models.embedder.manifest, want)) {
      await vision.close();
      throw new ShopframeError('invalid_argument',
        `index was built with embedder ${want?.name ?? '?'} (${want?.sha256?.slice(0, 12) ?? 'unknown'}, ${index.dim}-d); ` +
        `the engine has ${have.name} (${have.sha256.slice(0, 12)}, ${have.embeddingDim}-d)`);
    }
    return new Engine(vision, index, ownsIndex, options);
  } catch (e) {
    if (ownsIndex) index.close();
    throw e;
  }
}
