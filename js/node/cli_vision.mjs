// `shopframe analyze` and `shopframe eval`: one engine, many images.
import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { ShopframeError } from '../errors.mjs';
import { createEngine } from '../engine.mjs';
import { calibrate, calibrateByCategory, calibrateCategoryMargin, categoryMinimums, confidenceModel, evaluate, precisionCoverageCurve } from '../eval/metrics.mjs';
import { categoryThreshold, leadingCategory } from '../decide.mjs';
import { renderReport } from '../eval/report.mjs';
import { writeFileAtomic } from './atomic_write.mjs';
import { analyzeVideo, segmentEvidence } from '../video.mjs';
import { probeVideo, readVideoFrames } from './video_frames.mjs';
import { progressBar } from './progress.mjs';

async function readImage(path) {
  try {
    return await readFile(path);
  } catch (e) {
    throw new ShopframeError('io_error', `image ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
}

// --threads: ONNX Runtime Web's wasm threads for the models. Default: the machine's cores, at
// most 4 (ORT's own cap). Results do not depend on it (tests/js/cli_vision.test.mjs); on 2
// cores 2 threads took 0.66x the wall time of 1 for a video (docs/benchmarks.md).
function defaultThreads() {
  return Math.max(1, Math.min(4, availableParallelism()));
}

export function threadsOf(values, UsageError) {
  if (values.threads === undefined || values.threads === 'auto') return defaultThreads();
  const n = Number(values.threads);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--threads must be 'auto' or an integer in 1..64, got ${values.threads}`);
  return n;
}

async function openEngine(values, openIndex, UsageError) {
  const numThreads = threadsOf(values, UsageError);
  const index = await openIndex(values.catalog);
  try {
    const models = {};
    if (values['no-detector']) models.detector = null;
    else if (values.detector) models.detector = values.detector;  // NAME or MANIFEST.json
    if (values.embedder) models.embedder = values.embedder;  // else the index's own, when known
    // --no-one-pass: one embedder pass per cropped region instead of one per frame (js/engine.mjs).
    return await createEngine({ index, models, k: Number(values.k ?? 5), numThreads, onePass: !values['no-one-pass'] });
  } catch (e) {
    index.close();
    throw e;
  }
}

const round = (x, digits = 4) => (typeof x === 'number' && Number.isFinite(x) ? +x.toFixed(digits) : x);

function imageRecord(source, r) {
  const brief = (m) => ({ id: m.id, score: round(m.score), title: m.title });
  return {
    source, width: r.width, height: r.height,
    top: r.top.map(brief),
    suggestion: r.suggestion && { id: r.suggestion.id, kind: r.suggestion.kind, confidence: round(r.suggestion.confidence) },
    regions: r.regions.map((g) => ({
      box: g.box.map((v) => round(v, 1)), score: round(g.score), kind: g.kind, label: g.label,
      matches: g.matches.map(brief), suggest: g.suggest && { id: g.suggest.id, kind: g.suggest.kind, confidence: round(g.suggest.confidence) },
    })),
    timings_ms: Object.fromEntries(Object.entries(r.timings_ms).map(([k, v]) => [k, round(v, 2)])),
  };
}

const VIDEO_EXTENSIONS = /\.(mp4|m4v|mov|webm|mkv|avi|mpe?g|ogv|ts)$/i;

function formatTime(t) {
  const m = Math.floor(t / 60);
  return `${m}:${(t - 60 * m).toFixed(1).padStart(4, '0')}`;
}

async function analyzeOneVideo(engine, path, values) {
  const fps = Number(values.fps);
  const info = await probeVideo(path);
  const r = await analyzeVideo(engine, readVideoFrames(path, { fps, probe: info }),
    { keepFrames: values.frames, detectEvery: Number(values['detect-every']) });
  const out = {
    source: path, duration: round(info.duration, 3), samples: r.samples,
    suggestions: r.suggestions.map((s) => ({ id: s.id, title: s.title, kind: s.kind, from: round(s.from, 2), to: round(s.to, 2),
      confidence: round(s.confidence), best: { t: round(s.best.t, 2), box: s.best.box.map((v) => round(v, 1)) } })),
    ...(values.frames ? { frames: r.frames } : {}),
  };
  if (values.json) {
    console.log(JSON.stringify(out));
    return;
  }
  console.log(`${path} (${formatTime(info.duration)}, ${r.samples} samples at ${fps} fps + scene cuts): ` +
    `${out.suggestions.length ? `${out.suggestions.length} suggestion(s)` : 'no suggestions'}`);
  for (const s of out.suggestions) {
    console.log(`  ${formatTime(s.from)}-${formatTime(s.to)}  ${s.kind === 'item' ? s.id : `[category] ${s.id}`}  ${s.title}  (confidence ${s.confidence})`);
  }
}

export async function analyzeCommand(argv, { parse, openIndex, UsageError }) {
  const { values, positionals } = parse(argv, {
    catalog: { type: 'string' },
    k: { type: 'string', short: 'k', default: '5' },
    json: { type: 'boolean', default: false },
    'no-detector': { type: 'boolean', default: false },
    'no-one-pass': { type: 'boolean', default: false },
    detector: { type: 'string' },
    embedder: { type: 'string' },
    fps: { type: 'string', default: '2' },
    frames: { type: 'boolean', default: false },
    threads: { type: 'string' },
    'detect-every': { type: 'string', default: '1' },
  });
  const fps = Number(values.fps);
  if (!(fps > 0 && fps <= 30)) throw new UsageError(`--fps must be a number in (0, 30], got ${values.fps}`);
  const detectEvery = Number(values['detect-every']);
  if (!Number.isInteger(detectEvery) || detectEvery < 1 || detectEvery > 100) {
    throw new UsageError(`--detect-every must be an integer in 1..100, got ${values['detect-every']}`);
  }
  if (!positionals.length || !values.catalog) throw new UsageError('analyze needs IMAGE... and --catalog INDEX.sfi');
  const k = Number(values.k);
  if (!Number.isInteger(k) || k < 1 || k > 100) throw new UsageError(`-k must be an integer in 1..100, got ${values.k}`);
  const engine = await openEngine(values, openIndex, UsageError);
  let failed = 0;
  try {
    if (!values.json && !engine.calibrated) console.log('note: this index has no calibration, so nothing will be suggested');
    for (const path of positionals) {
      let r;
      try {
        if (VIDEO_EXTENSIONS.test(path)) {
          await analyzeOneVideo(engine, path, values);
          continue;
        }
        r = await engine.analyzeEncoded(await readImage(path), { source: path, k });
      } catch (e) {
        if (!(e instanceof ShopframeError)) throw e;
        ++failed;
        if (values.json) console.log(JSON.stringify({ source: path, error: { code: e.code, message: e.message } }));
        else console.log(`${path}: error (${e.code}): ${e.message}`);
        continue;
      }
      const rec = imageRecord(path, r);
      if (values.json) {
        console.log(JSON.stringify(rec));
        continue;
      }
      const s = rec.suggestion;
      console.log(`${path} (${rec.width}x${rec.height}): ${s ? `suggest ${s.kind} ${s.id} (confidence ${s.confidence})` : 'no suggestion'}`);
      rec.top.forEach((m, i) => console.log(`  ${i + 1}. ${m.score.toFixed(3)}  ${m.id}  ${m.title}`));
      console.log(`  ${rec.regions.length} regions; ${Object.entries(rec.timings_ms).map(([k2, v]) => `${k2} ${v} ms`).join(', ')}`);
    }
  } finally {
    await engine.close();
  }
  if (failed) process.exitCode = 1;
}

// One labeled line: an image, or a video segment, with the expected product (null: not in the catalog).
function labeledQuery(q, where, dir, videos) {
  const bad = (field, what) => new ShopframeError('parse_error', `${where}: field '${field}': ${what}`);
  if (q === null || typeof q !== 'object' || Array.isArray(q)) throw new ShopframeError('parse_error', `${where}: expected a JSON object`);
  if (q.expected !== null && typeof q.expected !== 'string') throw bad('expected', 'expected a product id or null');
  if (q.category !== undefined && q.category !== null && typeof q.category !== 'string') throw bad('category', 'expected a category path or null');
  const common = { expected: q.expected, expectedCategory: q.category ?? null };
  if (q.video !== undefined) {
    if (!videos) throw bad('video', 'video segments are only read by `shopframe calibrate` (evaluate videos with tools/video-eval.mjs)');
    if (typeof q.video !== 'string' || !q.video) throw bad('video', 'expected a non-empty string');
    if (!(typeof q.from === 'number' && Number.isFinite(q.from) && q.from >= 0)) throw bad('from', 'expected seconds >= 0');
    if (!(typeof q.to === 'number' && Number.isFinite(q.to) && q.to > q.from)) throw bad('to', `expected seconds > from (${q.from})`);
    return { video: resolve(dir, q.video), shown: q.video, from: q.from, to: q.to, ...common };
  }
  if (typeof q.image !== 'string' || !q.image) throw bad('image', `expected a non-empty string${videos ? ' (or a "video" segment)' : ''}`);
  return { image: resolve(dir, q.image), shown: q.image, ...common };
}

export async function readLabeled(path, { videos = false } = {}) {
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ShopframeError('io_error', `labeled queries ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  const out = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let q;
    try {
      q = JSON.parse(line);
    } catch (e) {
      throw new ShopframeError('parse_error', `${path}:${i + 1}: ${e.message}`);
    }
    out.push(labeledQuery(q, `${path}:${i + 1}`, dirname(path), videos));
  });
  return out;
}

async function collectRecords(engine, queries) {
  const records = [];
  const bar = progressBar(process.stderr);
  try {
    for (const [i, q] of queries.entries()) {
      const r = await engine.analyzeEncoded(await readImage(q.image), { source: q.shown });
      const score1 = r.top[0]?.score ?? -1, score2 = r.top[1]?.score ?? -1;
      records.push({
        image: q.shown, expected: q.expected, expectedCategory: q.expectedCategory, top: r.top,
        suggestion: r.suggestion && { ...r.suggestion, category: r.suggestion.kind === 'item' ? r.top[0]?.category : r.suggestion.id },
        features: { score1, score2, margin: score1 - score2 },
        timings_ms: { preprocess_and_decode: r.timings_ms.decode, detect: r.timings_ms.detect, embed: r.timings_ms.embed,
          embed_per_region: r.timings_ms.embed_per_region, search: r.timings_ms.search, total: r.timings_ms.total },
      });
      bar.update('analyze', i + 1, queries.length);
    }
  } finally {
    bar.done();
  }
  return records;
}

function evalOptions() {
  return {
    catalog: { type: 'string' },
    labeled: { type: 'string' },
    report: { type: 'string' },
    records: { type: 'string' },
    'no-detector': { type: 'boolean', default: false },
    'no-one-pass': { type: 'boolean', default: false },
    detector: { type: 'string' },
    embedder: { type: 'string' },
    'max-false-rate': { type: 'string', default: '0.02' },
    threads: { type: 'string' },
  };
}

function maxFalseRateOf(values, UsageError) {
  const r = Number(values['max-false-rate']);
  if (!(r >= 0 && r <= 1)) throw new UsageError(`--max-false-rate must be in [0, 1], got ${values['max-false-rate']}`);
  return r;
}

export async function evalCommand(argv, { parse, openIndex, UsageError }) {
  const { values } = parse(argv, evalOptions());
  if (!values.catalog || !values.labeled) throw new UsageError('eval needs --catalog INDEX.sfi and --labeled QUERIES.jsonl');
  const maxFalseRate = maxFalseRateOf(values, UsageError);
  const queries = await readLabeled(values.labeled);
  const engine = await openEngine(values, openIndex, UsageError);
  let records;
  try {
    records = await collectRecords(engine, queries);
  } finally {
    await engine.close();
  }
  const metrics = evaluate(records);
  // The oracle operating point on these very queries (what the best threshold would have
  // given), next to what the index's own calibration gave (`metrics`).
  const oracle = calibrate(records, { maxFalseRate });
  const curve = precisionCoverageCurve(records);
  const out = { ...metrics, engine_calibrated: engine.calibrated, oracle_at_max_false_rate: { max_false_rate: maxFalseRate, ...oracle } };
  console.log(JSON.stringify(out, null, 2));
  if (values.report) {
    const html = renderReport({
      title: `shopframe eval: ${values.labeled} against ${values.catalog}`, metrics, curve, calibration: oracle, records,
      notes: [`Confidence on the plot: top-1 fused score. Operating point: best threshold on these queries at <= ${maxFalseRate} false suggestions (an oracle; the index's own calibration gave the metrics table).`],
    });
    await writeFileAtomic(values.report, html);
    console.error(`report: ${values.report}`);
  }
  if (values.records) {
    // One line per query, in input order: what each query got, for analyses the summary
    // metrics cannot answer (which products cause the false suggestions, per-query scores).
    const lines = records.map(({ image, expected, expectedCategory, top, suggestion, features }) =>
      JSON.stringify({ image, expected, category: expectedCategory ?? null, top, suggestion: suggestion ?? null, features }));
    await writeFileAtomic(values.records, lines.map((l) => `${l}\n`).join(''));  // no queries: an empty file
    console.error(`records: ${values.records}`);
  }
}

