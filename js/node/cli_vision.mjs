// `shopframe analyze` and `shopframe eval`: one engine, many images.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { ShopframeError } from '../errors.mjs';
import { createEngine } from '../engine.mjs';
import { calibrate, confidenceModel, evaluate, precisionCoverageCurve } from '../eval/metrics.mjs';
import { leadingCategory } from '../decide.mjs';
import { renderReport } from '../eval/report.mjs';
import { writeFileAtomic } from './atomic_write.mjs';
import { analyzeVideo } from '../video.mjs';
import { probeVideo, readVideoFrames } from './video_frames.mjs';
import { progressBar } from './progress.mjs';

async function readImage(path) {
  try {
    return await readFile(path);
  } catch (e) {
    throw new ShopframeError('io_error', `image ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
}

async function openEngine(values, openIndex) {
  const index = await openIndex(values.catalog);
  try {
    return await createEngine({ index, models: values['no-detector'] ? { detector: null } : {}, k: Number(values.k ?? 5) });
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
  const r = await analyzeVideo(engine, readVideoFrames(path, { fps, probe: info }), { keepFrames: values.frames });
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
    fps: { type: 'string', default: '2' },
    frames: { type: 'boolean', default: false },
  });
  const fps = Number(values.fps);
  if (!(fps > 0 && fps <= 30)) throw new UsageError(`--fps must be a number in (0, 30], got ${values.fps}`);
  if (!positionals.length || !values.catalog) throw new UsageError('analyze needs IMAGE... and --catalog INDEX.sfi');
  const k = Number(values.k);
  if (!Number.isInteger(k) || k < 1 || k > 100) throw new UsageError(`-k must be an integer in 1..100, got ${values.k}`);
  const engine = await openEngine(values, openIndex);
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

async function readLabeled(path) {
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
    if (typeof q?.image !== 'string' || !q.image) throw new ShopframeError('parse_error', `${path}:${i + 1}: field 'image': expected a non-empty string`);
    if (q.expected !== null && typeof q.expected !== 'string') throw new ShopframeError('parse_error', `${path}:${i + 1}: field 'expected': expected a product id or null`);
    out.push({ image: resolve(dirname(path), q.image), shown: q.image, expected: q.expected, expectedCategory: q.category ?? null });
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
    'no-detector': { type: 'boolean', default: false },
    'max-false-rate': { type: 'string', default: '0.02' },
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
  const engine = await openEngine(values, openIndex);
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
}

/**
 * `shopframe calibrate`: thresholds from labeled photos taken apart from the catalog (the
 * build's own hold-out calibration is optimistic: catalog photos are near-duplicates),
 * stored in the index's CONF section (atomically, in place or to -o).
 */
export async function calibrateCommand(argv, { parse, openIndex, UsageError }) {
  const { values } = parse(argv, { ...evalOptions(), output: { type: 'string', short: 'o' } });
  if (!values.catalog || !values.labeled) throw new UsageError('calibrate needs --catalog INDEX.sfi and --labeled QUERIES.jsonl');
  const maxFalseRate = maxFalseRateOf(values, UsageError);
  const queries = await readLabeled(values.labeled);
  const nulls = queries.filter((q) => q.expected === null).length;
  if (nulls === 0) throw new ShopframeError('invalid_argument', `${values.labeled}: no queries with "expected": null; the false-suggestion rate cannot be measured`);
  const engine = await openEngine(values, openIndex);
  let records, bytes;
  try {
    records = await collectRecords(engine, queries);
    const model = confidenceModel(records);
    const item = calibrate(records, { maxFalseRate, confidenceOf: (r) => model.predict(r.features) });
    const itemScore = calibrate(records, { maxFalseRate, confidenceOf: (r) => r.features.score1 });
    const categoryRecords = records.map((r) => ({
      expected: r.expectedCategory ?? null, features: r.features, top: [{ id: leadingCategory(r.top) }],
    }));
    const category = categoryRecords.some((r) => r.expected !== null)
      ? calibrate(categoryRecords, { maxFalseRate, confidenceOf: (r) => r.features.score1 }) : null;
    const calibration = {
      maxFalseRate, source: `labeled queries ${values.labeled}`, queries: records.length, in_catalog: records.length - nulls,
      out_of_catalog: nulls,
      item: { threshold: item.threshold, score_threshold: itemScore.threshold,
        model: { features: model.features, weights: model.weights, bias: model.bias },
        holdout: { coverage: item.coverage, precision: item.precision, false_suggestion_rate: item.false_suggestion_rate } },
      category: category && { threshold: category.threshold,
        holdout: { coverage: category.coverage, precision: category.precision, false_suggestion_rate: category.false_suggestion_rate } },
    };
    bytes = engine.index.withConfig({ ...(engine.index.config() ?? {}), calibration });
    console.log(JSON.stringify(calibration, null, 2));
    if (values.report) {
      const curve = precisionCoverageCurve(records, (r) => model.predict(r.features));
      const html = renderReport({ title: `shopframe calibrate: ${values.labeled} against ${values.catalog}`,
        metrics: evaluate(records), curve, calibration: item, records,
        notes: [`Confidence: logistic model over (${model.features.join(', ')}); operating point at <= ${maxFalseRate} false suggestions on the ${nulls} out-of-catalog queries.`] });
      await writeFileAtomic(values.report, html);
      console.error(`report: ${values.report}`);
    }
  } finally {
    await engine.close();
  }
  await writeFileAtomic(values.output ?? values.catalog, bytes);
  console.error(`calibration stored in ${values.output ?? values.catalog}`);
}
