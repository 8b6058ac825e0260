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
  const r = run('catalog', 'build', catalog, '-o', index, '--quantizer', 'flat', '--json', '--threads', '1');
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.equal(s.products, 4);
  assert.equal(s.images, 16);
  assert.equal(s.items, 32);  // whole image + centre crop per image
  assert.equal(s.dim, 3152);  // models/mobilenetv2-f32-multiscale.json
  assert.equal(s.images_embedded, 16);
  const again = JSON.parse(run('catalog', 'build', catalog, '-o', index, '--quantizer', 'flat', '--json').out);
  assert.equal(again.images_embedded, 0);
  assert.equal(again.images_cached, 16);
  const info = JSON.parse(run('catalog', 'inspect', index, '--json').out);
  assert.ok(info.sections.some((x) => x.kind === 'CONF'));
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), []);
});

test('ONNX Runtime threads change nothing but the time: catalog build and analyze with 1 and 2 threads', () => {
  // A second cache, so the 2-thread build embeds every image again instead of reading them.
  const env2 = { ...env, SHOPFRAME_CACHE: join(dir, 'cache-threads') };
  const index2 = join(dir, 'shop-2threads.sfi');
  const built = spawnSync(process.execPath, [BIN, 'catalog', 'build', catalog, '-o', index2, '--quantizer', 'flat', '--json', '--threads', '2'],
    { encoding: 'utf8', env: env2 });
  assert.equal(built.status, 0, built.stderr);
  assert.equal(JSON.parse(built.stdout).images_embedded, 16);
  // Every section the same (the header differs only in its build time).
  const sections = (file) => JSON.parse(run('catalog', 'inspect', file, '--json').out).sections.map(({ kind, bytes, crc32 }) => ({ kind, bytes, crc32 }));
  assert.deepEqual(sections(index2), sections(index));
  const images = PRODUCTS.map(([, path]) => photo('val', path, 2));
  const answers = (threads) => {
    const r = run('analyze', ...images, '--catalog', index, '--json', '--threads', threads);
    assert.equal(r.code, 0, r.err);
    return r.out.trim().split('\n').map((l) => ({ ...JSON.parse(l), timings_ms: undefined }));
  };
  const one = answers('1');
  assert.equal(one.length, 4);
  assert.deepEqual(answers('2'), one);
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

test('analyze --detector: another region proposer by name (derived on first use); an unknown one is a clear error', () => {
  const banana = photo('val', PRODUCTS[1][1], 1);
  const r = run('analyze', banana, '--catalog', index, '--detector', 'yolox-nano-320', '--json');
  assert.equal(r.code, 0, r.err);
  const l = JSON.parse(r.out);
  assert.ok(l.regions.some((g) => g.label === 'banana'), JSON.stringify(l.regions.map((g) => g.label)));
  assert.equal(l.top[0].id, 'Banana');
  const bad = run('analyze', banana, '--catalog', index, '--detector', 'no-such-detector', '--json');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /no-such-detector/);
});

test('an index built with the 288x288 embedder is analysed at 288x288 without being told; the 224 one is refused', () => {
  const index288 = join(dir, 'shop-288.sfi');
  const b = run('catalog', 'build', catalog, '-o', index288, '--quantizer', 'flat', '--embedder', 'mobilenetv2-f32-multiscale-288', '--json');
  assert.equal(b.code, 0, b.err);
  assert.equal(JSON.parse(b.out).images_embedded, 16);  // another model: nothing from the 224 cache
  const images = PRODUCTS.map(([, path]) => photo('val', path, 1));
  const r = run('analyze', ...images, '--catalog', index288, '--json');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
  const right = lines.filter((l, i) => l.top[0].id === PRODUCTS[i][0]).length;
  assert.ok(right >= 3, `${right} of 4 ranked first`);
  const wrong = run('analyze', images[0], '--catalog', index288, '--embedder', 'mobilenetv2-f32-multiscale', '--json');
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /index was built with embedder mobilenetv2-f32-multiscale-288 .*the engine has mobilenetv2-f32-multiscale \(/);
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
  const recordsPath = join(dir, 'records.jsonl');
  const r = run('eval', '--catalog', index, '--labeled', labeled, '--report', report, '--records', recordsPath);
  assert.equal(r.code, 0, r.err);
  // --records: one line per query, in input order, with what it got.
  const records = readFileSync(recordsPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(records.map((q) => q.expected), [...PRODUCTS.map(([id]) => id), null]);
  assert.ok(records.every((q) => q.top.length > 0 && 'suggestion' in q && q.features.score1 === q.top[0].score));
  assert.equal(records.filter((q, i) => i < PRODUCTS.length && q.top[0].id === q.expected).length / PRODUCTS.length,
    JSON.parse(r.out).recall_at_1);
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

test('an index built with a manifest outside models/ needs that manifest (--embedder) to be analysed', () => {
  // The int8 MobileNetV2 under another name, as a user's own embedder manifest would be.
  const manifest = JSON.parse(readFileSync(join(ROOT, 'models', 'mobilenetv2-feat.json'), 'utf8'));
  const mine = join(dir, 'my-embedder.json');
  writeFileSync(mine, JSON.stringify({ ...manifest, name: 'my-embedder' }));
  const own = join(dir, 'own.sfi');
  const b = run('catalog', 'build', catalog, '-o', own, '--quantizer', 'flat', '--embedder', mine, '--json');
  assert.equal(b.code, 0, b.err);
  const labeled = join(dir, 'q-own.jsonl');
  writeFileSync(labeled, PRODUCTS.map(([id, path]) => JSON.stringify({ image: photo('val', path, 3), expected: id })).join('\n') + '\n');
  const without = run('eval', '--catalog', own, '--labeled', labeled, '--no-detector');
  assert.equal(without.code, 1);
  assert.match(without.err, /index was built with embedder my-embedder .*the engine has mobilenetv2-f32-multiscale/);
  const r = run('eval', '--catalog', own, '--labeled', labeled, '--no-detector', '--embedder', mine);
  assert.equal(r.code, 0, r.err);
  const m = JSON.parse(r.out);
  assert.equal(m.in_catalog, 4);
  assert.equal(m.recall_at_5, 1);
  const a = run('analyze', photo('val', PRODUCTS[1][1], 3), '--catalog', own, '--no-detector', '--embedder', mine, '--json');
  assert.equal(a.code, 0, a.err);
  assert.equal(JSON.parse(a.out).top[0].id, 'Banana');
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
  // Two out-of-catalog photos cannot show a 2% rate: the user is told what they can show.
  assert.match(r.err, /note: 2 out-of-catalog photos: a threshold above all of them still lets through about 1\/3 = 33\.3% of new out-of-catalog photos; showing <= 2% takes at least 49/);
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

test('calibrate: per-category thresholds and video segments, with a report; older index files still load', async () => {
  // Photos: 10 in catalog (3 Granny-Smith, 3 milk, 4 others), 6 not (other apples, other milk).
  const images = [
    ...[3, 4, 5].map((i) => ({ image: photo('val', PRODUCTS[0][1], i), expected: 'Granny-Smith', category: 'Fruit/Apple' })),
    ...[3, 4, 5].map((i) => ({ image: photo('val', PRODUCTS[2][1], i), expected: 'Arla-Standard-Milk', category: 'Packages/Milk' })),
    ...[3, 4].map((i) => ({ image: photo('val', PRODUCTS[1][1], i), expected: 'Banana', category: 'Fruit' })),
    ...[3, 4].map((i) => ({ image: photo('val', PRODUCTS[3][1], i), expected: 'Red-Bell-Pepper', category: 'Vegetables/Pepper' })),
    ...[2, 3].map((i) => ({ image: photo('val', 'Fruit/Apple/Pink-Lady', i), expected: null, category: 'Fruit/Apple' })),
    ...[1, 2].map((i) => ({ image: photo('val', 'Fruit/Apple/Golden-Delicious', i), expected: null, category: 'Fruit/Apple' })),
    ...[1, 2].map((i) => ({ image: photo('val', 'Packages/Milk/Arla-Medium-Fat-Milk', i), expected: null, category: 'Packages/Milk' })),
    // A kind of product the catalog lacks: false category suggestions become measurable.
    { image: photo('val', 'Fruit/Pineapple', 1), expected: null, category: null },
  ];
  // A 9 s video: Banana, then Pink-Lady (not in the catalog), then milk; one segment each.
  const spec = join(dir, 'clip.json');
  writeFileSync(spec, JSON.stringify({ videos: [{ name: 'clip', segments: [
    { id: 'Banana', photo: 1, duration: 3 }, { id: 'Pink-Lady', photo: 1, duration: 3, distractor: true },
    { id: 'Arla-Standard-Milk', photo: 1, duration: 3 },
  ] }] }));
  const made = spawnSync(process.execPath, [join(ROOT, 'tools', 'make-test-videos.mjs'), '--spec', spec, '--out', dir, '--data', GROCERY], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const segments = [
    { video: 'clip.mp4', from: 0, to: 3, expected: 'Banana', category: 'Fruit' },
    { video: 'clip.mp4', from: 3, to: 6, expected: null, category: 'Fruit/Apple' },
    { video: 'clip.mp4', from: 6, to: 9, expected: 'Arla-Standard-Milk', category: 'Packages/Milk' },
  ];
  const labeled = join(dir, 'cal-mixed.jsonl');
  writeFileSync(labeled, [...images, ...segments].map((q) => JSON.stringify(q)).join('\n') + '\n');
  const out = join(dir, 'calibrated-mixed.sfi');
  const report = join(dir, 'calibrate.html');
  const r = run('calibrate', '--catalog', index, '--labeled', labeled, '-o', out, '--report', report,
    '--category-min-in', '2', '--category-min-out', '2');
  assert.equal(r.code, 0, r.err);
  const c = JSON.parse(r.out);

  // Images: every category of a top-1 product is in the table, with its queries; the ones with
  // >= 2 of each kind have their own threshold, which keeps to the target on their queries.
  assert.deepEqual([c.queries, c.in_catalog, c.out_of_catalog], [17, 10, 7]);
  const table = c.item.per_category;
  assert.deepEqual([table.min_in_catalog, table.min_out_of_catalog], [2, 2]);
  assert.equal(table.categories.reduce((a, row) => a + row.in_catalog, 0), 10);
  assert.equal(table.categories.reduce((a, row) => a + row.out_of_catalog, 0), 7);
  for (const row of table.categories) {
    assert.equal(row.own, !table.dropped && row.in_catalog >= 2 && row.out_of_catalog >= 2, JSON.stringify(row));
    if (row.own) assert.ok(row.false_suggestion_rate <= 0.02, JSON.stringify(row));
  }
  const own = table.categories.filter((row) => row.own).map((row) => row.category);
  assert.ok(own.length >= 1, JSON.stringify(table.categories));  // the apples and the milk cartons compete in their category
  assert.deepEqual(Object.keys(c.item.by_category).sort(), own.sort());
  for (const category of own) assert.ok('threshold' in c.item.by_category[category] && 'score_threshold' in c.item.by_category[category]);
  assert.ok(c.item.holdout.false_suggestion_rate <= 0.02);
  // Category thresholds and the clear-leader margin, from the queries that carry categories.
  assert.ok('threshold' in c.category && 'margin' in c.category, JSON.stringify(c.category));
  const clear = c.category.holdout.clear_leader;
  assert.ok(clear.right <= clear.shown && clear.shown <= clear.eligible && clear.eligible <= 17, JSON.stringify(clear));

  // Video: one record per segment, thresholds for the tracker.
  assert.deepEqual([c.video.segments, c.video.in_catalog, c.video.out_of_catalog, c.video.fps], [3, 2, 1, 2]);
  assert.ok(c.video.samples >= 18, `samples ${c.video.samples}`);
  assert.ok('threshold' in c.video.item && c.video.item.per_category.categories.length >= 1);
  assert.ok(c.video.item.holdout.false_suggestion_rate <= 0.02);

  // The engine side reads them: image policy per category, tracker options from the video part.
  const { loadIndex } = await import('../../js/shopframe.mjs');
  const { trackOptionsFrom } = await import('../../js/video.mjs');
  const after = await loadIndex(new Uint8Array(readFileSync(out)));
  const stored = after.config().calibration;
  assert.deepEqual(stored.item.by_category, JSON.parse(JSON.stringify(c.item.by_category)));
  assert.equal(trackOptionsFrom(stored).itemThreshold, Number.isFinite(c.video.item.threshold) ? c.video.item.threshold : null);
  assert.equal(after.info().version, 2);
  after.close();

  const html = readFileSync(report, 'utf8');
  assert.match(html, /<h2>Per category<\/h2>/);
  assert.match(html, /Video \(tracker\) item thresholds/);
  assert.match(html, /Category of a clear leader \(top two in different categories\): margin (never|\d\.\d{3})/);
  for (const category of own) assert.ok(html.includes(`<td>${category}</td>`), category);

  // Only video segments: the image thresholds stay as they were.
  const videoOnly = join(dir, 'cal-video.jsonl');
  writeFileSync(videoOnly, segments.map((q) => JSON.stringify(q)).join('\n') + '\n');
  const out2 = join(dir, 'calibrated-video.sfi');
  const v = run('calibrate', '--catalog', out, '--labeled', videoOnly, '-o', out2);
  assert.equal(v.code, 0, v.err);
  const again = await loadIndex(new Uint8Array(readFileSync(out2)));
  assert.deepEqual(again.config().calibration.item, stored.item);
  assert.deepEqual(again.config().calibration.video.segments, 3);
  again.close();

  // A version-1 file (written before the version bump) loads and searches; rewriting it writes version 2.
  const v1 = await loadIndex(new Uint8Array(readFileSync(join(ROOT, 'tests', 'index', 'fixtures', 'v1_ivf3_sq8_meta.sfi'))));
  assert.equal(v1.info().version, 1);
  const q = new Float32Array(8).fill(0.5);
  const hitsV1 = v1.search(q, { k: 3 });
  const v2 = await loadIndex(v1.withConfig({ calibration: { item: { threshold: 0.5 } } }));
  assert.equal(v2.info().version, 2);
  assert.deepEqual(v2.search(q, { k: 3 }), hitsV1);
  v1.close(), v2.close();
});

test('calibrate: labeled video lines are checked field by field', () => {
  const cases = [
    [{ video: 'clip.mp4', from: 2, to: 1, expected: null }, /:1: field 'to': expected seconds > from \(2\)/],
    [{ video: 'clip.mp4', from: -1, to: 1, expected: null }, /:1: field 'from'/],
    [{ video: '', from: 0, to: 1, expected: null }, /:1: field 'video'/],
    [{ video: 'clip.mp4', from: 0, to: 1, expected: 7 }, /:1: field 'expected'/],
  ];
  for (const [line, error] of cases) {
    const bad = join(dir, 'bad-video.jsonl');
    writeFileSync(bad, JSON.stringify(line) + '\n');
    const e = run('calibrate', '--catalog', index, '--labeled', bad, '-o', join(dir, 'x.sfi'));
    assert.equal(e.code, 1);
    assert.match(e.err, error);
  }
  // eval reads photos only.
  const seg = join(dir, 'seg.jsonl');
  writeFileSync(seg, JSON.stringify({ video: 'clip.mp4', from: 0, to: 1, expected: null }) + '\n');
  const e = run('eval', '--catalog', index, '--labeled', seg);
  assert.equal(e.code, 1);
  assert.match(e.err, /seg\.jsonl:1: field 'video': video segments are only read by `shopframe calibrate`/);
});