// Per-category part of a calibration: what the engine reads (by_category) and the table
// that says, per category, how much data there was and what the threshold gives.
function perCategoryTable(c) {
  return { min_in_catalog: c.min_in_catalog, min_out_of_catalog: c.min_out_of_catalog, global_only: c.global_only,
    dropped: c.dropped, categories: c.categories };
}

const holdoutOf = (c) => ({ coverage: c.coverage, precision: c.precision, false_suggestion_rate: c.false_suggestion_rate });

// A calibrateByCategory result as stored in CONF (null stays null): global and per-category thresholds.
const thresholdPart = (c) => c && { threshold: c.threshold, holdout: holdoutOf(c),
  by_category: Object.fromEntries(Object.entries(c.by_category).map(([k, e]) => [k,
    { threshold: e.threshold, in_catalog: e.in_catalog, out_of_catalog: e.out_of_catalog, holdout: holdoutOf(e) }])),
  per_category: perCategoryTable(c) };

// Category-suggestion records: the candidate is the category the leading matches agree on.
const categoryRecordsOf = (records, leading) => records.map((r) => ({
  expected: r.expectedCategory ?? null, features: r.features, top: [{ id: leading(r) }],
}));

// Category thresholds need queries of both kinds: ones whose "category" is in the catalog, and
// `null` ones (a category the catalog lacks), or the false-suggestion rate is not measured and
// any threshold would pass. Without them the category part stays as it was.
const measurable = (records) => records.some((r) => r.expected !== null) && records.some((r) => r.expected === null);

