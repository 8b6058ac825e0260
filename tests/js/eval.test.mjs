// Evaluation metrics, threshold calibration, confidence model and the HTML report
// (js/eval/), on hand-built records.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  calibrate, calibrateByCategory, calibrateCategoryMargin, categoryMinimums, confidenceModel, evaluate, logisticModel, operatingPoint, precisionCoverageCurve,
} from '../../js/eval/metrics.mjs';
import { escapeHtml, renderReport } from '../../js/eval/report.mjs';

const hits = (...ids) => ids.map((id, i) => ({ id, score: 1 - i / 10, title: `title ${id}`, category: 'c' }));

function rec(image, expected, top, suggestion, extra = {}) {
  return { image, expected, top: hits(...top), suggestion, features: { score1: 0.9, score2: 0.5, margin: 0.4 }, ...extra };
}

// Six queries, four in catalog (q1, q2, q3, q6) and two not (q4, q5).
const fixture = [
  rec('q1.jpg', 'A', ['A', 'B'], { id: 'A', kind: 'item', confidence: 0.9 }, { timings_ms: { total: 10, detect: 4 } }),
  rec('q2.jpg', 'B', ['C', 'B'], { id: 'C', kind: 'item', confidence: 0.8 }, { timings_ms: { total: 20 } }),
  rec('q3.jpg', 'D', ['E', 'F', 'G', 'H', 'I', 'D'], null, { timings_ms: { total: 30, detect: 8 } }),
  rec('q4.jpg', null, ['A'], { id: 'A', kind: 'item', confidence: 0.7 }, { timings_ms: { total: 40 } }),
  rec('q5.jpg', null, ['X'], { id: 'shoes', kind: 'category', confidence: 0.5 }, { expectedCategory: 'shoes', timings_ms: { total: 50 } }),
  rec('q6.jpg', 'E', ['E'], { id: 'bags', kind: 'category', confidence: 0.4 }, { expectedCategory: 'shoes', timings_ms: { total: 60 } }),
];

test('evaluate: exact metrics on a hand-computed fixture', () => {
  const m = evaluate(fixture);
  assert.deepEqual(Object.keys(m).sort(), [
    'category_suggestions', 'coverage', 'false_suggestion_rate', 'in_catalog', 'item_or_category', 'out_of_catalog',
    'precision', 'queries', 'recall_at_1', 'recall_at_5', 'timings_ms',
  ]);
  assert.equal(m.queries, 6);
  assert.equal(m.in_catalog, 4);
  assert.equal(m.out_of_catalog, 2);
  assert.equal(m.recall_at_1, 2 / 4); // q1, q6
  assert.equal(m.recall_at_5, 3 / 4); // q1, q2 (B at rank 2), q6; q3 has D at rank 6
  assert.equal(m.coverage, 2 / 4); // q1, q2 get item suggestions
  assert.equal(m.precision, 1 / 3); // shown: q1 (right), q2 (wrong), q4 (wrong, not in catalog)
  assert.equal(m.false_suggestion_rate, 1 / 2); // q4 of q4, q5
  assert.deepEqual(m.category_suggestions, { shown: 2, right: 1 }); // q5 right, q6 wrong
  // Either level: q1 only of the in-catalog four (q6's category is not its own); out of the
  // catalog q4's item is wrong, q5's category is its own.
  assert.deepEqual(m.item_or_category, { coverage: 1 / 4, wrong_rate: 1 / 2 });
  const levels = evaluate([
    rec('a.jpg', 'A', ['B'], { id: 'fruit', kind: 'category', confidence: 0.5 }, { expectedCategory: 'fruit' }),  // its kind: right
    rec('b.jpg', 'A', ['A'], null, { expectedCategory: 'fruit' }),
    rec('c.jpg', null, ['B'], { id: 'fruit', kind: 'category', confidence: 0.5 }),  // names no category: any is wrong
    rec('d.jpg', null, ['B'], null),
  ]);
  assert.deepEqual(levels.item_or_category, { coverage: 1 / 2, wrong_rate: 1 / 2 });
  // Nearest-rank percentiles; stages only present in some records use only those.
  assert.deepEqual(m.timings_ms, {
    total: { mean: 35, p50: 30, p95: 60 },
    detect: { mean: 6, p50: 4, p95: 8 },
  });
  assert.deepEqual(JSON.parse(JSON.stringify(m)), m);
});

