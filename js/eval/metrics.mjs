// Evaluation metrics for `shopframe eval`: pure functions over per-query records.
//
// A record is what the engine yields for one labeled query image:
//   { image, expected: string|null, expectedCategory?: string|null,
//     top: [{ id, score, title, category }, ...]            (image-level ranking, best first)
//     suggestion: { id, kind: 'item'|'category', confidence } | null,
//     features: { score1, score2, margin },
//     timings_ms: { preprocess, detect, embed, search, total } }
// `expected: null` means the product is not in the catalog ("out of catalog").
//
// Conventions used throughout:
// - Ids are compared as strings (`String(a) === String(b)`), so 42 and '42' match.
// - A rate whose denominator is 0 is `null` (not NaN), so every result is JSON-able.
// - A query "gets an item suggestion" when `suggestion.kind === 'item'` and it has an id.
// - Thresholds are inclusive: a query is accepted when `confidence >= threshold`.
//   Queries with equal confidence are therefore always accepted or rejected together.
//   `threshold: Infinity` means "show nothing" (JSON.stringify writes it as null).

const hasId = (v) => v !== null && v !== undefined;
const sameId = (a, b) => hasId(a) && hasId(b) && String(a) === String(b);
const ratio = (num, den) => (den > 0 ? num / den : null);
const expectedOf = (r) => (hasId(r.expected) ? r.expected : null);
const topOf = (r) => (Array.isArray(r.top) ? r.top : []);
const isItemSuggestion = (s) => s != null && s.kind === 'item' && hasId(s.id);

/** Default scalar confidence: the top-1 score. Missing features give NaN (never shown). */
export const defaultConfidence = (r) => r?.features?.score1;
/** Default candidate that a threshold decides to show or not: the image-level top-1 id. */
export const defaultCandidate = (r) => topOf(r)[0]?.id ?? null;

function assertRecords(records) {
  if (!Array.isArray(records)) throw new TypeError('records must be an array');
  for (const r of records) {
    if (r === null || typeof r !== 'object') throw new TypeError('every record must be an object');
  }
}

