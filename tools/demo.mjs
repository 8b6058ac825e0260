// The main job. With the Grocery Store Dataset present (../shared/data/grocery): build the
// catalog index from its images (71 of the 81 products; embedded with the default model,
// cached, adapted and calibrated) and the sample video, analyse a few held-out photos from the
// command line, then serve the in-browser demo (web/, http://127.0.0.1:$PORT/, default 8080)
// until stopped. --no-serve stops after preparing; --synthetic needs no dataset or model.
// Without it (or with --synthetic): a synthetic catalog with embeddings, built and searched.
// Output goes to build/demo/.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

import { DEFAULT_MODELS } from '../js/engine.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'build', 'demo');
mkdirSync(out, { recursive: true });

const cli = (...args) => {
  console.log(`\n$ shopframe ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join(root, 'bin', 'shopframe.mjs'), ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

const grocery = process.env.SHOPFRAME_GROCERY ?? join(root, '..', 'shared', 'data', 'grocery');
const serve = !process.argv.includes('--no-serve');
if (!process.argv.includes('--synthetic') && existsSync(join(grocery, 'classes.csv'))) {
  const web = prepareWebDemo(grocery);
  const photos = ['Fruit/Apple/Granny-Smith/Granny-Smith_004.jpg', 'Packages/Milk/Arla-Standard-Milk/Arla-Standard-Milk_003.jpg',
    'Vegetables/Pepper/Red-Bell-Pepper/Red-Bell-Pepper_002.jpg'].map((p) => join(grocery, 'val', p)).filter(existsSync);
  cli('analyze', ...photos, '--catalog', join(web, 'catalog.sfi'));
  console.log(`\ndemo files in ${web}`);
  if (serve) {
    console.log('\nThe in-browser demo (Ctrl-C stops it):');
    const r = spawnSync(process.execPath, [join(root, 'web', 'server.mjs')], { stdio: 'inherit' });
    process.exit(r.status ?? 0);
  }
  process.exit(0);
}
// No data set: say so (the in-browser demo needs it), run the synthetic CLI demo below, and
// fail at the end if the browser demo was asked for.
const missingData = !process.argv.includes('--synthetic');
if (missingData) {
  console.error(`shopframe demo: the Grocery Store Dataset is not at ${grocery} (no classes.csv there); set ` +
    'SHOPFRAME_GROCERY=/path/to/grocery for the in-browser demo. Running the synthetic catalog demo instead.');
}

/**
 * The in-browser demo's files in build/demo/web: the catalog index (grocery products minus 10
 * held out to show abstention, built from iconic images + train photos, adapted, calibrated)
 * and the sample video (val photos: web/sample-video.json) with its ground truth. Each step
 * is skipped when its output is newer than its inputs.
 */
function prepareWebDemo(data) {
  const g = join(out, 'grocery');
  const web = join(out, 'web');
  mkdirSync(web, { recursive: true });
  const node = (...args) => {
    const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  };
  const stale = (output, ...inputs) => !existsSync(output) || inputs.some((i) => statSync(i).mtimeMs > statSync(output).mtimeMs);
  node(join(root, 'tools', 'grocery.mjs'), '--data', data, '--out', g);
  const index = join(web, 'catalog.sfi');
  // The default embedder's manifest too: an index built with another embedder is rebuilt; and
  // the code that adapts and calibrates it (embeddings are cached, so a rebuild takes a minute).
  const embedder = join(root, 'models', `${DEFAULT_MODELS.embedder}.json`);
  const builders = ['node/image_catalog.mjs', 'eval/metrics.mjs'].map((f) => join(root, 'js', f));
  if (stale(index, join(g, 'catalog-open.jsonl'), embedder, ...builders)) cli('catalog', 'build', join(g, 'catalog-open.jsonl'), '-o', index);
  cli('catalog', 'inspect', index);
  const spec = join(root, 'web', 'sample-video.json');
  if (stale(join(web, 'sample.webm'), spec) || stale(join(web, 'sample.json'), spec)) {
    node(join(root, 'tools', 'make-test-videos.mjs'), '--spec', spec, '--data', data, '--in-catalog', join(g, 'catalog-open.jsonl'),
      '--out', web, '--codec', 'vp9');
  }
  return web;
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
if (missingData && serve) {
  console.error(`shopframe demo: not serving the in-browser demo: it needs the Grocery Store Dataset (${grocery})`);
  process.exit(2);
}
