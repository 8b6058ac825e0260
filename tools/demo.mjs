// The main job. With the Grocery Store Dataset present (../shared/data/grocery): build the
// 81-product catalog from its images (embedded with the default model, cached, adapted and
// calibrated), inspect it, and analyse a few held-out photos with detector + embedder.
// Without it (or with --synthetic): a synthetic catalog with embeddings, built and searched.
// Output goes to build/demo/.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'build', 'demo');
mkdirSync(out, { recursive: true });

const cli = (...args) => {
  console.log(`\n$ shopframe ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join(root, 'bin', 'shopframe.mjs'), ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

const grocery = process.env.SHOPFRAME_GROCERY ?? join(root, '..', 'shared', 'data', 'grocery');
if (!process.argv.includes('--synthetic') && existsSync(join(grocery, 'classes.csv'))) {
  const g = join(out, 'grocery');
  const r = spawnSync(process.execPath, [join(root, 'tools', 'grocery.mjs'), '--data', grocery, '--out', g], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  const index = join(g, 'grocery.sfi');
  cli('catalog', 'build', join(g, 'catalog.jsonl'), '-o', index);
  cli('catalog', 'inspect', index);
  const photos = ['Fruit/Apple/Granny-Smith/Granny-Smith_004.jpg', 'Packages/Milk/Arla-Standard-Milk/Arla-Standard-Milk_003.jpg',
    'Vegetables/Pepper/Red-Bell-Pepper/Red-Bell-Pepper_002.jpg'].map((p) => join(grocery, 'val', p)).filter(existsSync);
  cli('analyze', ...photos, '--catalog', index);
  console.log(`\ndemo files in ${g}`);
  process.exit(0);
}

// Deterministic products: 40 product families in 8 categories, 50 variants each.
let s = 12345n;
const rand = () => { s = (s * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n); return Number(s >> 11n) / 2 ** 53; };
const dim = 64;
const categories = ['Fruit/Apple', 'Fruit/Pear', 'Fruit/Citrus', 'Vegetables/Root', 'Vegetables/Leaf', 'Dairy/Milk', 'Dairy/Yoghurt', 'Juice'];
const families = Array.from({ length: 40 }, (_, f) => ({
  category: categories[f % categories.length],
  centre: Array.from({ length: dim }, () => rand() - 0.5),
}));
const lines = [];
for (let i = 0; i < 2000; ++i) {
  const fam = families[i % families.length];
  lines.push(JSON.stringify({
    id: `demo-${i}`, title: `${fam.category.split('/').pop()} variant ${i}`, category: fam.category,
    price: Math.round(100 + rand() * 400) / 100, currency: 'EUR', url: `https://shop.example/demo-${i}`,
    images: [`images/demo-${i}.jpg`], embedding: fam.centre.map((c) => +(c + 0.3 * (rand() - 0.5)).toFixed(5)),
  }));
}
const catalog = join(out, 'catalog.jsonl');
writeFileSync(catalog, lines.join('\n') + '\n');
const query = join(out, 'query.json');
writeFileSync(query, JSON.stringify(families[3].centre));

const index = join(out, 'catalog.sfi');
cli('catalog', 'build', catalog, '-o', index, '--quantizer', 'ivf32,pq16,rr:sq8');
cli('catalog', 'inspect', index);
cli('search', index, '--vector', query, '-k', '5');
cli('search', index, '--vector', query, '-k', '5', '--category', 'Fruit');
console.log(`\ndemo files in ${out}`);
