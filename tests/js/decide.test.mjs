// Fusion of region matches and the suggest-or-abstain policy (js/decide.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createPolicy, fuseMatches, leadingCategory, matchFeatures } from '../../js/decide.mjs';

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
