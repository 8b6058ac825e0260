#!/usr/bin/env node
// Makes shopframe inputs from the Grocery Store Dataset (never copied: images are
// referenced by relative path).
//   node tools/grocery.mjs [--data DIR] [--out DIR] [--drop N]
// writes into OUT (default build/grocery):
//   catalog.jsonl          the 81 products: iconic image + train photos each
//   queries.jsonl          val photos, {"image", "expected": product id}
//   catalog-open.jsonl     the catalog without N products (default 10, every 8th class)
//   queries-open.jsonl     val photos; the dropped products' photos expect null
//   queries-open-{a,b}.jsonl  its two halves (alternate lines): calibrate on a, evaluate on b
//   queries-open-all.jsonl  queries-open.jsonl plus the dropped products' train photos (null):
//                          every photo of a dropped product, so "<= 2% false" is a rate
//                          measured on hundreds of photos rather than "none of 35"
//   queries-open-all-{a,b}.jsonl  halves split by product: the in-catalog val photos as in
//                          queries-open-{a,b}, and the photos of alternate dropped products,
//                          so calibrating on a is evaluated on out-of-catalog products it never saw
import { mkdir, readFile, writeFile as writeFileAlways } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    data: { type: 'string', default: process.env.SHOPFRAME_GROCERY ?? resolve(repo, '..', 'shared', 'data', 'grocery') },
    out: { type: 'string', default: join(repo, 'build', 'grocery') },
    drop: { type: 'string', default: '10' },
  },
});
const data = resolve(values.data);
const out = resolve(values.out);
const drop = Number(values.drop);

const csv = (await readFile(join(data, 'classes.csv'), 'utf8')).trim().split(/\r?\n/).slice(1);
const classes = csv.map((line) => {
  const [name, id, coarse, , iconic, description] = line.split(',');
  return { name, id: Number(id), coarse, iconic: iconic.replace(/^\//, ''), description: description.replace(/^\//, '') };
});

async function title(c) {
  try {
    const info = await readFile(join(data, c.description.replace('_Description.txt', '_Information.txt')), 'utf8');
    const m = /^Title:\s*(.+)$/m.exec(info);
    if (m) return m[1].trim();
  } catch { /* fall back to the class name */ }
  return c.name.replace(/-/g, ' ');
}

async function split(name) {
  const lines = (await readFile(join(data, `${name}.txt`), 'utf8')).trim().split('\n');
  return lines.map((l) => {
    const [path, cls] = l.split(',').map((s) => s.trim());
    return { path, cls: Number(cls) };
  });
}

const train = await split('train');
const val = await split('val');
const rel = (p) => relative(out, join(data, p));
const products = [];
for (const c of classes) {
  // Category: the folder path above the class (e.g. Fruit/Apple), from the iconic image path.
  const parts = c.iconic.split('/');
  const category = parts.slice(1, -2).join('/');
  const photos = train.filter((t) => t.cls === c.id).map((t) => rel(t.path));
  products.push({ id: c.name, title: await title(c), category, currency: 'SEK', url: '', images: [rel(c.iconic), ...photos], cls: c.id });
}
const dropped = new Set(products.filter((_, i) => i % 8 === 7).slice(0, drop).map((p) => p.cls));
const jsonl = (rows) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const strip = ({ cls, ...p }) => p;  // eslint-disable-line no-unused-vars
const byClass = new Map(products.map((p) => [p.cls, p]));
const queries = val.map((v) => ({ image: rel(v.path), expected: byClass.get(v.cls).id, category: byClass.get(v.cls).category }));
const openQueries = val.map((v) => ({ image: rel(v.path), expected: dropped.has(v.cls) ? null : byClass.get(v.cls).id, category: byClass.get(v.cls).category }));

// Every photo of a dropped product is out of the catalog; train photos too, since the open
// catalog leaves the whole product out.
const droppedOrder = [...dropped];
const droppedTrain = train.filter((t) => dropped.has(t.cls))
  .map((t) => ({ image: rel(t.path), expected: null, category: byClass.get(t.cls).category, cls: t.cls }));
const openAll = [...openQueries.map((q, i) => ({ ...q, cls: val[i].cls })), ...droppedTrain];
// Half a: alternate in-catalog val photos (as queries-open-a) and the dropped products at even
// positions; half b: the rest. No dropped product is in both halves.
const inHalfA = (q, i) => (q.expected === null ? droppedOrder.indexOf(q.cls) % 2 === 0 : i % 2 === 0);
const withIndex = openAll.map((q, i) => ({ q, i: i < val.length ? i : -1 }));
const openAllA = withIndex.filter(({ q, i }) => inHalfA(q, i)).map(({ q }) => q);
const openAllB = withIndex.filter(({ q, i }) => !inHalfA(q, i)).map(({ q }) => q);

await mkdir(out, { recursive: true });
// Unchanged files keep their mtime, so builds that depend on them stay up to date.
async function writeFile(path, text) {
  const old = await readFile(path, 'utf8').catch(() => null);
  if (old !== text) await writeFileAlways(path, text);
}

await writeFile(join(out, 'catalog.jsonl'), jsonl(products.map(strip)));
await writeFile(join(out, 'queries.jsonl'), jsonl(queries));
await writeFile(join(out, 'catalog-open.jsonl'), jsonl(products.filter((p) => !dropped.has(p.cls)).map(strip)));
await writeFile(join(out, 'queries-open.jsonl'), jsonl(openQueries));
// Two halves of the open-set queries (alternate lines): calibrate on one, evaluate on the other.
await writeFile(join(out, 'queries-open-a.jsonl'), jsonl(openQueries.filter((_, i) => i % 2 === 0)));
await writeFile(join(out, 'queries-open-b.jsonl'), jsonl(openQueries.filter((_, i) => i % 2 === 1)));
await writeFile(join(out, 'queries-open-all.jsonl'), jsonl(openAll.map(strip)));
await writeFile(join(out, 'queries-open-all-a.jsonl'), jsonl(openAllA.map(strip)));
await writeFile(join(out, 'queries-open-all-b.jsonl'), jsonl(openAllB.map(strip)));
console.error(`grocery: ${products.length} products (${train.length} train photos), ${val.length} val queries, ` +
  `${dropped.size} products dropped for the open set (${droppedTrain.length + openQueries.filter((q) => q.expected === null).length} photos of them) -> ${out}`);