/** Image thresholds: the logistic confidence (image decisions) and the fused score, per category where there is enough data. */
function calibrateImages(records, { maxFalseRate, minimums, source }) {
  const byCandidate = { maxFalseRate, ...minimums };
  const model = confidenceModel(records);
  const item = calibrateByCategory(records, { ...byCandidate, confidenceOf: (r) => model.predict(r.features) });
  const score = calibrateByCategory(records, { ...byCandidate, confidenceOf: (r) => r.features.score1 });
  const byCategory = thresholdPart(item).by_category;
  for (const [c, e] of Object.entries(score.by_category)) {
    byCategory[c] = { ...(byCategory[c] ?? { in_catalog: e.in_catalog, out_of_catalog: e.out_of_catalog }), score_threshold: e.threshold };
  }
  const categoryRecords = categoryRecordsOf(records, (r) => leadingCategory(r.top));
  const category = measurable(categoryRecords)
    ? calibrateByCategory(categoryRecords, { ...byCandidate, confidenceOf: (r) => r.features.score1, categoryOf: (r) => r.top[0].id })
    : null;
  const nulls = records.filter((r) => r.expected === null).length;
  const itemPart = { threshold: item.threshold, by_category: byCategory };
  const categoryPart = thresholdPart(category);
  // The clear-leader margin, on the queries that would reach it (no item shown, the leader
  // over its category threshold); measured like the thresholds, so only with categories.
  const clearLeader = category && calibrateCategoryMargin(records, {
    maxFalseRate,
    eligible: (r) => model.predict(r.features) < categoryThreshold(itemPart, r.top[0]?.category, 'threshold', item.threshold) &&
      r.features.score1 >= categoryThreshold(categoryPart, r.top[0]?.category, 'threshold', category.threshold),
  });
  return {
    model,
    item,
    calibration: {
      maxFalseRate, source, queries: records.length, in_catalog: records.length - nulls, out_of_catalog: nulls,
      item: { threshold: item.threshold, score_threshold: score.threshold,
        model: { features: model.features, weights: model.weights, bias: model.bias },
        holdout: holdoutOf(item), by_category: byCategory, per_category: perCategoryTable(item) },
      category: categoryPart && { ...categoryPart, margin: clearLeader.margin,
        holdout: { ...categoryPart.holdout, clear_leader: { eligible: clearLeader.eligible, shown: clearLeader.shown, right: clearLeader.right } } },
    },
  };
}

