// Video: sampled frames -> per-frame matches -> tracks -> a timeline of suggestions, or none.
// Runs anywhere the engine runs; frames come from the caller (node: js/node/video_frames.mjs
// over ffmpeg; browsers: the player feeds VideoFrames).
//
//   const timeline = await analyzeVideo(engine, readVideoFrames('clip.mp4'), { keepFrames: false });
//   // { samples, suggestions: [{ id, title, kind, from, to, confidence, best: { t, box } }] }
import { initCore, throwCoreError, ShopframeError } from './core.mjs';
import { categoryMarginOf } from './decide.mjs';

// { category: threshold } of a calibration part's by_category entries that have `field`;
// null (JSON's Infinity) stays null: never for that category.
function byCategoryOf(part, field) {
  const out = {};
  for (const [category, entry] of Object.entries(part?.by_category ?? {})) {
    if (entry && Object.hasOwn(entry, field)) out[category] = Number.isFinite(entry[field]) ? entry[field] : null;
  }
  return out;
}

/**
 * Tracker options from the index calibration. The tracker averages fused scores over a
 * track, so its thresholds are on that score: the video calibration's (`calibration.video`,
 * from labeled video segments) when there is one, else the image calibration's score
 * thresholds (`item.score_threshold`, `category.threshold`). Per-category thresholds come
 * along by category name (`categoryItemThresholds`, `categoryThresholds`; createTracker turns
 * them into ordinals). An uncalibrated index never suggests. `overrides` replace whole
 * options (pass `categoryItemThresholds: {}` to drop the per-category ones).
 */
export function trackOptionsFrom(calibration, overrides = {}) {
  const video = calibration?.video;
  const [itemPart, itemField] = video?.item ? [video.item, 'threshold'] : [calibration?.item, 'score_threshold'];
  const categoryPart = video?.category ?? calibration?.category;
  const item = itemPart?.[itemField];
  const category = categoryPart?.threshold;
  // The clear-leader margin is on the fused score, as the tracker's means are; video
  // calibration does not choose one, so the image calibration's applies. (A stored null is
  // "never", not "absent".)
  const margin = categoryMarginOf(categoryPart && Object.hasOwn(categoryPart, 'margin') ? categoryPart : calibration?.category);
  return {
    itemThreshold: Number.isFinite(item) ? item : null,
    categoryThreshold: Number.isFinite(category) ? category : null,
    categoryMargin: Number.isFinite(margin) ? margin : null,
    categoryItemThresholds: byCategoryOf(itemPart, itemField),
    categoryThresholds: byCategoryOf(categoryPart, 'threshold'),
    ...overrides,
  };
}

// The ordinal of `key` in a (map: key -> ordinal, list: ordinal -> value) table, added when new.
function ordinalIn(map, list, key, value) {
  if (!map.has(key)) map.set(key, list.push(value) - 1);
  return map.get(key);
}

/**
 * A core Tracker with trackOptionsFrom()'s options. The tracker knows categories by ordinal:
 * the categories named in per-category thresholds get theirs here, in the caller's table
 * (`categories`: name -> ordinal, `categoryNames`: ordinal -> name), which the caller then
 * extends with the categories it meets.
 */
export function createTracker(core, options, categories = new Map(), categoryNames = []) {
  const { categoryItemThresholds = {}, categoryThresholds = {}, ...rest } = options;
  const ordinalOf = (name) => ordinalIn(categories, categoryNames, name, name);
  const pairs = (byName, option) => Object.entries(byName).map(([name, t]) => {
    if (t !== null && !(typeof t === 'number' && !Number.isNaN(t))) {
      throw new ShopframeError('invalid_argument', `track option ${option}[${JSON.stringify(name)}]: expected a number or null (never), got ${t}`);
    }
    return [ordinalOf(name), t];
  });
  return new core.Tracker({
    ...rest,
    categoryItemThresholds: pairs(categoryItemThresholds, 'categoryItemThresholds'),
    categoryThresholds: pairs(categoryThresholds, 'categoryThresholds'),
  });
}

