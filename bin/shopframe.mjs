#!/usr/bin/env node
// shopframe command-line tool.
//   shopframe catalog build CATALOG.jsonl -o OUT.sfi [--quantizer STR] [--skip-bad] [--seed N] [--json]
//   shopframe catalog inspect OUT.sfi [--json]
//   shopframe search OUT.sfi --vector FILE.json [-k 10] [--category PREFIX] [--min-score S] [--json]
//   shopframe analyze IMAGE... --catalog X.sfi [--json]       (js/node/cli_vision.mjs)
//   shopframe eval --catalog X.sfi --labeled Q.jsonl [--report out.html] [--records out.jsonl]
//   shopframe calibrate --catalog X.sfi --labeled Q.jsonl [-o OUT.sfi] [--fps 2] [--category-min-in N] [--category-min-out N]
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

import { buildIndexFromCatalog, loadIndex, parseCatalog, ShopframeError } from '../js/shopframe.mjs';
import { buildImageCatalog } from '../js/node/image_catalog.mjs';
import { analyzeCommand, calibrateCommand, evalCommand, threadsOf } from '../js/node/cli_vision.mjs';
import { writeFileAtomic } from '../js/node/atomic_write.mjs';
import { progressBar } from '../js/node/progress.mjs';

const USAGE = `usage:
  shopframe catalog build CATALOG.jsonl -o OUT.sfi [--quantizer STR] [--skip-bad] [--seed N] [--json]
        [--adapt | --no-adapt] [--no-calibrate] [--cache DIR] [--embedder NAME|MANIFEST.json] [--threads N]
  shopframe catalog inspect INDEX.sfi [--json]
  shopframe search INDEX.sfi --vector FILE.json [-k 10] [--category PREFIX] [--min-score S] [--json]
  shopframe analyze IMAGE... --catalog INDEX.sfi [-k 5] [--no-detector | --detector M] [--threads N] [--embedder M] [--no-one-pass] [--json]
  shopframe analyze VIDEO --catalog INDEX.sfi [--fps 2] [--detect-every 1] [--frames] [--threads N] [--embedder M] [--detector M] [--no-one-pass] [--json]
  shopframe eval --catalog INDEX.sfi --labeled QUERIES.jsonl [--report OUT.html] [--records OUT.jsonl] [--no-detector | --detector M] [--threads N] [--embedder M] [--no-one-pass]
  shopframe calibrate --catalog INDEX.sfi --labeled QUERIES.jsonl [-o OUT.sfi] [--max-false-rate 0.02] [--report OUT.html] [--embedder M] [--no-one-pass] [--threads N]
        [--fps 2] [--category-min-in 20] [--category-min-out N (default max(20, 1/max-false-rate))]

Products whose lines have no "embedding" are embedded from their images with the default
embedder (models/mobilenetv2-f32-multiscale.json, derived on first use from mobilenetv2-feat.json's
file, which comes from SHOPFRAME_MODELS or ../shared/models; --embedder picks another manifest),
cached by image hash; with several images per product the build learns the catalog
adaptation when a held-out check says it helps (--adapt forces it, --no-adapt disables it)
and calibrates suggestion thresholds for <= 2% false suggestions (--no-calibrate skips it).

--no-one-pass (analyze, eval, calibrate): an index of the default embedder is queried once per
frame, every region pooled from the maps of one pass (models/mobilenetv2-f32-multiscale-maps288.json);
with this flag, once per cropped region instead, as the catalog's images are embedded.

--threads N: ONNX Runtime's threads for the models (default auto: the machine's cores, at most
4). Results are the same for any N; on 2 cores 2 threads analysed a video in 0.66x the time of 1.

analyze VIDEO --detect-every N runs the detector on every N-th sample and at scene cuts only,
and embeds the last run's boxes in between (N=2: 0.84x the time per sample on the test videos, docs/video.md).

analyze, eval and calibrate embed with the embedder the index was built with when models/
has its manifest; for any other, pass the same manifest with --embedder NAME|MANIFEST.json.
catalog build --embedder mobilenetv2-f32-multiscale-288 embeds at 288x288 instead of 224x224
(derived on first use): grocery R@1 0.865 vs 0.841 at 1.4-1.6x the embedder time (docs/quality.md).
--detector NAME|MANIFEST.json picks the region proposer (default yolox-nano-dynamic: YOLOX-Nano
at up to 416x416, the letterbox fitted to the frame, so a 16:9 frame goes in as 416x256; derived
on first use. yolox-nano is the fixed 416x416 graph, yolox-nano-320 the same model at 320x320).

calibrate reads lines {"image": PATH, "expected": ID|null, "category"?: PATH} and video
segments {"video": PATH, "from": S, "to": S, "expected": ID|null, "category"?: PATH}
(sampled at --fps, thresholds for the video tracker); a category with enough queries
(--category-min-in / --category-min-out) gets thresholds of its own (docs/video.md).

quantizer strings: flat | sq8 | pqM, optionally preceded by pcaN/pcawN and ivfN and
followed by rr:sq8 / rr:flat, e.g. "ivf256,pq32,rr:sq8" (default: sq8)`;