test('evaluate: empty denominators give null rates, ids compare as strings', () => {
  const m = evaluate([]);
  assert.equal(m.queries, 0);
  for (const k of ['recall_at_1', 'recall_at_5', 'coverage', 'precision', 'false_suggestion_rate']) assert.equal(m[k], null, k);
  assert.deepEqual(m.timings_ms, {});

  const only = evaluate([{ image: 'a', expected: '42', top: [{ id: 42 }], suggestion: { id: 42, kind: 'item', confidence: 1 } }]);
  assert.equal(only.recall_at_1, 1);
  assert.equal(only.precision, 1);
  assert.equal(only.false_suggestion_rate, null); // no out-of-catalog queries
  assert.throws(() => evaluate(null), TypeError);
});

// Confidence = score1; top-1 right (R), top-1 wrong (W), out of catalog (N).
//   0.95 R, 0.9 R, 0.85 N, 0.8 W, 0.7 R, 0.7 N (tie), 0.6 R, 0.5 N
function calRec(conf, kind, i) {
  const expected = kind === 'N' ? null : `p${i}`;
  const top1 = kind === 'R' ? `p${i}` : `other${i}`;
  return { image: `img${i}.jpg`, expected, top: [{ id: top1, score: conf }], suggestion: null, features: { score1: conf, score2: conf / 2, margin: conf / 2 } };
}
const calSet = [[0.95, 'R'], [0.9, 'R'], [0.85, 'N'], [0.8, 'W'], [0.7, 'R'], [0.7, 'N'], [0.6, 'R'], [0.5, 'N']]
  .map(([c, k], i) => calRec(c, k, i));

test('calibrate: picks the lowest feasible threshold, inclusive, with ties moving together', () => {
  // No false suggestion allowed: must stay above the 0.85 out-of-catalog query.
  assert.deepEqual(calibrate(calSet, { maxFalseRate: 0 }), { threshold: 0.9, coverage: 2 / 5, precision: 1, false_suggestion_rate: 0 });
  // One of three allowed: accept 0.85 and 0.8; 0.7 would add the tied out-of-catalog query.
  // The wrong in-catalog top-1 at 0.8 hurts precision but not the false-suggestion rate.
  assert.deepEqual(calibrate(calSet, { maxFalseRate: 1 / 3 }), { threshold: 0.8, coverage: 3 / 5, precision: 2 / 4, false_suggestion_rate: 1 / 3 });
  assert.deepEqual(calibrate(calSet, { maxFalseRate: 0.5 }), calibrate(calSet, { maxFalseRate: 1 / 3 }));
  // Two of three: the tie at 0.7 is accepted as a whole, then 0.6; 0.5 exceeds.
  assert.deepEqual(calibrate(calSet, { maxFalseRate: 2 / 3 }), { threshold: 0.6, coverage: 1, precision: 4 / 7, false_suggestion_rate: 2 / 3 });
  // Everything allowed: full coverage is first reached at 0.6; going to 0.5 only adds a
  // false suggestion, so the higher threshold wins.
  assert.deepEqual(calibrate(calSet, { maxFalseRate: 1 }), { threshold: 0.6, coverage: 1, precision: 4 / 7, false_suggestion_rate: 2 / 3 });
});