// Item and category ordinal tables for the tracker, and the engine's regions in its terms.
class TrackTables {
  items = new Map(); itemMeta = [];           // id -> ordinal, ordinal -> match
  categories = new Map(); categoryNames = [];

  regions(engineRegions) {
    return engineRegions.map((g) => ({
      box: g.box,
      embedding: g.embedding,
      matches: g.matches.map((m) => ({
        item: ordinalIn(this.items, this.itemMeta, m.id, m),
        category: m.category ? ordinalIn(this.categories, this.categoryNames, m.category, m.category) : null,
        score: m.score,
      })),
    }));
  }
}

/**
 * When to run the detector on video samples: every `detectEvery`-th sample (1: every one) and
 * on every sample that starts a shot; in between the engine embeds the last run's boxes.
 */
export function proposalSchedule(detectEvery = 1) {
  if (!Number.isInteger(detectEvery) || detectEvery < 1 || detectEvery > 100) {
    throw new ShopframeError('invalid_argument', `detectEvery must be an integer in 1..100, got ${detectEvery}`);
  }
  let since = Infinity;  // samples since (and including) the last detector run
  return {
    reuse: (cut) => detectEvery > 1 && !cut && since < detectEvery,
    ran(result) { since = result.proposals === 'reused' ? since + 1 : 1; },
    reset() { since = Infinity; },
  };
}

/**
 * @param {import('./engine.mjs').Engine} engine
 * @param {AsyncIterable<{ t: number, width: number, height: number, rgba: Uint8Array, cut?: boolean }>} frames
 * @param {{ k?: number, keepFrames?: boolean, track?: object, detectEvery?: number, onSample?: (s: object) => void }} [options]
 *   detectEvery: run the detector on every n-th sample only (proposalSchedule; default 1)
 */
export async function analyzeVideo(engine, frames, options = {}) {
  const proposals = proposalSchedule(options.detectEvery);
  const core = await initCore(options);
  const tables = new TrackTables();
  const { itemMeta, categoryNames } = tables;
  const tracker = createTracker(core, trackOptionsFrom(engine.calibration, options.track), tables.categories, categoryNames);
  const kept = [];
  let samples = 0;
  try {
    for await (const f of frames) {
      const r = await engine.analyzeImage(f.rgba, f.width, f.height,
        { k: options.k ?? 10, embeddings: true, reuseProposals: proposals.reuse(!!f.cut) });
      proposals.ran(r);
      if (!tracker.addSample(f.t, !!f.cut, tables.regions(r.regions))) throwCoreError(tracker);
      ++samples;
      const sample = { t: f.t, cut: !!f.cut, proposals: r.proposals, top: r.top.slice(0, 3).map(({ id, score, title }) => ({ id, score, title })),
        regions: r.regions.map(({ box, kind, score, matches }) => ({ box, kind, score, matches: matches.slice(0, 3).map(({ id, score }) => ({ id, score })) })),
        timings_ms: r.timings_ms };
      if (options.keepFrames) kept.push(sample);
      options.onSample?.(sample);
    }
    const suggestions = tracker.finish().map((s) => {
      const best = { t: s.bestT, box: s.bestBox };
      if (s.kind === 'item') {
        const m = itemMeta[s.id];
        return { id: m.id, title: m.title, kind: 'item', from: s.from, to: s.to, confidence: s.confidence, samples: s.samples, best };
      }
      const name = categoryNames[s.id];
      return { id: name, title: `more like this: ${name.split('/').pop()}`, kind: 'category', from: s.from, to: s.to,
        confidence: s.confidence, samples: s.samples, best };
    });
    return { samples, suggestions, ...(options.keepFrames ? { frames: kept } : {}) };
  } finally {
    tracker.delete();
  }
}

