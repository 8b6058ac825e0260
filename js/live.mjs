// Live video analysis: frames arrive one at a time while a video plays, and suggestions come
// out as soon as a track is confident, then grow their time range while it stays on screen.
// The batch counterpart (whole video, merged timeline) is js/video.mjs; both share the tracker
// and its calibrated thresholds. Runs wherever the engine runs (the browser SDK runs it in a
// Web Worker).
//
//   const live = await createLiveAnalyzer(engine);
//   const { events, timings_ms } = await live.addFrame(t, width, height, (view) => view.set(rgba));
//   // events: suggestions that are new or changed, { key, kind, id, title, from, to, ... }
//   live.seek();      // playback jumped: end every track (times restart from the new position)
//   live.close();
import { initCore, throwCoreError, ShopframeError } from './core.mjs';
import { createTracker, proposalSchedule, trackOptionsFrom } from './video.mjs';

/** Items shown in a suggestion's panel. */
export const SIMILAR_ITEMS = 6;
/**
 * Seconds: a track deciding what an earlier one (same epoch) decided, starting at most this long
 * after it ended, continues that suggestion. The whole frame, its centre crop and a detection
 * of one product form separate tracks; viewers should see one suggestion.
 */
export const MERGE_GAP = 1.0;

/**
 * Shot-cut detection between samples: a 64-bin colour histogram (2 bits per channel, every 4th
 * pixel each way) and half its L1 distance, 0..1. On the sample videos consecutive samples of one
 * shot (pans and zooms) measured 0.01-0.03 and hard cuts 0.15-0.87, so 0.1 splits them. Tracks
 * must end at cuts: the whole-frame region would otherwise carry one product's track into the
 * next shot. (In node, ffmpeg's scene score marks cuts; see js/node/video_frames.mjs.)
 */
export const CUT_DISTANCE = 0.1;

export function colourSignature(rgba, width, height) {
  const hist = new Float32Array(64);
  let n = 0;
  for (let y = 0; y < height; y += 4) {
    for (let x = 0, i = y * width * 4; x < width; x += 4, i += 16) {
      hist[((rgba[i] >> 6) << 4) | ((rgba[i + 1] >> 6) << 2) | (rgba[i + 2] >> 6)] += 1;
      ++n;
    }
  }
  for (let b = 0; b < 64; ++b) hist[b] /= n || 1;
  return hist;
}

export function signatureDistance(a, b) {
  let d = 0;
  for (let i = 0; i < 64; ++i) d += Math.abs(a[i] - b[i]);
  return d / 2;
}

const publicHit = ({ id, title, category, price, currency, url, image, score }) =>
  ({ id, title, category, price: Number.isFinite(price) ? price : null, currency: currency ?? '', url: url ?? '', image: image ?? '', score });

const publicSuggestion = ({ epoch, fresh, query, ...s }) => ({ ...s, similar: s.similar.slice() });  // eslint-disable-line no-unused-vars

export class LiveAnalyzer {
  #engine; #tracker; #k; #proposals;
  #items = new Map(); #itemMeta = [];         // id -> ordinal, ordinal -> hit (metadata)
  #categories = new Map(); #categoryNames = [];
  #open = new Map();                          // track id -> suggestion (as last emitted)
  #all = [];                                  // every suggestion emitted, by key order of creation
  #lastT = -Infinity; #epoch = 0; #lastSignature = null;

  constructor(core, engine, options) {
    this.#engine = engine;
    this.#k = options.k ?? 10;
    this.#proposals = proposalSchedule(options.detectEvery);
    this.#tracker = createTracker(core, trackOptionsFrom(engine.calibration, options.track), this.#categories, this.#categoryNames);
  }

  /** Every suggestion so far (latest state of each), in order of first appearance. */
  get suggestions() { return this.#all.map(publicSuggestion); }

  #ordinal(map, list, key, value) {
    if (!map.has(key)) map.set(key, list.push(value) - 1);
    return map.get(key);
  }