/**
 * Video segments -> one record per segment from the tracker's decisions (js/video.mjs
 * segmentEvidence): each video is decoded once, its segments tracked separately.
 */
async function collectVideoRecords(engine, segments, fps) {
  const byVideo = new Map();
  for (const q of segments) {
    if (!byVideo.has(q.video)) byVideo.set(q.video, []);
    byVideo.get(q.video).push(q);
  }
  const records = [];
  const bar = progressBar(process.stderr);
  let done = 0;
  try {
    for (const [path, qs] of byVideo) {
      const probe = await probeVideo(path);
      const evidence = await segmentEvidence(engine, readVideoFrames(path, { fps, probe }), qs);
      qs.forEach((q, i) => {
        const e = evidence[i];
        if (e.samples === 0) throw new ShopframeError('invalid_argument', `video ${q.shown}: no samples in segment ${q.from}..${q.to} s (the video lasts ${probe.duration} s)`);
        records.push({
          video: q.shown, from: q.from, to: q.to, samples: e.samples, expected: q.expected, expectedCategory: q.expectedCategory,
          top: e.item ? [{ id: e.item.id, title: e.item.title, category: e.item.category, score: e.item.confidence }] : [],
          features: { score1: e.item?.confidence ?? NaN },
          category: e.category,
        });
      });
      bar.update('videos', (done += qs.length), segments.length);
    }
  } finally {
    bar.done();
  }
  return records;
}