// Nearest-rank percentile of an ascending array: the smallest value such that at least
// p of the values are <= it (sorted[ceil(p*n) - 1]); always one of the observed values.
function percentile(sorted, p) {
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

/**
 * Quality and latency metrics of an evaluation run.
 * @returns {{ recall_at_1: number|null, recall_at_5: number|null, coverage: number|null,
 *   precision: number|null, false_suggestion_rate: number|null, queries: number,
 *   in_catalog: number, out_of_catalog: number,
 *   category_suggestions: { shown: number, right: number },
 *   item_or_category: { coverage: number|null, wrong_rate: number|null },
 *   timings_ms: Record<string, { mean: number, p50: number, p95: number }> }}
 * item_or_category: the share of in-catalog queries that got their product or their
 * category (`expectedCategory`), and of out-of-catalog queries that got an item or a
 * category other than their own (any suggestion when they name no category).
 */
export function evaluate(records) {
  assertRecords(records);
  let inCatalog = 0, outOfCatalog = 0, hit1 = 0, hit5 = 0, covered = 0;
  let shown = 0, right = 0, falseShown = 0, categoryShown = 0, categoryRight = 0, answered = 0, wronglyAnswered = 0;
  const timings = new Map(); // stage -> values, in order of first appearance
  for (const r of records) {
    const expected = expectedOf(r);
    const top = topOf(r);
    const s = r.suggestion;
    const itemShown = isItemSuggestion(s);
    if (expected !== null) {
      inCatalog++;
      if (sameId(top[0]?.id, expected)) hit1++;
      if (top.slice(0, 5).some((t) => sameId(t?.id, expected))) hit5++;
      if (itemShown) covered++;
    } else {
      outOfCatalog++;
      if (itemShown) falseShown++;
    }
    if (itemShown) {
      shown++;
      if (sameId(s.id, expected)) right++;
    }
    // A category suggestion names its category in `category` if present, else in `id`.
    const categoryShownHere = s != null && s.kind === 'category';
    const categoryRightHere = categoryShownHere && hasId(r.expectedCategory) && sameId(s.category ?? s.id, r.expectedCategory);
    if (categoryShownHere) {
      categoryShown++;
      if (categoryRightHere) categoryRight++;
    }
    // At either level: the product named, or its kind; out of the catalog, an item or another kind is wrong.
    if (expected !== null && ((itemShown && sameId(s.id, expected)) || categoryRightHere)) answered++;
    if (expected === null && (itemShown || (categoryShownHere && !categoryRightHere))) wronglyAnswered++;
    if (r.timings_ms && typeof r.timings_ms === 'object') {
      for (const [stage, v] of Object.entries(r.timings_ms)) {
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        if (!timings.has(stage)) timings.set(stage, []);
        timings.get(stage).push(v);
      }
    }
  }
  const timingStats = {};
  for (const [stage, values] of timings) {
    values.sort((a, b) => a - b);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    timingStats[stage] = { mean, p50: percentile(values, 0.5), p95: percentile(values, 0.95) };
  }
  return {
    recall_at_1: ratio(hit1, inCatalog),
    recall_at_5: ratio(hit5, inCatalog),
    coverage: ratio(covered, inCatalog),
    precision: ratio(right, shown),
    false_suggestion_rate: ratio(falseShown, outOfCatalog),
    queries: records.length,
    in_catalog: inCatalog,
    out_of_catalog: outOfCatalog,
    category_suggestions: { shown: categoryShown, right: categoryRight },
    item_or_category: { coverage: ratio(answered, inCatalog), wrong_rate: ratio(wronglyAnswered, outOfCatalog) },
    timings_ms: timingStats,
  };
}

// One operating point per distinct confidence value, threshold descending. At threshold t
// the candidate (top-1 by default) is shown for every query with confidence >= t; queries
// with no candidate or a non-finite confidence are never shown.
function sweep(records, confidenceOf, candidateOf) {
  assertRecords(records);
  if (typeof confidenceOf !== 'function') throw new TypeError('confidenceOf must be a function');
  if (typeof candidateOf !== 'function') throw new TypeError('candidateOf must be a function');
  let inCatalog = 0, outOfCatalog = 0;
  const items = [];
  for (const r of records) {
    const expected = expectedOf(r);
    if (expected !== null) inCatalog++; else outOfCatalog++;
    const candidate = candidateOf(r);
    const c = confidenceOf(r);
    if (!hasId(candidate) || typeof c !== 'number' || !Number.isFinite(c)) continue;
    items.push({ c, inCatalog: expected !== null, right: sameId(candidate, expected) });
  }
  items.sort((a, b) => b.c - a.c);
  const points = [];
  let shown = 0, right = 0, shownIn = 0, shownOut = 0;
  for (let i = 0; i < items.length;) {
    const c = items[i].c;
    for (; i < items.length && items[i].c === c; ++i) {
      shown++;
      if (items[i].right) right++;
      if (items[i].inCatalog) shownIn++; else shownOut++;
    }
    points.push({
      threshold: c,
      coverage: ratio(shownIn, inCatalog),
      precision: ratio(right, shown),
      false_suggestion_rate: ratio(shownOut, outOfCatalog),
    });
  }
  return { points, inCatalog, outOfCatalog };
}

/**
 * Choose the confidence threshold that maximizes coverage subject to
 * false_suggestion_rate (over out-of-catalog queries only) <= maxFalseRate.
 *
 * Queries with confidence >= threshold get their candidate (top-1) shown; the returned
 * threshold is always one of the observed confidence values (the lowest accepted one), or
 * Infinity when nothing can be shown (e.g. the most confident query is out of catalog and
 * maxFalseRate = 0, or there are no in-catalog queries): then coverage is 0 (null with no
 * in-catalog queries), precision null, false_suggestion_rate 0. Among thresholds reaching
 * the same best coverage the highest one wins (fewest false suggestions). With no
 * out-of-catalog queries the constraint is vacuous (false_suggestion_rate is null).
 * Precision counts every shown candidate, so a wrong top-1 on an in-catalog query lowers
 * precision although it does not count in false_suggestion_rate.
 *
 * @param {object[]} records
 * @param {{ maxFalseRate?: number, confidenceOf?: (r) => number, candidateOf?: (r) => any }} [options]
 * @returns {{ threshold: number, coverage: number|null, precision: number|null,
 *   false_suggestion_rate: number|null }}
 */
export function calibrate(records, { maxFalseRate = 0.02, confidenceOf = defaultConfidence, candidateOf = defaultCandidate } = {}) {
  if (typeof maxFalseRate !== 'number' || !(maxFalseRate >= 0 && maxFalseRate <= 1)) {
    throw new RangeError(`maxFalseRate must be a number in [0, 1], got ${maxFalseRate}`);
  }
  const { points, inCatalog, outOfCatalog } = sweep(records, confidenceOf, candidateOf);
  let best = {
    threshold: Infinity,
    coverage: ratio(0, inCatalog),
    precision: null,
    false_suggestion_rate: ratio(0, outOfCatalog),
  };
  const tolerance = 1e-12; // k/n vs a decimal literal such as 0.02
  for (const p of points) {
    // The false-suggestion rate only grows as the threshold falls: stop at the first violation.
    if ((p.false_suggestion_rate ?? 0) > maxFalseRate + tolerance) break;
    if ((p.coverage ?? 0) > (best.coverage ?? 0)) best = p;
  }
  return { ...best };
}

/**
 * Precision / coverage / false-suggestion rate for every distinct confidence value used as
 * a threshold, sorted by threshold descending (so coverage and false_suggestion_rate are
 * non-decreasing along the array). Decimated to at most maxPoints points by even index
 * spacing, always keeping the first and the last point.
 * @returns {{ threshold: number, coverage: number|null, precision: number|null,
 *   false_suggestion_rate: number|null }[]}
 */
export function precisionCoverageCurve(records, confidenceOf = defaultConfidence, { maxPoints = 200, candidateOf = defaultCandidate } = {}) {
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new RangeError('maxPoints must be an integer >= 2');
  const { points } = sweep(records, confidenceOf, candidateOf);
  if (points.length <= maxPoints) return points;
  const out = [];
  const n = points.length;
  for (let i = 0; i < maxPoints; ++i) out.push(points[Math.round((i * (n - 1)) / (maxPoints - 1))]);
  return out;
}

// ---------------------------------------------------------------------------------------
// Confidence model: logistic regression on a few features of a record's `features`.

const BASE = {
  score1: (f) => f.score1,
  score2: (f) => f.score2,
  margin: (f) => f.margin ?? f.score1 - f.score2,
};
/** Feature names the model understands. */
export const MODEL_FEATURES = Object.freeze({
  score1: (f) => BASE.score1(f),
  score2: (f) => BASE.score2(f),
  margin: (f) => BASE.margin(f),
  'score1*margin': (f) => BASE.score1(f) * BASE.margin(f),
  'score1^2': (f) => BASE.score1(f) ** 2,
  'margin^2': (f) => BASE.margin(f) ** 2,
});
export const DEFAULT_MODEL_FEATURES = Object.freeze(['score1', 'margin', 'score1*margin']);

function featureVector(features, names) {
  const f = features && typeof features === 'object' ? features : {};
  const x = names.map((name) => Number(MODEL_FEATURES[name](f)));
  return x.every(Number.isFinite) ? x : null;
}

function sigmoid(z) {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

function checkFeatureNames(names) {
  if (!Array.isArray(names) || names.length === 0) throw new TypeError('features must be a non-empty array of names');
  for (const n of names) {
    if (!Object.hasOwn(MODEL_FEATURES, n)) {
      throw new RangeError(`unknown model feature ${JSON.stringify(n)}; known: ${Object.keys(MODEL_FEATURES).join(', ')}`);
    }
  }
}

/**
 * Rebuild a predictor from serialized weights: { features, weights, bias } (e.g. the JSON
 * of a confidenceModel). predict(features) -> probability in (0, 1), NaN when a feature is
 * missing or non-finite.
 */
export function logisticModel({ features = DEFAULT_MODEL_FEATURES, weights, bias }) {
  checkFeatureNames(features);
  if (!Array.isArray(weights) || weights.length !== features.length || !weights.every(Number.isFinite)) {
    throw new TypeError('weights must be finite numbers, one per feature');
  }
  if (!Number.isFinite(bias)) throw new TypeError('bias must be a finite number');
  const names = [...features];
  const w = [...weights];
  return {
    features: names,
    weights: w,
    bias,
    predict(recordFeatures) {
      const x = featureVector(recordFeatures, names);
      if (x === null) return NaN;
      let z = bias;
      for (let j = 0; j < w.length; ++j) z += w[j] * x[j];
      return sigmoid(z);
    },
  };
}

/**
 * Fit P(top-1 is right) with L2-regularized logistic regression, trained by full-batch
 * gradient descent from zero weights (deterministic: same records -> same weights).
 * Label 1: in-catalog query whose top-1 id equals expected; 0: everything else (wrong
 * top-1, empty ranking, out-of-catalog). Features are standardized internally; the
 * returned weights/bias apply to the raw features, so { features, weights, bias } is all
 * that is needed to predict (JSON.stringify drops `predict`; use logisticModel() to
 * restore it). Records with missing/non-finite features are skipped in training.
 *
 * @param {object[]} records
 * @param {{ features?: string[], l2?: number, learningRate?: number, iterations?: number }} [options]
 * @returns {{ features: string[], weights: number[], bias: number,
 *   predict: (features: object) => number }}
 */
export function confidenceModel(records, { features = DEFAULT_MODEL_FEATURES, l2 = 1e-3, learningRate = 0.5, iterations = 2000 } = {}) {
  assertRecords(records);
  checkFeatureNames(features);
  if (!(l2 >= 0) || !(learningRate > 0) || !Number.isInteger(iterations) || iterations < 0) {
    throw new RangeError('need l2 >= 0, learningRate > 0 and an integer iterations >= 0');
  }
  const names = [...features];
  const d = names.length;
  const X = [], y = [];
  for (const r of records) {
    const x = featureVector(r.features, names);
    if (x === null) continue;
    const expected = expectedOf(r);
    X.push(x);
    y.push(expected !== null && sameId(topOf(r)[0]?.id, expected) ? 1 : 0);
  }
  const n = X.length;
  if (n === 0) throw new RangeError('confidenceModel needs at least one record with finite features');

  // Standardize (constant features get scale 1).
  const mean = new Array(d).fill(0), scale = new Array(d).fill(0);
  for (const x of X) for (let j = 0; j < d; ++j) mean[j] += x[j] / n;
  for (const x of X) for (let j = 0; j < d; ++j) scale[j] += (x[j] - mean[j]) ** 2 / n;
  for (let j = 0; j < d; ++j) scale[j] = scale[j] > 1e-24 ? Math.sqrt(scale[j]) : 1;
  const Z = X.map((x) => x.map((v, j) => (v - mean[j]) / scale[j]));

  // Minimize mean log-loss + (l2 / 2) * |w|^2 (the bias is not regularized).
  const w = new Array(d).fill(0);
  let b = 0;
  const grad = new Array(d);
  for (let it = 0; it < iterations; ++it) {
    grad.fill(0);
    let gb = 0;
    for (let i = 0; i < n; ++i) {
      const z = Z[i];
      let s = b;
      for (let j = 0; j < d; ++j) s += w[j] * z[j];
      const err = sigmoid(s) - y[i];
      gb += err;
      for (let j = 0; j < d; ++j) grad[j] += err * z[j];
    }
    for (let j = 0; j < d; ++j) w[j] -= learningRate * (grad[j] / n + l2 * w[j]);
    b -= learningRate * (gb / n);
  }

  // Fold the standardization into raw-feature weights.
  const weights = w.map((wj, j) => wj / scale[j]);
  let bias = b;
  for (let j = 0; j < d; ++j) bias -= (w[j] * mean[j]) / scale[j];
  return logisticModel({ features: names, weights, bias });
}

// ---------------------------------------------------------------------------------------
// Per-category thresholds.

/**
 * Coverage, precision and false-suggestion rate of one threshold (same conventions as
 * calibrate: inclusive, a record without a candidate or a finite confidence is never shown).
 * @returns {{ threshold: number, coverage: number|null, precision: number|null, false_suggestion_rate: number|null,
 *   in_catalog: number, out_of_catalog: number, shown_in: number, shown_out: number, right: number }}
 */
export function operatingPoint(records, threshold, { confidenceOf = defaultConfidence, candidateOf = defaultCandidate } = {}) {
  return operatingPointOf(records, () => threshold, { confidenceOf, candidateOf, threshold });
}

// Like operatingPoint with a threshold per record (thresholdOf(r)).
function operatingPointOf(records, thresholdOf, { confidenceOf, candidateOf, threshold = null }) {
  assertRecords(records);
  let inCatalog = 0, outOfCatalog = 0, shownIn = 0, shownOut = 0, right = 0;
  for (const r of records) {
    const expected = expectedOf(r);
    if (expected !== null) inCatalog++; else outOfCatalog++;
    const candidate = candidateOf(r);
    const c = confidenceOf(r);
    if (!hasId(candidate) || typeof c !== 'number' || !Number.isFinite(c) || !(c >= thresholdOf(r))) continue;
    if (expected !== null) shownIn++; else shownOut++;
    if (sameId(candidate, expected)) right++;
  }
  return {
    threshold, coverage: ratio(shownIn, inCatalog), precision: ratio(right, shownIn + shownOut),
    false_suggestion_rate: ratio(shownOut, outOfCatalog),
    in_catalog: inCatalog, out_of_catalog: outOfCatalog, shown_in: shownIn, shown_out: shownOut, right,
  };
}

/**
 * How much data a category needs for a threshold of its own: `minInCatalog` in-catalog and
 * `minOutOfCatalog` out-of-catalog queries whose candidate is in it. With fewer than
 * 1 / maxFalseRate out-of-catalog queries a category could only be held to zero false
 * suggestions on them, i.e. its threshold would just sit above its few null queries
 * (overfitting), so the default asks for that many, and at least 20 of each kind.
 */
export function categoryMinimums(maxFalseRate = 0.02, { minInCatalog, minOutOfCatalog } = {}) {
  return {
    minInCatalog: minInCatalog ?? 20,
    minOutOfCatalog: minOutOfCatalog ?? Math.max(20, Math.ceil(1 / Math.max(maxFalseRate, 1e-9) - 1e-9)),
  };
}

/**
 * Thresholds per category where there is enough data, a global one elsewhere, chosen so
 * that every category with its own threshold and the rest taken together each keep
 * false suggestions at <= maxFalseRate (so all queries together do too):
 * - records are grouped by categoryOf(r) (the category of the candidate the threshold
 *   decides on; null: no category, always in the rest);
 * - a category with >= minInCatalog in-catalog and >= minOutOfCatalog out-of-catalog
 *   records gets calibrate() on its own records;
 * - the global threshold (for every other category, including ones never seen here) is the
 *   higher of calibrate() on all records and calibrate() on the rest's records (when the
 *   rest has both kinds), so the rest alone also keeps to the target;
 * - should the combination still exceed maxFalseRate on all records (possible only when
 *   the rest lacks one kind of query), the own thresholds are dropped and `dropped` says why.
 *
 * @returns {{ threshold: number, coverage, precision, false_suggestion_rate,
 *   global_only: object,            (calibrate() on all records: what one threshold gives)
 *   by_category: Record<string, { threshold, coverage, precision, false_suggestion_rate, in_catalog, out_of_catalog }>,
 *   categories: { category, in_catalog, out_of_catalog, own: boolean, threshold, coverage, precision, false_suggestion_rate }[],
 *   min_in_catalog: number, min_out_of_catalog: number, dropped: string|null }}
 */
export function calibrateByCategory(records, {
  maxFalseRate = 0.02, confidenceOf = defaultConfidence, candidateOf = defaultCandidate,
  categoryOf = (r) => topOf(r)[0]?.category ?? null, minInCatalog, minOutOfCatalog,
} = {}) {
  assertRecords(records);
  const mins = categoryMinimums(maxFalseRate, { minInCatalog, minOutOfCatalog });
  const opts = { maxFalseRate, confidenceOf, candidateOf };
  const keyOf = (r) => {
    const c = categoryOf(r);
    return hasId(c) && c !== '' ? String(c) : null;
  };
  const groups = new Map();  // category (null: none) -> records
  for (const r of records) {
    const key = keyOf(r);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  const counts = (rs) => ({ in: rs.filter((r) => expectedOf(r) !== null).length, out: rs.filter((r) => expectedOf(r) === null).length });
  const own = new Map();     // category -> calibrate() result
  const rest = [];
  for (const [c, rs] of groups) {
    const n = counts(rs);
    if (c !== null && n.in >= mins.minInCatalog && n.out >= mins.minOutOfCatalog) own.set(c, calibrate(rs, opts));
    else rest.push(...rs);
  }
  const globalOnly = calibrate(records, opts);
  const restCounts = counts(rest);
  let fallback = globalOnly.threshold;
  if (own.size && restCounts.in > 0 && restCounts.out > 0) fallback = Math.max(fallback, calibrate(rest, opts).threshold);

  const pointWith = (ownThresholds, global) => operatingPointOf(records, (r) => {
    const c = keyOf(r);
    return c !== null && ownThresholds.has(c) ? ownThresholds.get(c).threshold : global;
  }, { confidenceOf, candidateOf });
  let combined = pointWith(own, fallback);
  let dropped = null;
  const tolerance = 1e-12;
  if (own.size && (combined.false_suggestion_rate ?? 0) > maxFalseRate + tolerance) {
    dropped = `per-category thresholds with global ${fallback} gave ${combined.false_suggestion_rate} false suggestions on all ` +
      `queries, above ${maxFalseRate}; one global threshold is used`;
    own.clear();
    fallback = globalOnly.threshold;
    combined = pointWith(own, fallback);
  }

  const brief = ({ threshold, coverage, precision, false_suggestion_rate }) => ({ threshold, coverage, precision, false_suggestion_rate });
  const categories = [...groups.entries()].filter(([c]) => c !== null).map(([c, rs]) => {
    const n = counts(rs);
    const threshold = own.has(c) ? own.get(c).threshold : fallback;
    return { category: c, in_catalog: n.in, out_of_catalog: n.out, own: own.has(c), ...brief(operatingPoint(rs, threshold, { confidenceOf, candidateOf })) };
  }).sort((a, b) => (a.category < b.category ? -1 : a.category > b.category ? 1 : 0));
  const byCategory = {};
  for (const row of categories) {
    if (row.own) byCategory[row.category] = { ...brief(row), in_catalog: row.in_catalog, out_of_catalog: row.out_of_catalog };
  }
  return {
    ...brief({ ...combined, threshold: fallback }), global_only: brief(globalOnly), by_category: byCategory, categories,
    min_in_catalog: mins.minInCatalog, min_out_of_catalog: mins.minOutOfCatalog, dropped,
  };
}

// ---------------------------------------------------------------------------------------
// The clear-leader path of category suggestions.

/**
 * The margin for suggesting the leading product's category when the top two products belong
 * to different categories (so they do not agree on one): the leader must beat the runner-up
 * by at least this much. A category with a single product in the catalog can only be
 * suggested this way.
 *
 * Chosen on calibration records like the thresholds: sweeping the margin from the widest
 * down, the suggestions this path makes must stay >= 1 - maxFalseRate right (the category of
 * the leader is the query's), stopping at the first violation; the lowest margin reached
 * wins. Infinity (the path stays off) when the widest margin is already wrong or no record
 * is eligible.
 *
 * @param {{ expectedCategory: string|null, top: { category?: string|null, score: number }[] }[]} records
 *   expectedCategory: the query's category when the catalog has it, else null (always wrong).
 * @param {{ maxFalseRate?: number, eligible?: (r) => boolean }} [options]
 *   eligible(r): whether a record would reach this path (no item shown, the leader's score
 *   clears the category threshold); the two leaders' categories are checked here.
 * @returns {{ margin: number, shown: number, right: number, eligible: number }}
 */
export function calibrateCategoryMargin(records, { maxFalseRate = 0.02, eligible = () => true } = {}) {
  if (!Array.isArray(records)) throw new TypeError('records must be an array');
  if (typeof maxFalseRate !== 'number' || !(maxFalseRate >= 0 && maxFalseRate <= 1)) {
    throw new RangeError(`maxFalseRate must be a number in [0, 1], got ${maxFalseRate}`);
  }
  const candidates = [];
  for (const r of records) {
    const [a, b] = r.top ?? [];
    if (!a || !b || !hasId(a.category) || sameId(a.category, b.category) || !eligible(r)) continue;
    const margin = a.score - b.score;
    if (!Number.isFinite(margin)) continue;
    candidates.push({ margin, right: hasId(r.expectedCategory) && sameId(a.category, r.expectedCategory) });
  }
  candidates.sort((x, y) => y.margin - x.margin);
  let best = { margin: Infinity, shown: 0, right: 0 };
  let shown = 0, right = 0;
  const tolerance = 1e-12;
  for (let i = 0; i < candidates.length;) {
    const m = candidates[i].margin;
    for (; i < candidates.length && candidates[i].margin === m; ++i) {
      shown++;
      if (candidates[i].right) right++;
    }
    if (shown - right > maxFalseRate * shown + tolerance) break;
    best = { margin: m, shown, right };
  }
  return { ...best, eligible: candidates.length };
}