test('calibrate: a tie between an in-catalog and an out-of-catalog query cannot be split', () => {
  const set = [calRec(0.9, 'N', 0), calRec(0.9, 'R', 1), calRec(0.3, 'R', 2), calRec(0.2, 'N', 3)];
  // Accepting 0.9 would show the out-of-catalog query: nothing can be shown at all.
  assert.deepEqual(calibrate(set, { maxFalseRate: 0 }), { threshold: Infinity, coverage: 0, precision: null, false_suggestion_rate: 0 });
  assert.deepEqual(calibrate(set, { maxFalseRate: 0.5 }), { threshold: 0.3, coverage: 1, precision: 2 / 3, false_suggestion_rate: 0.5 });
});

test('calibrate: no feasible threshold, degenerate sets and bad options', () => {
  // The most confident query is out of catalog: threshold Infinity, coverage 0.
  const r = calibrate(calSet.slice(2), { maxFalseRate: 0 });
  assert.deepEqual(r, { threshold: Infinity, coverage: 0, precision: null, false_suggestion_rate: 0 });
  assert.equal(JSON.parse(JSON.stringify(r)).threshold, null); // documented: Infinity serializes as null
  // No out-of-catalog queries: the constraint is vacuous, everything is shown.
  const inOnly = calSet.filter((x) => x.expected !== null);
  assert.deepEqual(calibrate(inOnly, { maxFalseRate: 0 }), { threshold: 0.6, coverage: 1, precision: 4 / 5, false_suggestion_rate: null });
  // No in-catalog queries: nothing to cover.
  assert.deepEqual(calibrate(calSet.filter((x) => x.expected === null)), { threshold: Infinity, coverage: null, precision: null, false_suggestion_rate: 0 });
  // Default confidence is features.score1; records without features or ranking are never shown.
  const partial = [calRec(0.9, 'R', 0), { image: 'x', expected: 'p9', top: [] , features: { score1: 1 } }, { image: 'y', expected: null, top: [{ id: 'z' }] }];
  assert.deepEqual(calibrate(partial, { maxFalseRate: 0 }), { threshold: 0.9, coverage: 1 / 2, precision: 1, false_suggestion_rate: 0 });
  assert.throws(() => calibrate(calSet, { maxFalseRate: -0.1 }), RangeError);
  assert.throws(() => calibrate(calSet, { maxFalseRate: NaN }), RangeError);
});

test('calibrate: the 2% default with a custom confidence', () => {
  // 100 out-of-catalog queries: three confident ones (0.99, 0.9, 0.6) and 97 at 0.1;
  // 50 in-catalog queries, top-1 right, at 0.505, 0.515, ..., 0.995 (no ties with the above).
  const set = [];
  for (const c of [0.99, 0.9, 0.6]) set.push({ expected: null, top: [{ id: 'x' }], features: { score1: c } });
  for (let i = 0; i < 97; ++i) set.push({ expected: null, top: [{ id: 'x' }], features: { score1: 0.1 } });
  for (let i = 0; i < 50; ++i) set.push({ expected: `p${i}`, top: [{ id: `p${i}` }], features: { score1: 0.5 + (i + 0.5) / 100 } });
  // At most 2 false suggestions (0.99 and 0.9): the threshold stops just above 0.6.
  assert.deepEqual(calibrate(set), { threshold: 0.5 + 10.5 / 100, coverage: 40 / 50, precision: 40 / 42, false_suggestion_rate: 0.02 });
  // With the confidence inverted the 97 out-of-catalog queries come first: nothing feasible.
  assert.deepEqual(calibrate(set, { confidenceOf: (x) => -x.features.score1 }), { threshold: Infinity, coverage: 0, precision: null, false_suggestion_rate: 0 });
});

