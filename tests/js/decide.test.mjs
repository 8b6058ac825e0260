// Fusion of region matches and the suggest-or-abstain policy (js/decide.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { categoryThreshold, clearLeaderCategory, createPolicy, fuseMatches, leadingCategory, matchFeatures } from '../../js/decide.mjs';

const m = (id, score, category = 'C') => ({ id, score, category, title: id });

test('fuseMatches: mean over regions, a missing product counts with the region floor', () => {
  const fused = fuseMatches([
    [m('a', 0.9), m('b', 0.5), m('c', 0.2)],
    [m('b', 0.8), m('a', 0.3), m('c', 0.1)],
    [m('b', 0.7), m('d', 0.6)],  // a and c absent: floor 0.6
  ], 5);
  const byId = Object.fromEntries(fused.map((x) => [x.id, x.score]));
  assert.ok(Math.abs(byId.a - (0.9 + 0.3 + 0.6) / 3) < 1e-12);
  assert.ok(Math.abs(byId.b - (0.5 + 0.8 + 0.7) / 3) < 1e-12);
  assert.ok(Math.abs(byId.d - (0.2 + 0.1 + 0.6) / 3) < 1e-12);  // floors of the lists without d
  assert.deepEqual(fused.map((x) => x.id), ['b', 'a', 'c', 'd'].sort((x, y) => byId[y] - byId[x]));
  assert.equal(fuseMatches([[m('a', 1)], [m('b', 0.5)]], 1).length, 1);
  assert.deepEqual(fuseMatches([[], []]), []);
  // Deterministic ties: by id.
  assert.deepEqual(fuseMatches([[m('y', 0.5), m('x', 0.5)]]).map((x) => x.id), ['x', 'y']);
});

test('matchFeatures and leadingCategory', () => {
  assert.deepEqual(matchFeatures([m('a', 0.9), m('b', 0.6)]), { score1: 0.9, score2: 0.6, margin: 0.9 - 0.6 });
  assert.deepEqual(matchFeatures([m('a', 0.9)]), { score1: 0.9, score2: -1, margin: 1.9 });
  assert.equal(leadingCategory([m('a', 0.9, 'Fruit/Apple'), m('b', 0.8, 'Fruit/Apple')]), 'Fruit/Apple');
  assert.equal(leadingCategory([m('a', 0.9, 'Fruit/Apple'), m('b', 0.8, 'Fruit/Pear')]), null);
  assert.equal(leadingCategory([m('a', 0.9)]), null);
});

test('createPolicy: uncalibrated abstains; item, then category, then nothing', () => {
  const none = createPolicy(null);
  assert.equal(none.calibrated, false);
  assert.equal(none.decide([m('a', 0.99), m('b', 0.1)]), null);
  const p = createPolicy({ item: { threshold: 0.8 }, category: { threshold: 0.5 } });
  assert.equal(p.calibrated, true);
  assert.deepEqual(p.decide([m('a', 0.85, 'X'), m('b', 0.2, 'Y')]), { id: 'a', kind: 'item', confidence: 0.85, title: 'a' });
  assert.deepEqual(p.decide([m('a', 0.6, 'X'), m('b', 0.55, 'X')]), { id: 'X', kind: 'category', confidence: 0.6 });
  assert.equal(p.decide([m('a', 0.6, 'X'), m('b', 0.55, 'Y')]), null);
  assert.equal(p.decide([m('a', 0.4, 'X'), m('b', 0.3, 'X')]), null);
  assert.equal(p.decide([]), null);
  // JSON turns an unreachable threshold (Infinity) into null: still "never".
  const never = createPolicy(JSON.parse(JSON.stringify({ item: { threshold: Infinity } })));
  assert.equal(never.decide([m('a', 1), m('b', -1)]), null);
  // A logistic confidence model stored with the calibration.
  const lm = createPolicy({ item: { threshold: 0.5, model: { features: ['margin'], weights: [10], bias: -2 } } });
  assert.equal(lm.decide([m('a', 0.9), m('b', 0.5)]).kind, 'item');   // sigmoid(10*0.4-2) > 0.5
  assert.equal(lm.decide([m('a', 0.9), m('b', 0.85)]), null);        // sigmoid(0.5-2) < 0.5
});