// Tracker settings that let every track decide, to measure what it would decide on (never to
// show): items at any score (the runner-up margin and the minimum samples still apply), and,
// in a second tracker, categories at any score whenever the leading items agree on one (or
// the leader is clear by the calibrated margin).
const MEASURE_ITEMS = { itemThreshold: -Infinity, categoryThreshold: null, categoryItemThresholds: {}, categoryThresholds: {} };
const MEASURE_CATEGORIES = { itemThreshold: null, categoryThreshold: -Infinity, categoryItemThresholds: {}, categoryThresholds: {} };

// The highest confidence per id among tracker decisions of one kind.
function keepBest(best, decisions, kind) {
  for (const d of decisions) {
    if (d.kind === kind && !(best.get(d.id) >= d.confidence)) best.set(d.id, d.confidence);
  }
}

function argmax(best) {
  let top = null;
  for (const [id, confidence] of best) if (!top || confidence > top.confidence) top = { id, confidence };
  return top;
}

/**
 * What the tracker would decide on inside labeled segments of one video, for calibrating
 * its thresholds on video evidence. Every sample with from <= t < to feeds the segment's
 * own trackers (fresh at the segment start, so nothing carries over from a neighbour); after
 * each sample the open tracks' decisions are read (as the live analyzer reads them). A
 * segment's evidence is its most confident track decision over time: an item (the track's
 * mean fused score, with the usual margin and minimum samples) and, from a second tracker
 * that never suggests items, a category. At threshold t the segment would show an item iff
 * that confidence >= t, whether tracks are read live or at their end (their final decision
 * is the last one read), so a null segment counts as a false suggestion exactly then.
 *
 * @param {import('./engine.mjs').Engine} engine
 * @param {AsyncIterable<{ t: number, width: number, height: number, rgba: Uint8Array, cut?: boolean }>} frames
 * @param {{ from: number, to: number }[]} segments
 * @param {{ k?: number, track?: object }} [options] track: the association settings analyzeVideo would use
 * @returns {Promise<{ samples: number, item: { id, title, category, confidence } | null,
 *   category: { id: string, confidence: number } | null }[]>} one per segment, in order
 */
export async function segmentEvidence(engine, frames, segments, options = {}) {
  const core = await initCore(options);
  const tables = new TrackTables();
  const end = Math.max(...segments.map((s) => s.to));
  const states = segments.map((seg) => ({ seg, samples: 0, trackers: null, items: new Map(), categories: new Map() }));
  // Categories are measured as analysis finds them: by majority, or by the image
  // calibration's clear-leader margin.
  const { categoryMargin } = trackOptionsFrom(engine.calibration);
  const open = (st) => {
    st.trackers = [MEASURE_ITEMS, MEASURE_CATEGORIES].map((measure) =>
      createTracker(core, { categoryMargin, ...options.track, ...measure }, tables.categories, tables.categoryNames));
  };
  try {
    for await (const f of frames) {
      if (f.t >= end) break;  // stops the decoder
      const inside = states.filter((st) => f.t >= st.seg.from && f.t < st.seg.to);
      if (!inside.length) continue;
      const r = await engine.analyzeImage(f.rgba, f.width, f.height, { k: options.k ?? 10, embeddings: true });
      const regions = tables.regions(r.regions);
      for (const st of inside) {
        if (!st.trackers) open(st);
        const [items, categories] = st.trackers;
        if (!items.addSample(f.t, !!f.cut, regions)) throwCoreError(items);
        if (!categories.addSample(f.t, !!f.cut, regions)) throwCoreError(categories);
        keepBest(st.items, items.active(), 'item');
        keepBest(st.categories, categories.active(), 'category');
        ++st.samples;
      }
    }
  } finally {
    for (const st of states) for (const t of st.trackers ?? []) t.delete();
  }
  return states.map((st) => {
    const item = argmax(st.items), category = argmax(st.categories);
    const meta = item && tables.itemMeta[item.id];
    return {
      samples: st.samples,
      item: item && { id: meta.id, title: meta.title, category: meta.category ?? null, confidence: item.confidence },
      category: category && { id: tables.categoryNames[category.id], confidence: category.confidence },
    };
  });
}