test('precisionCoverageCurve: one point per distinct confidence, monotone, decimated', () => {
  const curve = precisionCoverageCurve(calSet);
  assert.deepEqual(curve.map((p) => p.threshold), [0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5]);
  assert.deepEqual(curve[0], { threshold: 0.95, coverage: 1 / 5, precision: 1, false_suggestion_rate: 0 });
  assert.deepEqual(curve.at(-1), { threshold: 0.5, coverage: 1, precision: 4 / 8, false_suggestion_rate: 1 });
  // Calibration picks one of the curve points.
  assert.ok(curve.some((p) => JSON.stringify(p) === JSON.stringify(calibrate(calSet, { maxFalseRate: 1 / 3 }))));

  const big = [];
  for (let i = 0; i < 1000; ++i) {
    const k = (i * 7919) % 1000; // deterministic shuffle
    big.push({ expected: k % 3 === 0 ? null : `p${k}`, top: [{ id: k % 5 === 0 ? 'wrong' : `p${k}` }], features: { score1: k / 1000 } });
  }
  const dec = precisionCoverageCurve(big);
  assert.ok(dec.length <= 200 && dec.length >= 100, `length ${dec.length}`);
  assert.equal(dec[0].threshold, 0.999);
  assert.equal(dec.at(-1).threshold, 0);
  assert.equal(dec.at(-1).coverage, 1);
  assert.equal(dec.at(-1).false_suggestion_rate, 1);
  for (const c of [dec, precisionCoverageCurve(big, undefined, { maxPoints: 10_000 })]) {
    for (let i = 1; i < c.length; ++i) {
      assert.ok(c[i].threshold < c[i - 1].threshold);
      assert.ok(c[i].coverage >= c[i - 1].coverage);
      assert.ok(c[i].false_suggestion_rate >= c[i - 1].false_suggestion_rate);
      assert.ok(c[i].precision >= 0 && c[i].precision <= 1);
    }
  }
  assert.equal(precisionCoverageCurve(big, undefined, { maxPoints: 10_000 }).length, 1000);
  assert.deepEqual(precisionCoverageCurve([]), []);
});

test('confidenceModel: separates a separable toy set, deterministically, JSON round trip', () => {
  const set = [];
  for (let i = 0; i < 40; ++i) {
    const right = i % 2 === 0;
    const score1 = right ? 0.7 + (i % 7) / 30 : 0.3 + (i % 7) / 30;
    const margin = right ? 0.2 + (i % 5) / 50 : 0.02 + (i % 5) / 100;
    const expected = i % 4 === 1 ? null : `p${i}`;
    set.push({ expected, top: [{ id: right ? expected : `q${i}` }], features: { score1, score2: score1 - margin, margin } });
  }
  const m = confidenceModel(set);
  assert.deepEqual(m.features, ['score1', 'margin', 'score1*margin']);
  for (const r of set) {
    const p = m.predict(r.features);
    const right = r.expected !== null && r.top[0].id === r.expected;
    assert.ok(right ? p > 0.5 : p < 0.5, `p=${p} right=${right}`);
  }
  assert.ok(m.weights[0] > 0 && m.weights[1] > 0);
  // Deterministic.
  const again = confidenceModel(set);
  assert.deepEqual(JSON.stringify(again), JSON.stringify(m));
  // JSON carries everything needed to predict.
  const json = JSON.parse(JSON.stringify(m));
  assert.deepEqual(Object.keys(json).sort(), ['bias', 'features', 'weights']);
  const restored = logisticModel(json);
  for (const r of set) assert.equal(restored.predict(r.features), m.predict(r.features));
  // Margin defaults to score1 - score2; missing features give NaN.
  assert.equal(m.predict({ score1: 0.8, score2: 0.55 }), m.predict({ score1: 0.8, score2: 0.55, margin: 0.8 - 0.55 }));
  assert.ok(Number.isNaN(m.predict({})));
  // The model's probability works as a calibration confidence and separates perfectly.
  const c = calibrate(set, { maxFalseRate: 0, confidenceOf: (r) => m.predict(r.features) });
  assert.equal(c.coverage, 20 / 30);
  assert.equal(c.precision, 1);
  // Bad input.
  assert.throws(() => confidenceModel([]), RangeError);
  assert.throws(() => confidenceModel(set, { features: ['nope'] }), RangeError);
});