test('clearLeaderCategory and the calibrated margin: a leader clear of another category names its own', () => {
  const mushroom = [m('brown-cap', 0.77, 'Vegetables/Mushroom'), m('sweet-potato', 0.62, 'Vegetables/Potato'), m('beet', 0.56, 'Vegetables')];
  assert.equal(clearLeaderCategory(mushroom, 0.1), 'Vegetables/Mushroom');
  assert.equal(clearLeaderCategory(mushroom, 0.2), null);        // leads by 0.15 only
  assert.equal(clearLeaderCategory(mushroom, Infinity), null);
  // Agreement is leadingCategory's case, not this one; no category or one match: nothing.
  assert.equal(clearLeaderCategory([m('a', 0.9, 'X'), m('b', 0.1, 'X')], 0), null);
  assert.equal(clearLeaderCategory([m('a', 0.9, null), m('b', 0.1, 'Y')], 0), null);
  assert.equal(clearLeaderCategory([m('a', 0.9, 'X')], 0), null);

  const p = createPolicy(JSON.parse(JSON.stringify({ item: { threshold: 0.9 }, category: { threshold: 0.7, margin: 0.1 } })));
  assert.deepEqual(p.decide(mushroom), { id: 'Vegetables/Mushroom', kind: 'category', confidence: 0.77 });
  assert.equal(p.decide([m('a', 0.77, 'X'), m('b', 0.72, 'Y')]), null);  // not clear
  assert.equal(p.decide([m('a', 0.65, 'X'), m('b', 0.3, 'Y')]), null);   // clear, under the category threshold
  // Older indexes have no margin (and JSON writes an unreachable one as null): majorities only.
  // A margin that is not a number >= 0 (a crafted index) would pass every leader: never instead.
  for (const category of [{ threshold: 0.7 }, JSON.parse(JSON.stringify({ threshold: 0.7, margin: Infinity })),
    { threshold: 0.7, margin: -0.5 }, { threshold: 0.7, margin: '0.1' }, { threshold: 0.7, margin: NaN }]) {
    assert.equal(createPolicy({ item: { threshold: 0.9 }, category }).decide(mushroom), null);
  }
});

test('createPolicy: per-category thresholds replace the global ones for that category', () => {
  const p = createPolicy(JSON.parse(JSON.stringify({
    item: { threshold: 0.8, by_category: { Strict: { threshold: 0.95 }, Lenient: { threshold: 0.6 }, Never: { threshold: Infinity } } },
    category: { threshold: 0.5, by_category: { Strict: { threshold: 0.9 } } },
  })));
  assert.equal(p.calibrated, true);
  // The item's category decides which item threshold applies.
  assert.equal(p.decide([m('a', 0.85, 'Other'), m('b', 0.1, 'Y')]).kind, 'item');   // global 0.8
  assert.equal(p.decide([m('a', 0.85, 'Strict'), m('b', 0.1, 'Y')]), null);         // 0.95
  assert.equal(p.decide([m('a', 0.65, 'Lenient'), m('b', 0.1, 'Y')]).kind, 'item');  // 0.6
  assert.equal(p.decide([m('a', 0.99, 'Never'), m('b', 0.1, 'Y')]), null);          // stored null: never
  // The leading category decides which category threshold applies.
  assert.deepEqual(p.decide([m('a', 0.6, 'Other'), m('b', 0.55, 'Other')]), { id: 'Other', kind: 'category', confidence: 0.6 });
  assert.equal(p.decide([m('a', 0.85, 'Strict'), m('b', 0.84, 'Strict')]), null);   // item 0.95, category 0.9
  assert.equal(p.decide([m('a', 0.92, 'Strict'), m('b', 0.9, 'Strict')]).kind, 'category');
  // Only per-category thresholds: calibrated, and nothing outside them.
  const only = createPolicy({ item: { by_category: { X: { threshold: 0.5 } } } });
  assert.equal(only.calibrated, true);
  assert.equal(only.decide([m('a', 0.6, 'X'), m('b', 0.1, 'Y')]).kind, 'item');
  assert.equal(only.decide([m('a', 0.99, 'Y'), m('b', 0.1, 'Y')]), null);
  // Category names that are Object.prototype keys are only looked up as own entries.
  assert.equal(createPolicy({ item: { threshold: 0.8 } }).decide([m('a', 0.9, 'constructor'), m('b', 0.1)]).kind, 'item');
});

test('categoryThreshold: own entries only, stored null is never, missing field falls back', () => {
  const part = { by_category: { A: { threshold: 0.7, score_threshold: null }, B: { score_threshold: 0.4 } } };
  assert.equal(categoryThreshold(part, 'A', 'threshold', 0.5), 0.7);
  assert.equal(categoryThreshold(part, 'A', 'score_threshold', 0.5), Infinity);
  assert.equal(categoryThreshold(part, 'B', 'threshold', 0.5), 0.5);
  assert.equal(categoryThreshold(part, 'toString', 'threshold', 0.5), 0.5);
  assert.equal(categoryThreshold(null, 'A', 'threshold', 0.5), 0.5);
  assert.equal(categoryThreshold(part, null, 'threshold', 0.5), 0.5);
});