/** Tracker thresholds from video-segment records: the track's mean fused score, per category where there is enough data. */
function calibrateVideo(records, { maxFalseRate, minimums, source, fps }) {
  const opts = { maxFalseRate, ...minimums, confidenceOf: (r) => r.features.score1 };
  const item = calibrateByCategory(records, opts);
  const categoryRecords = records.map((r) => ({
    expected: r.expectedCategory ?? null, features: { score1: r.category?.confidence ?? NaN }, top: [{ id: r.category?.id ?? null }],
  }));
  const category = measurable(categoryRecords) ? calibrateByCategory(categoryRecords, { ...opts, categoryOf: (r) => r.top[0].id }) : null;
  const nulls = records.filter((r) => r.expected === null).length;
  return {
    item,
    calibration: { maxFalseRate, source, fps, segments: records.length, in_catalog: records.length - nulls, out_of_catalog: nulls,
      samples: records.reduce((a, r) => a + r.samples, 0), item: thresholdPart(item), category: thresholdPart(category) },
  };
}

// Video records with the item each would show at the chosen thresholds (per category, else
// global), so that the report's metrics describe that operating point.
function atOperatingPoint(records, c) {
  return records.map((r) => {
    const shown = r.top.length > 0 && r.features.score1 >= categoryThreshold(c, r.top[0].category, 'threshold', c.threshold);
    return { ...r, suggestion: shown ? { id: r.top[0].id, kind: 'item', confidence: r.features.score1 } : null };
  });
}

