// The JS API (loadIndex / search / info / buildIndex) in node.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { allocIndexBuffer, buildIndex, coreMemoryBytes, buildIndexFromCatalog, loadIndex, ShopframeError, simdName } from '../../js/shopframe.mjs';
import { catalogLines, clusteredVectors, exactTopK } from './helpers.mjs';

test('the WASM core runs its SIMD128 kernels', async () => {
  assert.equal(await simdName(), 'wasm128');
});

test('buildIndex + loadIndex + search match exact search for flat and sq8', async () => {
  const dim = 24, n = 600;
  const vectors = clusteredVectors(n, dim, 12, 5);
  for (const [quantizer, minRecall] of [['flat', 1], ['sq8', 0.75], ['ivf16,sq8', 0.7], ['ivf16,pq8,rr:sq8', 0.7]]) {
    const bytes = await buildIndex({ vectors, dim, quantizer });
    const index = await loadIndex(bytes);
    assert.equal(index.info().quantizer, quantizer);
    assert.equal(index.size, n);
    let found = 0;
    for (let q = 0; q < 20; ++q) {
      const query = vectors.subarray(q * 7 * dim, (q * 7 + 1) * dim);
      const truth = new Set(exactTopK(vectors, dim, query, 10));
      const hits = index.search(query, { k: 10 });
      assert.equal(hits.length, 10);
      for (let i = 1; i < hits.length; ++i) assert.ok(hits[i - 1].score >= hits[i].score);
      for (const h of hits) found += truth.has(h.item) ? 1 : 0;
    }
    assert.ok(found / 200 >= minRecall, `${quantizer}: recall ${found / 200}`);
    index.close();
  }
});

test('results carry product metadata, and filters apply', async () => {
  const { lines, vectors } = catalogLines(40, 16);
  const built = await buildIndexFromCatalog(lines.join('\n'), { quantizer: 'flat', recallSample: 20 });
  assert.equal(built.items, 40);
  assert.equal(built.dim, 16);
  assert.equal(built.recall, 1);
  const index = await loadIndex(built.bytes);
  const [top] = index.search(vectors.subarray(5 * 16, 6 * 16), { k: 1 });
  assert.deepEqual(Object.keys(top).sort(), ['category', 'currency', 'id', 'image', 'item', 'price', 'score', 'title', 'url']);
  assert.equal(top.id, 'sku-5');
  assert.equal(top.title, 'Product 5 \u00e9');
  assert.equal(top.category, 'Fruit/Pear');
  assert.equal(top.price, 1);
  assert.equal(top.currency, 'EUR');
  assert.equal(top.url, 'https://shop.example/p/5');
  assert.equal(top.image, 'img/5.jpg');
  assert.ok(Math.abs(top.score - 1) < 1e-5);

  const fruit = index.search(vectors.subarray(0, 16), { k: 40, category: 'Fruit' });
  assert.equal(fruit.length, 20);
  assert.ok(fruit.every((h) => h.category.startsWith('Fruit/')));
  const high = index.search(vectors.subarray(0, 16), { k: 40, minScore: 0.9 });
  assert.ok(high.length >= 1 && high.every((h) => h.score >= 0.9));
  assert.throws(() => index.search(vectors.subarray(0, 16), { category: 'Toys' }), { code: 'not_found' });

  // Results are the caller's: changing one does not change what the next search returns.
  top.title = 'changed';
  top.id = 'other';
  const [again] = index.search(vectors.subarray(5 * 16, 6 * 16), { k: 1 });
  assert.equal(again.title, 'Product 5 \u00e9');
  assert.equal(again.id, 'sku-5');
  assert.notEqual(again, top);
  index.close();
});

test('bad input gets a ShopframeError with a code, never a crash', async () => {
  const { lines } = catalogLines(10, 8);
  const { bytes } = await buildIndexFromCatalog(lines.join('\n'), { quantizer: 'sq8' });
  const index = await loadIndex(bytes);
  assert.throws(() => index.search(new Float32Array(7)), (e) => e instanceof ShopframeError && e.code === 'invalid_argument' && /7 dimensions/.test(e.message));
  assert.throws(() => index.search(new Float32Array(8)), { code: 'invalid_argument' });  // zero vector
  assert.throws(() => index.search(new Float32Array(8).fill(NaN)), /not finite/);
  assert.throws(() => index.search(new Float32Array(8).fill(1), { k: -1 }), { code: 'invalid_argument' });
  index.close();
  assert.throws(() => index.search(new Float32Array(8).fill(1)), /closed/);

  await assert.rejects(loadIndex(bytes.subarray(0, 50)), { code: 'truncated' });
  const flipped = bytes.slice();
  flipped[flipped.length - 100] ^= 0xff;
  await assert.rejects(loadIndex(flipped), (e) => e.code === 'corrupt' && /section \w{4}/.test(e.message));
  await assert.rejects(loadIndex(new TextEncoder().encode('{"not": "an index"}'.repeat(10))), { code: 'corrupt' });
  await assert.rejects(loadIndex('nope'), { code: 'invalid_argument' });

  await assert.rejects(buildIndexFromCatalog('{"id": "a", "title": "t", "category": "C", "embedding": [1, 2]}\n{"id": "a"', {}),
    (e) => e.code === 'parse_error' && /catalog\.jsonl:2/.test(e.message));
  await assert.rejects(buildIndex({ vectors: new Float32Array(8), dim: 3 }), { code: 'invalid_argument' });
  await assert.rejects(buildIndex({ vectors: new Float32Array(16).fill(1), dim: 8, quantizer: 'bogus' }), { code: 'parse_error' });
});

test('an index filled in WASM memory is opened without a copy', async () => {
  const vectors = clusteredVectors(50, 8, 4, 9);
  const bytes = await buildIndex({ vectors, dim: 8, quantizer: 'flat' });
  const inPlace = await allocIndexBuffer(bytes.length);
  inPlace.set(bytes);
  const index = await loadIndex(inPlace);
  assert.equal(index.search(vectors.subarray(0, 8), { k: 1 })[0].item, 0);
  index.close();
});

test('the same index searched in a loop does not grow memory', async () => {
  const vectors = clusteredVectors(2000, 64, 4, 2);
  const bytes = await buildIndex({ vectors, dim: 64, quantizer: 'flat' });
  const round = async () => {
    const index = await loadIndex(bytes);
    for (let q = 0; q < 20; ++q) index.search(vectors.subarray(q * 64, (q + 1) * 64), { k: 5 });
    index.close();
  };
  for (let i = 0; i < 5; ++i) await round();
  const before = await coreMemoryBytes();
  // 100 open/search/close cycles of a ~520 KB index: leaking the index buffer would
  // need ~52 MB, more than the heap has spare, so the memory would have to grow.
  for (let i = 0; i < 100; ++i) await round();
  assert.equal(await coreMemoryBytes(), before);
});

test('an index larger than WASM memory can hold is an out_of_memory error, and the core keeps working', async () => {
  // The build caps WASM memory at 2 GB (wasm/CMakeLists.txt, ABORTING_MALLOC=0): asking for
  // 3 GB must fail cleanly instead of aborting the module.
  await assert.rejects(allocIndexBuffer(3e9), (e) => e instanceof ShopframeError && e.code === 'out_of_memory' && /WASM memory/.test(e.message));
  const bytes = await buildIndex({ vectors: Float32Array.from({ length: 64 * 8 }, (_, i) => Math.sin(i)), dim: 8 });
  const index = await loadIndex(bytes);
  try {
    assert.equal(index.size, 64);
  } finally {
    index.close();
  }
});
