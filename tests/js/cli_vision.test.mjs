// `shopframe catalog build` from images, `analyze` and `eval`, with the real default models
// (SHOPFRAME_MODELS or ../shared/models) on a few Grocery Store Dataset photos
// (../shared/data/grocery or SHOPFRAME_GROCERY). Missing data is a failure, not a skip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'shopframe.mjs');
const GROCERY = process.env.SHOPFRAME_GROCERY ?? resolve(ROOT, '..', 'shared', 'data', 'grocery');
const dir = mkdtempSync(join(tmpdir(), 'shopframe-vision-cli-'));
const env = { ...process.env, SHOPFRAME_CACHE: join(dir, 'cache') };

function run(...args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// Four products, four train photos each; queries are their val photos.
const PRODUCTS = [
  ['Granny-Smith', 'Fruit/Apple/Granny-Smith'], ['Banana', 'Fruit/Banana'],
  ['Arla-Standard-Milk', 'Packages/Milk/Arla-Standard-Milk'], ['Red-Bell-Pepper', 'Vegetables/Pepper/Red-Bell-Pepper'],
];
const photo = (split, path, i) => join(GROCERY, split, path, `${path.split('/').pop()}_${String(i).padStart(3, '0')}.jpg`);

test('the grocery data is present', () => {
  assert.ok(existsSync(join(GROCERY, 'classes.csv')), `no Grocery Store Dataset at ${GROCERY} (set SHOPFRAME_GROCERY)`);
});

const catalog = join(dir, 'shop.jsonl');
writeFileSync(catalog, PRODUCTS.map(([id, path]) => JSON.stringify({
  id, title: id.replace(/-/g, ' '), category: path.split('/').slice(0, -1).join('/') || 'Misc',
  images: [1, 2, 3, 4].map((i) => photo('train', path, i)),
})).join('\n') + '\n');
const index = join(dir, 'shop.sfi');

test('catalog build embeds images, caches embeddings, records the embedder', () => {
  const r = run('catalog', 'build', catalog, '-o', index, '--quantizer', 'flat', '--json');
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.equal(s.products, 4);
  assert.equal(s.images, 16);
  assert.equal(s.items, 32);  // whole image + centre crop per image
  assert.equal(s.dim, 1280);
  assert.equal(s.images_embedded, 16);
  const again = JSON.parse(run('catalog', 'build', catalog, '-o', index, '--quantizer', 'flat', '--json').out);
  assert.equal(again.images_embedded, 0);
  assert.equal(again.images_cached, 16);
  const info = JSON.parse(run('catalog', 'inspect', index, '--json').out);
  assert.ok(info.sections.some((x) => x.kind === 'CONF'));
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), []);
});

test('analyze --json: one line per image, the right product ranked first', () => {
  const images = PRODUCTS.map(([, path]) => photo('val', path, 1));
  const r = run('analyze', ...images, '--catalog', index, '--json');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 4);
  let right = 0;
  lines.forEach((l, i) => {
    assert.equal(l.source, images[i]);
    assert.ok(l.width > 0 && l.height > 0);
    assert.equal(l.top.length, 4);  // k = 5, but only 4 products
    assert.equal(new Set(l.top.map((m) => m.id)).size, l.top.length);
    assert.ok(l.regions.length >= 2 && l.regions.length <= 4);
    assert.deepEqual(l.regions[0].box, [0, 0, l.width, l.height]);
    for (const k of ['detect', 'embed', 'search', 'total']) assert.ok(l.timings_ms[k] >= 0, k);
    assert.ok(l.suggestion === null || ['item', 'category'].includes(l.suggestion.kind));
    right += l.top[0].id === PRODUCTS[i][0];
  });
  assert.ok(right >= 3, `${right} of 4 ranked first`);
  const text = run('analyze', images[0], '--catalog', index);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /Granny-Smith/);
});

test('analyze reports a corrupt image and goes on with the next', () => {
  const bad = join(dir, 'bad.jpg');
  writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
  const r = run('analyze', bad, photo('val', PRODUCTS[1][1], 1), '--catalog', index, '--json');
  assert.equal(r.code, 1);
  const [first, second] = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(first.source, bad);
  assert.match(first.error.message, /bad\.jpg/);
  assert.equal(second.top[0].id, 'Banana');
});

test('eval prints the metrics and writes an HTML report', () => {
  const labeled = join(dir, 'q.jsonl');
  writeFileSync(labeled, [
    ...PRODUCTS.map(([id, path]) => ({ image: photo('val', path, 2), expected: id })),
    { image: photo('val', 'Fruit/Apple/Pink-Lady', 1), expected: null },
  ].map((q) => JSON.stringify(q)).join('\n') + '\n');
  const report = join(dir, 'report.html');
  const r = run('eval', '--catalog', index, '--labeled', labeled, '--report', report);
  assert.equal(r.code, 0, r.err);
  const m = JSON.parse(r.out);
  for (const k of ['recall_at_1', 'recall_at_5', 'coverage', 'precision', 'false_suggestion_rate']) assert.ok(k in m, k);
  assert.equal(m.in_catalog, 4);
  assert.equal(m.out_of_catalog, 1);
  assert.equal(m.recall_at_5, 1);
  assert.ok(m.recall_at_1 >= 0.75);
  assert.ok(m.timings_ms.embed.mean > 0);
  const html = readFileSync(report, 'utf8');
  assert.match(html, /<svg/);
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"image": "x.jpg", "expected": 3}\n');
  const e = run('eval', '--catalog', index, '--labeled', bad);
  assert.equal(e.code, 1);
  assert.match(e.err, /bad\.jsonl:1: field 'expected'/);
});

test('calibrate stores thresholds from labeled photos in the index, atomically', async () => {
  const labeled = join(dir, 'cal.jsonl');
  writeFileSync(labeled, [
    ...PRODUCTS.map(([id, path]) => ({ image: photo('val', path, 3), expected: id })),
    ...PRODUCTS.map(([id, path]) => ({ image: photo('val', path, 4), expected: id })),
    { image: photo('val', 'Fruit/Apple/Pink-Lady', 2), expected: null },
    { image: photo('val', 'Packages/Milk/Arla-Medium-Fat-Milk', 1), expected: null },
  ].map((q) => JSON.stringify(q)).join('\n') + '\n');
  const out = join(dir, 'calibrated.sfi');
  const r = run('calibrate', '--catalog', index, '--labeled', labeled, '-o', out);
  assert.equal(r.code, 0, r.err);
  const c = JSON.parse(r.out);
  assert.equal(c.queries, 10);
  assert.equal(c.out_of_catalog, 2);
  assert.ok('threshold' in c.item && 'score_threshold' in c.item && Array.isArray(c.item.model.weights));
  const { loadIndex } = await import('../../js/shopframe.mjs');
  const before = await loadIndex(new Uint8Array(readFileSync(index)));
  const after = await loadIndex(new Uint8Array(readFileSync(out)));
  assert.deepEqual(after.config().calibration.item.model, c.item.model);
  assert.equal(after.config().embedder.sha256, before.config().embedder.sha256);
  assert.equal(after.size, before.size);
  before.close(), after.close();
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), []);
  // Without out-of-catalog queries the false-suggestion rate cannot be measured: refused.
  const only = join(dir, 'only.jsonl');
  writeFileSync(only, JSON.stringify({ image: photo('val', PRODUCTS[0][1], 3), expected: PRODUCTS[0][0] }) + '\n');
  const e = run('calibrate', '--catalog', index, '--labeled', only, '-o', join(dir, 'x.sfi'));
  assert.equal(e.code, 1);
  assert.match(e.err, /no queries with "expected": null/);
});
