// The `shopframe` command line, run as a user would (a child process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { catalogLines } from './helpers.mjs';

const BIN = fileURLToPath(new URL('../../bin/shopframe.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'shopframe-cli-'));

function run(...args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const { lines, vectors } = catalogLines(120, 32);
const catalog = join(dir, 'shop.jsonl');
writeFileSync(catalog, lines.join('\n') + '\n');

test('catalog build writes an index and prints a summary with recall', () => {
  const out = join(dir, 'shop.sfi');
  const r = run('catalog', 'build', catalog, '-o', out, '--quantizer', 'ivf4,pq8,rr:sq8', '--json');
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.equal(s.items, 120);
  assert.equal(s.dim, 32);
  assert.equal(s.bytes, readFileSync(out).length);
  assert.ok(s.bytes_per_item > 0);
  assert.ok(s.recall_at_10 > 0.5 && s.recall_at_10 <= 1, String(s.recall_at_10));
  const text = run('catalog', 'build', catalog, '-o', out);
  assert.match(text.out, /120 items, 32 dims/);
  assert.match(text.out, /recall@10 against exact search: [01]\.\d+/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), []);
});

test('catalog inspect shows header and verified sections', () => {
  const out = join(dir, 'inspect.sfi');
  assert.equal(run('catalog', 'build', catalog, '-o', out, '--quantizer', 'ivf4,sq8').code, 0);
  const info = JSON.parse(run('catalog', 'inspect', out, '--json').out);
  assert.equal(info.count, 120);
  assert.equal(info.quantizer, 'ivf4,sq8');
  assert.equal(info.fileBytes, readFileSync(out).length);
  const kinds = info.sections.map((s) => s.kind);
  for (const k of ['IVFC', 'IVFL', 'PERM', 'SQ8P', 'SQ8C', 'STRS', 'META']) assert.ok(kinds.includes(k), k);
  assert.ok(info.sections.every((s) => s.verified && s.offset % 64 === 0));
  const text = run('catalog', 'inspect', out);
  assert.equal(text.code, 0);
  assert.match(text.out, /items 120, dims 32/);
  assert.match(text.out, /SQ8C\s+\d+\s+\d+\s+[0-9a-f]{8}\s+ok/);
});

test('search returns the nearest products as JSON or text', () => {
  const out = join(dir, 'search.sfi');
  assert.equal(run('catalog', 'build', catalog, '-o', out, '--quantizer', 'flat').code, 0);
  const vfile = join(dir, 'q.json');
  writeFileSync(vfile, JSON.stringify(Array.from(vectors.subarray(7 * 32, 8 * 32))));
  const r = run('search', out, '--vector', vfile, '-k', '3', '--json');
  assert.equal(r.code, 0, r.err);
  const hits = JSON.parse(r.out);
  assert.equal(hits.length, 3);
  assert.equal(hits[0].id, 'sku-7');
  assert.equal(hits[0].title, 'Product 7 \u00e9');
  const filtered = JSON.parse(run('search', out, '--vector', vfile, '-k', '50', '--category', 'Dairy', '--json').out);
  assert.ok(filtered.length > 0 && filtered.every((h) => h.category === 'Dairy/Milk'));
  assert.match(run('search', out, '--vector', vfile, '-k', '2').out, /1\. 1\.0000\s+sku-7/);
  writeFileSync(vfile, JSON.stringify({ embedding: Array.from(vectors.subarray(0, 32)) }));
  assert.equal(JSON.parse(run('search', out, '--vector', vfile, '--json').out)[0].id, 'sku-0');
});

test('bad catalogs are reported by line and field; --skip-bad continues', () => {
  const bad = join(dir, 'bad.jsonl');
  const rows = lines.slice(0, 10);
  rows[3] = rows[3].replace('"price":4', '"price":"4"');
  rows[6] = rows[6].replace('"id":"sku-6"', '"id":"sku-1"');
  writeFileSync(bad, rows.join('\n'));
  const out = join(dir, 'bad.sfi');
  const r = run('catalog', 'build', bad, '-o', out);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.jsonl:4: field 'price'/);
  const s = run('catalog', 'build', bad, '-o', out, '--skip-bad', '--json');
  assert.equal(s.code, 0, s.err);
  const summary = JSON.parse(s.out);
  assert.equal(summary.items, 8);
  assert.deepEqual(summary.skipped.map((x) => x.line), [4, 7]);
  assert.match(summary.skipped[1].reason, /duplicate id "sku-1"/);
});

test('a failed build leaves the previous index untouched', () => {
  const out = join(dir, 'keep.sfi');
  assert.equal(run('catalog', 'build', catalog, '-o', out).code, 0);
  const before = readFileSync(out);
  const broken = join(dir, 'broken.jsonl');
  writeFileSync(broken, lines.slice(0, 5).join('\n') + '\n{"id": "x", "title": 1}\n');
  assert.equal(run('catalog', 'build', broken, '-o', out).code, 1);
  assert.deepEqual(readFileSync(out), before);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), []);
});

test('usage errors exit 2; missing and corrupt files exit 1 with the path', () => {
  assert.equal(run().code, 0);
  assert.equal(run('frobnicate').code, 2);
  assert.equal(run('catalog', 'build', catalog).code, 2);
  assert.equal(run('catalog', 'build', catalog, '-o', join(dir, 'x.sfi'), '--quantizer', 'pq7').code, 1);
  for (const bad of ['0', '1.5', 'two']) {
    for (const r of [run('analyze', 'a.jpg', '--catalog', join(dir, 'keep.sfi'), '--threads', bad),
      run('catalog', 'build', catalog, '-o', join(dir, 'x.sfi'), '--threads', bad)]) {
      assert.equal(r.code, 2);
      assert.match(r.err, /--threads must be 'auto' or an integer in 1\.\.64/);
    }
  }
  const missing = run('catalog', 'inspect', join(dir, 'nope.sfi'));
  assert.equal(missing.code, 1);
  assert.match(missing.err, /nope\.sfi: no such file/);
  const out = join(dir, 'corrupt.sfi');
  assert.equal(run('catalog', 'build', catalog, '-o', out).code, 0);
  const bytes = readFileSync(out);
  bytes[bytes.length - 64] ^= 0x55;
  writeFileSync(out, bytes);
  const c = run('catalog', 'inspect', out);
  assert.equal(c.code, 1);
  assert.match(c.err, /corrupt\.sfi: index: section \w{4} checksum mismatch/);
  writeFileSync(out, bytes.subarray(0, 1000));
  assert.match(run('catalog', 'inspect', out).err, /\(truncated\)/);
  const vfile = join(dir, 'bad-vector.json');
  writeFileSync(vfile, '[1, 2,');
  assert.match(run('search', join(dir, 'keep.sfi'), '--vector', vfile).err, /bad-vector\.json/);
  writeFileSync(vfile, '[1, 2]');
  assert.match(run('search', join(dir, 'keep.sfi'), '--vector', vfile).err, /2 dimensions, the index has 32/);
});