  /**
   * Analyses one frame at time t (seconds, non-decreasing until seek()). `fill(view)` writes
   * width x height RGBA into the engine's frame (or pass rgba bytes instead of a function).
   * Returns { events, cut, result } where result is the engine's AnalyzeResult; cut says the
   * sample started a new shot (options.cut, time going back, or a colour change: CUT_DISTANCE).
   */
  async addFrame(t, width, height, fill, options = {}) {
    if (!Number.isFinite(t)) throw new ShopframeError('invalid_argument', `frame time must be finite, got ${t}`);
    if (typeof fill !== 'function' && fill?.length !== width * height * 4) {
      throw new ShopframeError('invalid_argument', `frame at ${t} s: expected ${width * height * 4} RGBA bytes for ${width}x${height}, got ${fill?.length}`);
    }
    const fillFn = typeof fill === 'function' ? fill : (view) => view.set(fill);
    let signature;
    const cutAt = () => !!options.cut || t < this.#lastT ||
      (this.#lastSignature !== null && signatureDistance(this.#lastSignature, signature) > CUT_DISTANCE);
    const r = await this.#engine.analyzeFilled(width, height, async (view) => {
      await fillFn(view);
      signature = colourSignature(view, width, height);
    }, { k: this.#k, embeddings: true, reuseProposals: () => this.#proposals.reuse(cutAt()) });
    this.#proposals.ran(r);
    const cut = cutAt();
    this.#lastSignature = signature;
    const regions = r.regions.map((g) => ({
      box: g.box,
      embedding: g.embedding,
      matches: g.matches.map((m) => ({
        item: this.#ordinal(this.#items, this.#itemMeta, m.id, m),
        category: m.category ? this.#ordinal(this.#categories, this.#categoryNames, m.category, m.category) : null,
        score: m.score,
      })),
    }));
    if (cut) this.#endTracks();
    if (!this.#tracker.addSample(t, cut, regions)) throwCoreError(this.#tracker);
    this.#lastT = t;
    const events = this.#update(r.top, r.regions);
    for (const g of r.regions) delete g.embedding;  // callers get boxes and matches, not 1280 floats each
    return { events, cut, result: r };
  }

  /** Playback jumped (seek or loop): every track ends here; later times may be earlier. */
  seek() {
    this.#endTracks();
    this.#proposals.reset();
    this.#lastT = -Infinity;
    this.#lastSignature = null;
  }

  #endTracks() {
    this.#tracker.finish();  // resets the tracker; what it decided was emitted live already
    this.#open.clear();
    ++this.#epoch;
  }

  // The tracker's live decisions -> new or changed suggestions.
  #update(top, regions) {
    const changed = new Set();
    for (const d of this.#tracker.active()) {
      const id = d.kind === 'item' ? this.#itemMeta[d.id].id : this.#categoryNames[d.id];
      let s = this.#open.get(d.track);
      if (!s || s.kind !== d.kind || s.id !== id) {
        s = this.#all.find((o) => o.epoch === this.#epoch && o.kind === d.kind && o.id === id && d.from <= o.to + MERGE_GAP);
        // "More like this: Fruit" adds nothing while the item itself (a Banana) is suggested.
        if (!s && d.kind === 'category' && this.#all.some((o) => o.epoch === this.#epoch && o.kind === 'item' &&
            d.from <= o.to + MERGE_GAP && (o.similar[0]?.category === id || o.similar[0]?.category?.startsWith(`${id}/`)))) continue;
        if (!s) {
          s = this.#create(d, id, top, regions);
          this.#all.push(s);
        }
        this.#open.set(d.track, s);
      } else if (s.to >= d.to && s.confidence >= d.confidence) {
        continue;
      }
      const before = `${s.from} ${s.to} ${s.confidence}`;
      s.from = Math.min(s.from, d.from);
      s.to = Math.max(s.to, d.to);
      s.confidence = Math.max(s.confidence, d.confidence);  // the best-supported of its tracks
      if (`${s.from} ${s.to} ${s.confidence}` === before && !s.fresh) continue;
      s.fresh = false;
      s.samples = Math.max(s.samples, d.samples);
      if (d.bestScore >= s.bestScore) Object.assign(s, { bestScore: d.bestScore, t: d.bestT, box: d.bestBox });
      changed.add(s);
    }
    return [...changed].map(publicSuggestion);
  }

  #create(d, id, top, regions) {
    const key = `${this.#epoch}:${d.track}:${d.kind}:${id}`;  // first track: unique within the session
    let similar;
    if (d.kind === 'item') {
      const self = this.#itemMeta[d.id];
      similar = [self, ...top.filter((h) => h.id !== id && h.category === self.category)];
    } else {
      similar = top.filter((h) => h.category === id || h.category?.startsWith(`${id}/`));
    }
    const title = d.kind === 'item' ? this.#itemMeta[d.id].title : `Similar: ${id.split('/').pop()}`;
    // What a larger catalog elsewhere (the edge worker's /v1/match) would be asked for more
    // items like this: the embedding of the region that matched it best, and its category.
    const category = d.kind === 'item' ? this.#itemMeta[d.id].category : id;
    const inCategory = (m) => (d.kind === 'item' ? m.id === id : m.category === id || m.category?.startsWith(`${id}/`));
    let best = null, bestScore = -Infinity;
    for (const g of regions) {
      const m = g.matches.find(inCategory);
      if (m && m.score > bestScore && g.embedding) [best, bestScore] = [g.embedding, m.score];
    }
    return {
      epoch: this.#epoch, fresh: true, query: best ? { embedding: Float32Array.from(best), category: category ?? '' } : null,
      key, kind: d.kind, id, title, from: d.from, to: d.to, confidence: d.confidence, samples: d.samples,
      bestScore: d.bestScore, t: d.bestT, box: d.bestBox,
      similar: similar.slice(0, SIMILAR_ITEMS).map(publicHit),
    };
  }

  /**
   * For suggestion `key`: { embedding (raw model features of its best region), category }, to
   * ask a larger catalog for more similar items; null when unknown.
   */
  queryFor(key) {
    return this.#all.find((s) => s.key === key)?.query ?? null;
  }

  close() {
    this.#tracker?.delete();
    this.#tracker = null;
  }
}

/**
 * @param {import('./engine.mjs').Engine} engine
 * @param {{ k?: number, track?: object, wasmModule?: WebAssembly.Module, wasmUrl?: string }} [options]
 */
export async function createLiveAnalyzer(engine, options = {}) {
  const core = await initCore(options);
  return new LiveAnalyzer(core, engine, options);
}