class UsageError extends Error {}

function parse(argv, options) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true });
  } catch (e) {
    throw new UsageError(e.message);
  }
}

async function readInput(path, what) {
  try {
    return await readFile(path);
  } catch (e) {
    throw new ShopframeError('io_error', `${what} ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
}

async function catalogBuild(argv) {
  const { values, positionals } = parse(argv, {
    output: { type: 'string', short: 'o' },
    quantizer: { type: 'string', default: 'sq8' },
    'skip-bad': { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    adapt: { type: 'boolean' },
    'no-adapt': { type: 'boolean', default: false },
    'no-calibrate': { type: 'boolean', default: false },
    cache: { type: 'string' },
    embedder: { type: 'string' },
    threads: { type: 'string' },
  });
  if (positionals.length !== 1 || !values.output) throw new UsageError('catalog build needs CATALOG.jsonl and -o OUT.sfi');
  const [input] = positionals;
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got ${values.seed}`);
  const numThreads = threadsOf(values, UsageError);
  const text = (await readInput(input, 'catalog')).toString('utf8');
  const bar = progressBar(process.stderr);
  const started = performance.now();
  let result;
  const { products } = await parseCatalog(text, { source: basename(input), skipBad: values['skip-bad'] });
  if (products.some((p) => !p.embedding)) {
    try {
      result = await buildImageCatalog({
        catalogPath: input, text, quantizer: values.quantizer, skipBad: values['skip-bad'], seed,
        adapt: values['no-adapt'] ? false : values.adapt ? true : 'auto', calibrate: !values['no-calibrate'],
        cacheDir: values.cache, embedder: values.embedder, numThreads, onProgress: ({ stage, done, total }) => bar.update(stage, done, total),
      });
    } finally {
      bar.done();
    }
    return imageBuildSummary(values, result, (performance.now() - started) / 1000);
  }
  try {
    result = await buildIndexFromCatalog(text, {
      source: basename(input), quantizer: values.quantizer, skipBad: values['skip-bad'], seed,
      recallSample: 200, onProgress: ({ stage, done, total }) => bar.update(stage, done, total),
    });
  } finally {
    bar.done();
  }
  const buildSeconds = (performance.now() - started) / 1000;
  await writeFileAtomic(values.output, result.bytes);
  const summary = {
    output: values.output,
    items: result.items,
    dim: result.dim,
    quantizer: values.quantizer,
    bytes: result.bytes.length,
    bytes_per_item: +(result.bytes.length / result.items).toFixed(1),
    build_s: +buildSeconds.toFixed(3),
    recall_at_10: +result.recall.toFixed(4),
    recall_sample: Math.min(200, result.items),
    skipped: result.skipped,
  };
  if (values.json) {
    console.log(JSON.stringify(summary));
  } else {
    console.log(`wrote ${summary.output}: ${summary.items} items, ${summary.dim} dims, quantizer ${summary.quantizer}`);
    console.log(`  ${summary.bytes} bytes (${summary.bytes_per_item} bytes/item), built in ${summary.build_s} s`);
    console.log(`  recall@10 against exact search: ${summary.recall_at_10} (on ${summary.recall_sample} sampled items)`);
    if (result.skipped.length) {
      console.log(`  skipped ${result.skipped.length} bad line(s):`);
      for (const s of result.skipped.slice(0, 20)) console.log(`    ${s.reason}`);
      if (result.skipped.length > 20) console.log(`    ... and ${result.skipped.length - 20} more`);
    }
  }
}

async function imageBuildSummary(values, result, buildSeconds) {
  await writeFileAtomic(values.output, result.bytes);
  const a = result.adaptation;
  const c = result.calibration;
  const summary = {
    output: values.output, products: result.products, images: result.images, items: result.vectors, dim: result.dim, quantizer: values.quantizer,
    bytes: result.bytes.length, bytes_per_item: +(result.bytes.length / result.vectors).toFixed(1),
    build_s: +buildSeconds.toFixed(3), images_embedded: result.embedded, images_cached: result.cached,
    recall_at_10: +result.recall.toFixed(4), adaptation: a, calibration: c, skipped: result.skipped,
  };
  if (values.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  console.log(`wrote ${summary.output}: ${summary.products} products, ${summary.images} images (${summary.items} vectors: whole image + centre crop), ${summary.dim} dims, quantizer ${summary.quantizer}`);
  console.log(`  ${summary.bytes} bytes (${summary.bytes_per_item} bytes/vector), built in ${summary.build_s} s; images embedded ${result.embedded}, from cache ${result.cached}`);
  console.log(`  recall@10 against exact search: ${summary.recall_at_10}`);
  if (a?.trial) {
    console.log(`  adaptation: held-out R@1 ${a.trial.rawRecallAt1.toFixed(3)} raw -> ${a.trial.adaptedRecallAt1.toFixed(3)} adapted (${a.trial.heldOut} held-out images): ${a.applied ? `applied, ${a.dim} dims` : 'not applied'}`);
  } else if (a) {
    console.log(`  adaptation: ${a.applied ? `applied (forced), ${a.dim} dims` : 'off'}`);
  }
  if (c) {
    const h = c.item.holdout;
    console.log(`  calibration (catalog hold-out, ${c.queries} queries, ${c.left_out_products} products left out): item threshold ${c.item.threshold}` +
      ` -> coverage ${h.coverage?.toFixed(3)}, precision ${h.precision?.toFixed(3) ?? '-'}, false suggestions ${h.false_suggestion_rate?.toFixed(3)}`);
    const cat = c.category, clear = cat?.holdout?.clear_leader;
    if (cat) {
      console.log(`  category suggestions: threshold ${cat.threshold}; a leader clear of another category by ${Number.isFinite(cat.margin) ? cat.margin.toFixed(3) : 'never'}` +
        (clear ? ` (on the hold-out: ${clear.right} of ${clear.shown} right)` : ''));
    }
  } else {
    console.log('  not calibrated: the engine will not make item suggestions from this index');
  }
}

async function openIndex(path) {
  const bytes = await readInput(path, 'index');
  try {
    return await loadIndex(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  } catch (e) {
    if (e instanceof ShopframeError) e.message = `${path}: ${e.message}`;
    throw e;
  }
}

async function catalogInspect(argv) {
  const { values, positionals } = parse(argv, { json: { type: 'boolean', default: false } });
  if (positionals.length !== 1) throw new UsageError('catalog inspect needs INDEX.sfi');
  const index = await openIndex(positionals[0]);
  const info = index.info();
  index.close();
  if (values.json) {
    console.log(JSON.stringify(info));
    return;
  }
  const built = info.buildUnixMs ? new Date(info.buildUnixMs).toISOString() : 'unknown';
  console.log(`${positionals[0]}: shopframe index v${info.version}, ${info.fileBytes} bytes`);
  console.log(`  items ${info.count}, dims ${info.dim}${info.workDim !== info.dim ? ` -> ${info.workDim}` : ''}, metric ${info.metric}`);
  console.log(`  quantizer ${info.quantizer}${info.ivfLists ? `, nprobe ${info.defaultNprobe}` : ''}${info.defaultRerank ? `, re-rank x${info.defaultRerank}` : ''}`);
  console.log(`  metadata ${info.hasMetadata ? 'yes' : 'no'}, built ${built}, kernels ${info.simd}`);
  console.log('  section   offset        bytes     crc32     checksum');
  for (const s of info.sections) {
    console.log(`  ${s.kind.padEnd(6)} ${String(s.offset).padStart(9)} ${String(s.bytes).padStart(12)}  ${s.crc32.toString(16).padStart(8, '0')}  ${s.verified ? 'ok' : 'not checked'}`);
  }
}

async function search(argv) {
  const { values, positionals } = parse(argv, {
    vector: { type: 'string' },
    k: { type: 'string', short: 'k', default: '10' },
    category: { type: 'string', default: '' },
    'min-score': { type: 'string' },
    nprobe: { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1 || !values.vector) throw new UsageError('search needs INDEX.sfi and --vector FILE.json');
  const k = Number(values.k);
  if (!Number.isInteger(k) || k < 1 || k > 10000) throw new UsageError(`-k must be an integer in 1..10000, got ${values.k}`);
  const minScore = values['min-score'] === undefined ? -Infinity : Number(values['min-score']);
  if (Number.isNaN(minScore)) throw new UsageError(`--min-score must be a number, got ${values['min-score']}`);
  let vector;
  const vtext = (await readInput(values.vector, 'vector file')).toString('utf8');
  try {
    vector = JSON.parse(vtext);
  } catch (e) {
    throw new ShopframeError('parse_error', `vector file ${values.vector}: ${e.message}`);
  }
  if (vector && !Array.isArray(vector) && Array.isArray(vector.embedding)) vector = vector.embedding;
  if (!Array.isArray(vector) || !vector.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new ShopframeError('parse_error', `vector file ${values.vector}: expected a JSON array of finite numbers (or {"embedding": [...]})`);
  }
  const index = await openIndex(positionals[0]);
  const hits = index.search(Float32Array.from(vector), { k, category: values.category, minScore, nprobe: Number(values.nprobe), distinct: true });
  index.close();
  if (values.json) {
    console.log(JSON.stringify(hits.map(({ item, ...h }) => h)));
    return;
  }
  if (!hits.length) console.log('no results');
  hits.forEach((h, i) => {
    const price = h.price === null ? '' : `  ${h.price} ${h.currency}`;
    console.log(`${String(i + 1).padStart(3)}. ${h.score.toFixed(4)}  ${h.id}  ${h.title}  [${h.category}]${price}`);
  });
}

async function main(argv) {
  const [cmd, sub, ...rest] = argv;
  if (cmd === 'catalog' && sub === 'build') return catalogBuild(rest);
  if (cmd === 'catalog' && sub === 'inspect') return catalogInspect(rest);
  if (cmd === 'search') return search(argv.slice(1));
  if (cmd === 'analyze') return analyzeCommand(argv.slice(1), { parse, openIndex, UsageError });
  if (cmd === 'eval') return evalCommand(argv.slice(1), { parse, openIndex, UsageError });
  if (cmd === 'calibrate') return calibrateCommand(argv.slice(1), { parse, openIndex, UsageError });
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(USAGE);
    return;
  }
  throw new UsageError(`unknown command: ${argv.slice(0, 2).join(' ')}`);
}

main(process.argv.slice(2)).catch((e) => {
  if (e instanceof UsageError) {
    console.error(`shopframe: ${e.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (e instanceof ShopframeError) {
    console.error(`shopframe: error (${e.code}): ${e.message}`);
    process.exitCode = 1;
  } else {
    console.error(`shopframe: ${e?.stack ?? e}`);
    process.exitCode = 1;
  }
});
