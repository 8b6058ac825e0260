#!/usr/bin/env node
// Timeline quality over generated test videos (tools/make-test-videos.mjs): runs the engine
// over every <name>.mp4 with its <name>.json ground truth and reports, as JSON:
//   item_precision      right item suggestions / item suggestions shown
//   item_recall         in-catalog segments whose product is suggested inside them (+-0.5 s)
//   distractor_false_rate  distractor segments in which an item suggestion starts (from the
//                       segment's first sample, which may be the scene cut into it, to 0.5 s
//                       before its end)
//   category_precision  category suggestions whose category is the segment's (or a parent)
//   category_coverage   segments covered by a right item or category suggestion
//   only_distractor_videos_with_item_suggestions
//   detector_runs, mean_ms_per_sample {detect, embed, total}   (--detect-every N skips the
//                       detector on samples in between; docs/video.md)
//   node tools/video-eval.mjs --catalog build/grocery/open.sfi [--videos build/videos] [--fps 2] [--detect-every 1]
//                             [--detector NAME]   (a models/NAME.json region proposer; default the engine's)
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { loadIndex } from '../js/shopframe.mjs';
import { createEngine } from '../js/engine.mjs';
import { analyzeVideo } from '../js/video.mjs';
import { readVideoFrames } from '../js/node/video_frames.mjs';

const { values } = parseArgs({ options: {
  catalog: { type: 'string' }, videos: { type: 'string', default: 'build/videos' }, fps: { type: 'string', default: '2' },
  'detect-every': { type: 'string', default: '1' }, detector: { type: 'string' },
} });
if (!values.catalog) {
  console.error('usage: node tools/video-eval.mjs --catalog INDEX.sfi [--videos DIR] [--fps 2] [--detect-every 1] [--detector NAME]');
  process.exit(2);
}
const TOL = 0.5;
const index = await loadIndex(new Uint8Array(await readFile(values.catalog)));
const engine = await createEngine({ index, models: values.detector ? { detector: values.detector } : {} });
const names = (await readdir(values.videos)).filter((f) => f.endsWith('.json')).sort();
const tally = { videos: 0, samples: 0, item_shown: 0, item_right: 0, in_catalog_segments: 0, found: 0,
  distractor_segments: 0, distractor_hit: 0, category_shown: 0, category_right: 0, covered: 0, segments: 0,
  distractor_videos: 0, distractor_videos_with_items: 0, seconds: 0 };
const stage = { detect: 0, embed: 0, total: 0, detector_runs: 0 };  // summed over samples
const inside = (t, seg) => t >= seg.from - TOL && t <= seg.to + TOL;
const started = performance.now();
for (const name of names) {
  const truth = JSON.parse(await readFile(join(values.videos, name), 'utf8'));
  const video = join(values.videos, name.replace(/\.json$/, '.mp4'));
  const r = await analyzeVideo(engine, readVideoFrames(video, { fps: Number(values.fps) }), {
    detectEvery: Number(values['detect-every']),
    onSample: (s) => {
      for (const k of ['detect', 'embed', 'total']) stage[k] += s.timings_ms[k];
      if (s.proposals === 'detected') ++stage.detector_runs;
    },
  });
  tally.videos++, tally.samples += r.samples, tally.seconds += truth.duration;
  const items = r.suggestions.filter((s) => s.kind === 'item');
  const cats = r.suggestions.filter((s) => s.kind === 'category');
  for (const s of items) {
    tally.item_shown++;
    const seg = truth.segments.find((g) => g.from - TOL <= s.from && s.from <= g.to + TOL && g.expected === s.id);
    if (seg) tally.item_right++;
  }
  for (const s of cats) {
    tally.category_shown++;
    const seg = truth.segments.find((g) => inside(s.from, g) && (g.category === s.id || g.category.startsWith(`${s.id}/`)));
    if (seg) tally.category_right++;
  }
  for (const g of truth.segments) {
    tally.segments++;
    const overlapping = (s) => s.from <= g.to + TOL && s.to >= g.from - TOL;
    if (g.expected) {
      tally.in_catalog_segments++;
      if (items.some((s) => s.id === g.expected && overlapping(s))) tally.found++;
    } else {
      tally.distractor_segments++;
      if (items.some((s) => s.from >= g.from && s.from < g.to - TOL)) tally.distractor_hit++;
    }
    const rightItem = items.some((s) => s.id === g.expected && overlapping(s));
    const rightCat = cats.some((s) => overlapping(s) && (g.category === s.id || g.category.startsWith(`${s.id}/`)));
    if (rightItem || rightCat) tally.covered++;
  }
  if (truth.segments.every((g) => !g.expected)) {
    tally.distractor_videos++;
    if (items.length) tally.distractor_videos_with_items++;
  }
  const shown = items.map((s) => ` ${s.id} ${s.from.toFixed(2)}-${s.to.toFixed(2)} s`).join(',');
  console.error(`${name}: ${items.length} item${shown ? ` (${shown.trim()})` : ''}, ${cats.length} category suggestion(s)`);
}
await engine.close();
const ratio = (a, b) => (b ? +(a / b).toFixed(4) : null);
console.log(JSON.stringify({
  catalog: values.catalog, videos: tally.videos, video_seconds: +tally.seconds.toFixed(1), samples: tally.samples,
  item_precision: ratio(tally.item_right, tally.item_shown), item_suggestions: tally.item_shown,
  item_recall: ratio(tally.found, tally.in_catalog_segments), in_catalog_segments: tally.in_catalog_segments,
  distractor_false_rate: ratio(tally.distractor_hit, tally.distractor_segments), distractor_segments: tally.distractor_segments,
  category_precision: ratio(tally.category_right, tally.category_shown), category_suggestions: tally.category_shown,
  segment_coverage_item_or_category: ratio(tally.covered, tally.segments),
  only_distractor_videos: tally.distractor_videos, only_distractor_videos_with_item_suggestions: tally.distractor_videos_with_items,
  detector_runs: stage.detector_runs,
  mean_ms_per_sample: Object.fromEntries(['detect', 'embed', 'total'].map((k) => [k, +(stage[k] / (tally.samples || 1)).toFixed(1)])),
  wall_s: +((performance.now() - started) / 1000).toFixed(1),
}, null, 2));