test('renderReport: self-contained HTML with an SVG plot and escaped text', () => {
  const evil = '<script>alert(1)</script>';
  const records = [
    ...fixture,
    rec(`"><img src=x onerror=alert(1)>${evil}.jpg`, null, ['<b>id</b>'], { id: '<b>id</b>', kind: 'item', confidence: 0.99 }),
  ];
  const metrics = evaluate(records);
  const curve = precisionCoverageCurve(calSet);
  const calibration = calibrate(calSet, { maxFalseRate: 1 / 3 });
  const html = renderReport({ title: `Run ${evil} & more`, metrics, curve, calibration, records, notes: [`note ${evil}`, 'plain'] });

  assert.match(html, /^<!DOCTYPE html>/);
  assert.ok(!/<script/i.test(html), 'no <script> anywhere');
  assert.ok(!/<img/i.test(html), 'no injected <img>');
  assert.ok(!/<b>/.test(html), 'no injected markup from ids');
  assert.ok(html.includes('Run &lt;script&gt;alert(1)&lt;/script&gt; &amp; more'));
  assert.ok(html.includes('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'));
  assert.ok(!/(src|href)=["']?(https?:)?\/\//i.test(html), 'no external assets');
  assert.match(html, /<svg[^>]*>[\s\S]*<polyline class="prec" points="[\d., ]+"[^>]*\/>[\s\S]*<\/svg>/);
  assert.match(html, /<polyline class="fsr"/);
  assert.match(html, /<circle class="op" cx="[\d.]+" cy="[\d.]+"/);
  // Metric values and the mistakes table (most confident mistake first).
  // fixture + one more false suggestion: recall@1 2/4, precision 1/4, false-suggestion rate 2/3.
  assert.match(html, /Recall@1 \(in catalog\)<\/th><td class="n">50\.0%</);
  assert.match(html, /Precision \(shown item suggestions that are right\)<\/th><td class="n">25\.0%</);
  assert.match(html, /False-suggestion rate \(out of catalog with an item suggestion\)<\/th><td class="n">66\.7%</);
  assert.match(html, /<th scope="row">total<\/th><td class="n">35\.00<\/td>/);
  const mistakesAt = html.indexOf('Worst mistakes');
  assert.ok(mistakesAt > 0);
  const body = html.slice(mistakesAt);
  assert.ok(body.indexOf('onerror') < body.indexOf('q2.jpg') && body.indexOf('q2.jpg') < body.indexOf('q4.jpg'));
  assert.ok(body.includes('not in catalog') && body.includes('wrong item'));
  assert.ok(!body.includes('q1.jpg'), 'right suggestions are not mistakes');

  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  // Renders with nothing but defaults, and with an empty curve.
  const bare = renderReport({});
  assert.match(bare, /<svg/);
  assert.match(bare, /no data/);
});

// Per-category records: confidence = score1, candidate = the top-1 id (right when it equals
// expected), category = the top-1's.
const catRec = (category, expected, score1) => ({
  expected, top: [{ id: expected ?? `other-${category}`, category }], features: { score1 },
});
const FRUIT = [catRec('Fruit', 'f1', 0.9), catRec('Fruit', 'f2', 0.8), catRec('Fruit', 'f3', 0.7), catRec('Fruit', 'f4', 0.6),
  catRec('Fruit', null, 0.65), catRec('Fruit', null, 0.5), catRec('Fruit', null, 0.4)];
const MILK = [catRec('Milk', 'm1', 0.55), catRec('Milk', 'm2', 0.5), catRec('Milk', 'm3', 0.45), catRec('Milk', 'm4', 0.3),
  catRec('Milk', null, 0.35), catRec('Milk', null, 0.2), catRec('Milk', null, 0.1)];

test('operatingPoint: the figures of one threshold', () => {
  const p = operatingPoint(FRUIT, 0.65);
  assert.deepEqual(p, { threshold: 0.65, coverage: 3 / 4, precision: 3 / 4, false_suggestion_rate: 1 / 3,
    in_catalog: 4, out_of_catalog: 3, shown_in: 3, shown_out: 1, right: 3 });
  assert.equal(operatingPoint(FRUIT, Infinity).coverage, 0);
  assert.equal(operatingPoint([], 0.5).coverage, null);
});

test('categoryMinimums: enough out-of-catalog queries for one false suggestion to fit the target', () => {
  assert.deepEqual(categoryMinimums(0.02), { minInCatalog: 20, minOutOfCatalog: 50 });
  assert.deepEqual(categoryMinimums(0.1), { minInCatalog: 20, minOutOfCatalog: 20 });
  assert.deepEqual(categoryMinimums(0.02, { minInCatalog: 3, minOutOfCatalog: 4 }), { minInCatalog: 3, minOutOfCatalog: 4 });
});

test('calibrateByCategory: own thresholds where there is enough data, a global one that keeps the rest in check', () => {
  const rare = [catRec('Rare', 'r1', 0.95), catRec('Rare', null, 0.85)];
  const c = calibrateByCategory([...FRUIT, ...MILK, ...rare], { maxFalseRate: 0, minInCatalog: 3, minOutOfCatalog: 3 });
  // Fruit alone: 0.9, 0.8, 0.7 shown before its first null (0.65); Milk: 0.55, 0.5, 0.45 before 0.35.
  assert.deepEqual(Object.keys(c.by_category), ['Fruit', 'Milk']);
  assert.equal(c.by_category.Fruit.threshold, 0.7);
  assert.equal(c.by_category.Fruit.coverage, 3 / 4);
  assert.equal(c.by_category.Milk.threshold, 0.45);
  assert.deepEqual([c.by_category.Milk.in_catalog, c.by_category.Milk.out_of_catalog], [4, 3]);
  // One threshold for all: 0.95 and 0.9 before Rare's null at 0.85. The rest (Rare: 1 + 1)
  // alone would need 0.95: the higher of the two is the global threshold.
  assert.deepEqual(c.global_only, { threshold: 0.9, coverage: 2 / 9, precision: 1, false_suggestion_rate: 0 });
  assert.equal(c.threshold, 0.95);
  assert.equal(c.coverage, 7 / 9);            // 3 Fruit + 3 Milk + r1, of 4 + 4 + 1
  assert.equal(c.false_suggestion_rate, 0);
  assert.equal(c.dropped, null);
  assert.deepEqual(c.categories.map((r) => [r.category, r.own, r.in_catalog, r.out_of_catalog, r.threshold, r.coverage]),
    [['Fruit', true, 4, 3, 0.7, 0.75], ['Milk', true, 4, 3, 0.45, 0.75], ['Rare', false, 1, 1, 0.95, 1]]);
  // Too little data everywhere: the single global threshold, no own ones.
  const thin = calibrateByCategory([...FRUIT, ...MILK, ...rare], { maxFalseRate: 0, minInCatalog: 5, minOutOfCatalog: 3 });
  assert.deepEqual(thin.by_category, {});
  assert.equal(thin.threshold, 0.9);
  assert.ok(thin.categories.every((r) => !r.own && r.threshold === 0.9));
  // Records without a category are counted in the rest, never in a table row.
  const none = calibrateByCategory([...FRUIT, { expected: 'z', top: [{ id: 'z' }], features: { score1: 0.99 } }],
    { maxFalseRate: 0, minInCatalog: 3, minOutOfCatalog: 3 });
  assert.deepEqual(none.categories.map((r) => r.category), ['Fruit']);
  // The rest (z) has no nulls to calibrate on: the global threshold is the all-queries one, 0.7.
  assert.equal(none.threshold, 0.7);
  assert.equal(none.coverage, 4 / 5);  // z and Fruit's 3
});

test('calibrateByCategory: falls back to one threshold when the combination would exceed the target', () => {
  // Rare has only nulls, and they are the most confident queries: one threshold spends the whole
  // budget (2 of 8 at <= 1/3) on them, and Fruit and Milk would each add one more of their own.
  const rare = [catRec('Rare', null, 0.99), catRec('Rare', null, 0.98)];
  const c = calibrateByCategory([...FRUIT, ...MILK, ...rare], { maxFalseRate: 1 / 3, minInCatalog: 3, minOutOfCatalog: 3 });
  assert.match(c.dropped, /above 0\.333/);
  assert.deepEqual(c.by_category, {});
  assert.equal(c.threshold, 0.7);
  assert.equal(c.threshold, c.global_only.threshold);
  assert.equal(c.false_suggestion_rate, 2 / 8);
  assert.ok(c.categories.every((r) => !r.own));
});

test('calibrateCategoryMargin: the lowest margin whose clear-leader suggestions stay right enough', () => {
  // Leader (category X unless given) and runner-up (category Y): margin = a - b.
  const q = (margin, expectedCategory, category = 'X') => ({
    expectedCategory, top: [{ id: 'a', category, score: 0.8 }, { id: 'b', category: 'Y', score: 0.8 - margin }],
  });
  const records = [q(0.30, 'X'), q(0.25, 'X'), q(0.20, 'X'), q(0.15, null), q(0.10, 'X'), q(0.05, 'X'),
    { expectedCategory: 'X', top: [{ id: 'a', category: 'X', score: 0.9 }, { id: 'c', category: 'X', score: 0.1 }] },  // agreement: not this path
    { expectedCategory: 'X', top: [{ id: 'a', category: 'X', score: 0.9 }] }];  // no runner-up
  // 0% wrong allowed: stops before the out-of-catalog query at 0.15.
  const strict = calibrateCategoryMargin(records, { maxFalseRate: 0 });
  assert.deepEqual({ ...strict, margin: undefined }, { margin: undefined, shown: 3, right: 3, eligible: 6 });
  assert.ok(Math.abs(strict.margin - 0.2) < 1e-9);
  // 25% allowed: 1 wrong of 4 at 0.15 is fine, and the rest are right.
  const lenient = calibrateCategoryMargin(records, { maxFalseRate: 0.25 });
  assert.equal(lenient.shown, 6);
  assert.ok(Math.abs(lenient.margin - 0.05) < 1e-9);
  // The widest margin wrong (a leader from another category than the query's): never.
  assert.equal(calibrateCategoryMargin([q(0.3, 'Z'), q(0.2, 'X')], { maxFalseRate: 0.02 }).margin, Infinity);
  // Only eligible records count (e.g. those an item suggestion already answered are not).
  const some = calibrateCategoryMargin(records, { maxFalseRate: 0, eligible: (r) => r.top[0].score - r.top[1].score < 0.12 });
  assert.equal(some.eligible, 2);
  assert.ok(Math.abs(some.margin - 0.05) < 1e-9);
  assert.deepEqual(calibrateCategoryMargin([], {}), { margin: Infinity, shown: 0, right: 0, eligible: 0 });
  assert.throws(() => calibrateCategoryMargin(records, { maxFalseRate: 2 }), RangeError);
});

test('renderReport: per-category tables, thin categories marked as on the global threshold', () => {
  const c = calibrateByCategory([...FRUIT, ...MILK, catRec('<Rare>', 'r1', 0.95), catRec('<Rare>', null, 0.85)],
    { maxFalseRate: 0, minInCatalog: 3, minOutOfCatalog: 3 });
  const html = renderReport({ perCategory: [{ title: 'Item thresholds', rows: c.categories, minInCatalog: 3, minOutOfCatalog: 3,
    global: c.threshold, globalOnly: c.global_only, dropped: c.dropped }] });
  assert.match(html, /<h2>Per category<\/h2>/);
  assert.match(html, /<td>Fruit<\/td><td class="n">4<\/td><td class="n">3<\/td><td class="n">0\.7000<\/td><td class="n">75\.0%<\/td>/);
  assert.match(html, /<td>&lt;Rare&gt;<\/td>.*global threshold: too little data \(0\.9500\)/);
  assert.ok(!html.includes('<Rare>'));
  assert.match(html, /at least 3 in-catalog and 3 out-of-catalog/);
  assert.ok(!renderReport({}).includes('Per category'));
});
