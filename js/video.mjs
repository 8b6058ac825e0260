// Video: sampled frames -> per-frame matches -> tracks -> a timeline of suggestions, or none.
// Runs anywhere the engine runs; frames come from the caller (node: js/node/video_frames.mjs
// over ffmpeg; browsers: the player feeds VideoFrames).
//
//   const timeline = await analyzeVideo(engine, readVideoFrames('clip.mp4'), { keepFrames: false });
//   // { samples, suggestions: [{ id, title, kind, from, to, confidence, best: { t, box } }] }
import { initCore, throwCoreError } from './core.mjs';

/**
 * Tracker options from the index calibration: the item threshold on the fused score (the
 * tracker averages scores over a track) and the category threshold; an uncalibrated index
 * never suggests.
 */
export function trackOptionsFrom(calibration, overrides = {}) {
  const item = calibration?.item?.score_threshold;
  const category = calibration?.category?.threshold;
  return {
    itemThreshold: Number.isFinite(item) ? item : null,
    categoryThreshold: Number.isFinite(category) ? category : null,
    ...overrides,
  };
}

/**
 * @param {import('./engine.mjs').Engine} engine
 * @param {AsyncIterable<{ t: number, width: number, height: number, rgba: Uint8Array, cut?: boolean }>} frames
 * @param {{ k?: number, keepFrames?: boolean, track?: object, onSample?: (s: object) => void }} [options]
 */
export async function analyzeVideo(engine, frames, options = {}) {
  const core = await initCore(options);
  const tracker = new core.Tracker(trackOptionsFrom(engine.calibration, options.track));
  const items = new Map(), itemMeta = [];       // id -> ordinal, ordinal -> match
  const categories = new Map(), categoryNames = [];
  const ordinal = (map, list, key, value) => {
    if (!map.has(key)) map.set(key, list.push(value) - 1);
    return map.get(key);
  };
  const kept = [];
  let samples = 0;
  try {
    for await (const f of frames) {
      const r = await engine.analyzeImage(f.rgba, f.width, f.height, { k: options.k ?? 10, embeddings: true });
      const regions = r.regions.map((g) => ({
        box: g.box,
        embedding: g.embedding,
        matches: g.matches.map((m) => ({
          item: ordinal(items, itemMeta, m.id, m),
          category: m.category ? ordinal(categories, categoryNames, m.category, m.category) : null,
          score: m.score,
        })),
      }));
      if (!tracker.addSample(f.t, !!f.cut, regions)) throwCoreError(tracker);
      ++samples;
      const sample = { t: f.t, cut: !!f.cut, top: r.top.slice(0, 3).map(({ id, score, title }) => ({ id, score, title })),
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