const CATEGORY_KEPT = (kind, instead) => `note: category thresholds not calibrated from the ${kind}: that needs queries with a ` +
  `"category" and queries without one (null: a category the catalog lacks); ${instead}`;

// A threshold above all n out-of-catalog queries still lets through about 1/(n+1) of new ones
// (the chance that the next one scores highest of n+1), so a target rate r needs n >= 1/r - 1.
// With fewer, the thresholds are stored anyway (nothing better is known) and the user is told.
function thinNullsNote(n, maxFalseRate, kind) {
  const need = Math.ceil(1 / maxFalseRate - 1 - 1e-9);
  if (maxFalseRate <= 0 || n >= need) return null;
  return `note: ${n} out-of-catalog ${kind}: a threshold above all of them still lets through about 1/${n + 1} = ` +
    `${(100 / (n + 1)).toFixed(1)}% of new out-of-catalog ${kind}; showing <= ${+(maxFalseRate * 100).toFixed(2)}% takes at least ${need}`;
}

function positiveInteger(values, name, UsageError) {
  if (values[name] === undefined) return undefined;
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be an integer >= 1, got ${values[name]}`);
  return n;
}

function requireNulls(queries, kind, path) {
  if (queries.length && !queries.some((q) => q.expected === null)) {
    throw new ShopframeError('invalid_argument', `${path}: no ${kind} with "expected": null; their false-suggestion rate cannot be measured`);
  }
}

function perCategoryReport(title, c) {
  return { title, rows: c.categories, minInCatalog: c.min_in_catalog, minOutOfCatalog: c.min_out_of_catalog,
    global: c.threshold, globalOnly: c.global_only, dropped: c.dropped };
}

/**
 * `shopframe calibrate`: thresholds from labeled photos and video segments taken apart from
 * the catalog (the build's own hold-out calibration is optimistic: catalog photos are
 * near-duplicates), per category where there is enough data, stored in the index's CONF
 * section (atomically, in place or to -o). Photos recalibrate the image thresholds, video
 * segments the tracker's (`calibration.video`); a kind absent from the file keeps what the
 * index had.
 */
export async function calibrateCommand(argv, { parse, openIndex, UsageError }) {
  const { values } = parse(argv, {
    ...evalOptions(), output: { type: 'string', short: 'o' }, fps: { type: 'string', default: '2' },
    'category-min-in': { type: 'string' }, 'category-min-out': { type: 'string' },
  });
  if (!values.catalog || !values.labeled) throw new UsageError('calibrate needs --catalog INDEX.sfi and --labeled QUERIES.jsonl');
  const maxFalseRate = maxFalseRateOf(values, UsageError);
  const fps = Number(values.fps);
  if (!(fps > 0 && fps <= 30)) throw new UsageError(`--fps must be a number in (0, 30], got ${values.fps}`);
  const minimums = categoryMinimums(maxFalseRate, {
    minInCatalog: positiveInteger(values, 'category-min-in', UsageError), minOutOfCatalog: positiveInteger(values, 'category-min-out', UsageError),
  });
  const queries = await readLabeled(values.labeled, { videos: true });
  const images = queries.filter((q) => q.image), segments = queries.filter((q) => q.video);
  if (!queries.some((q) => q.expected === null)) {
    throw new ShopframeError('invalid_argument', `${values.labeled}: no queries with "expected": null; the false-suggestion rate cannot be measured`);
  }
  requireNulls(images, 'image queries', values.labeled);
  requireNulls(segments, 'video segments', values.labeled);
  const source = `labeled queries ${values.labeled}`;
  const engine = await openEngine(values, openIndex, UsageError);
  let bytes;
  try {
    const before = engine.index.config()?.calibration ?? null;
    let calibration = before ? { ...before } : {};
    let imageResult = null, videoResult = null;
    if (images.length) {
      const records = await collectRecords(engine, images);
      imageResult = { records, ...calibrateImages(records, { maxFalseRate, minimums, source }) };
      const kept = { ...(imageResult.calibration.category ? {} : { category: calibration.category ?? null }),
        ...(calibration.video ? { video: calibration.video } : {}) };
      calibration = { ...imageResult.calibration, ...kept };
      if (!imageResult.calibration.category) console.error(CATEGORY_KEPT('image queries', 'the previous ones stay'));
      imageResult.thin = thinNullsNote(imageResult.calibration.out_of_catalog, maxFalseRate, 'photos');
      if (imageResult.thin) console.error(imageResult.thin);
    }
    if (segments.length) {
      const records = await collectVideoRecords(engine, segments, fps);
      videoResult = { records, ...calibrateVideo(records, { maxFalseRate, minimums, source, fps }) };
      calibration.video = { ...videoResult.calibration, category: videoResult.calibration.category ?? before?.video?.category ?? null };
      if (!videoResult.calibration.category) console.error(CATEGORY_KEPT('video segments', 'the previous video ones, else the image ones, apply'));
      videoResult.thin = thinNullsNote(videoResult.calibration.out_of_catalog, maxFalseRate, 'video segments');
      if (videoResult.thin) console.error(videoResult.thin);
    }
    bytes = engine.index.withConfig({ ...(engine.index.config() ?? {}), calibration });
    console.log(JSON.stringify(calibration, null, 2));
    if (values.report) await writeCalibrationReport(values, { images: imageResult, video: videoResult, maxFalseRate });
  } finally {
    await engine.close();
  }
  await writeFileAtomic(values.output ?? values.catalog, bytes);
  console.error(`calibration stored in ${values.output ?? values.catalog}`);
}

async function writeCalibrationReport(values, { images, video, maxFalseRate }) {
  const title = `shopframe calibrate: ${values.labeled} against ${values.catalog}`;
  const notes = [], perCategory = [];
  let input;
  if (images) {
    const { records, model, item, calibration } = images;
    input = { metrics: evaluate(records), curve: precisionCoverageCurve(records, (r) => model.predict(r.features)), calibration: item, records };
    notes.push(`Image queries. Confidence: logistic model over (${model.features.join(', ')}); operating point at <= ${maxFalseRate} false suggestions on the ${calibration.out_of_catalog} out-of-catalog photos.`);
    if (images.thin) notes.push(images.thin.replace(/^note: /, 'Caution: '));
    perCategory.push(perCategoryReport('Image item thresholds (logistic confidence) per category of the top-1 product', item));
    const cat = calibration.category?.per_category;
    if (cat) perCategory.push(perCategoryReport('Image category-suggestion thresholds per suggested category', { ...cat, threshold: calibration.category.threshold }));
    const margin = calibration.category?.margin, clear = calibration.category?.holdout?.clear_leader;
    if (clear) {
      notes.push(`Category of a clear leader (top two in different categories): margin ${Number.isFinite(margin) ? margin.toFixed(3) : 'never'}; ` +
        `${clear.right} of the ${clear.shown} suggestions it made on its calibration queries named their category (${clear.eligible} could have reached it).`);
    }
  }
  if (video) {
    const { records, item, calibration } = video;
    if (!input) {
      const shown = atOperatingPoint(records, item).map((r) => ({ ...r, image: `${r.video} [${r.from}-${r.to} s]` }));
      input = { metrics: evaluate(shown), curve: precisionCoverageCurve(records), calibration: item, records: shown };
    }
    notes.push(`Video segments: ${calibration.segments} (${calibration.out_of_catalog} out of catalog), ${calibration.samples} samples at ${calibration.fps} fps; ` +
      'a segment counts as shown at threshold t when one of its tracks decided an item with mean fused score >= t.' +
      (images ? ' The plot and the metrics above are the image queries\'.' : ''));
    if (video.thin) notes.push(video.thin.replace(/^note: /, 'Caution: '));
    perCategory.push(perCategoryReport('Video (tracker) item thresholds per category of the track\'s item', item));
    const cat = calibration.category?.per_category;
    if (cat) perCategory.push(perCategoryReport('Video (tracker) category-suggestion thresholds per suggested category', { ...cat, threshold: calibration.category.threshold }));
  }
  await writeFileAtomic(values.report, renderReport({ title, ...input, notes, perCategory }));
  console.error(`report: ${values.report}`);
}
