// Building an index from a catalog whose products have images (node): embed every image
// with the embedder (cached by image hash), learn the catalog adaptation when it helps on
// a held-out part of the catalog, calibrate the suggestion thresholds on that held-out
// part, and store it all in the index (CONF section).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';

import { buildIndexDetailed, loadIndex, parseCatalog, ShopframeError } from '../shopframe.mjs';
import { createVision } from '../vision.mjs';
import { DEFAULT_MODELS } from '../engine.mjs';
import { resolveModel } from '../models.mjs';
import { calibrate, calibrateCategoryMargin, confidenceModel } from '../eval/metrics.mjs';
import { FUSION_K, fuseMatches, leadingCategory, matchFeatures } from '../decide.mjs';
import { EmbeddingCache } from './embedding_cache.mjs';

export const MAX_IMAGE_BYTES = 32 * 1024 * 1024;

async function loadImage(ref, baseDir) {
  if (/^https?:\/\//.test(ref)) {
    const res = await fetch(ref);
    if (!res.ok) throw new ShopframeError('io_error', `image ${ref}: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > MAX_IMAGE_BYTES) throw new ShopframeError('limit_exceeded', `image ${ref}: more than ${MAX_IMAGE_BYTES} bytes`);
    return bytes;
  }
  const path = isAbsolute(ref) ? ref : resolve(baseDir, ref);
  try {
    return await readFile(path);
  } catch (e) {
    throw new ShopframeError('io_error', `image ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
}

/**
 * The catalog side of matching: each image as a whole and its centre crop, the same two
 * views every query frame gets (plus detector proposals), so the index (and the
 * adaptation learned from it) sees products framed both ways.
 */
export const VIEWS = ['full_frame', 'centre_crop'];
export async function embedViews(vision, bytes, source) {
  vision.decode(bytes, source);
  await vision.detect();  // no detector: full frame, then centre crop
  return vision.embed(VIEWS.length);
}

/** Per-product scores of one query image, fused over its views as the engine fuses regions. */
function fusedScores(index, views, k) {
  return fuseMatches(views.map((v) => index.search(v, { k, distinct: true })), 5);
}

/**
 * Held-out calibration: the last third of the images of every product with 3+ images are
 * queries; every
 * tenth product is left out entirely and its images become "not in the catalog" queries.
 * A flat index of the rest (adapted the same way as the real build) answers them; the
 * thresholds are those that keep false suggestions on left-out products at <= maxFalseRate.
 */
async function calibrateOnHoldout({ vectors, dim, items, labels, images, adapt, maxFalseRate }) {
  // Group rows (views) by image, images by product label.
  const rowsOfImage = new Map();
  images.forEach((img, r) => { if (!rowsOfImage.has(img)) rowsOfImage.set(img, []); rowsOfImage.get(img).push(r); });
  const imagesOf = new Map();
  for (const [img, rows] of rowsOfImage) {
    const label = labels[rows[0]];
    if (!imagesOf.has(label)) imagesOf.set(label, []);
    imagesOf.get(label).push(img);
  }
  const productLabels = [...imagesOf.keys()].sort((a, b) => a - b);
  const leftOut = new Set(productLabels.filter((_, i) => i % 10 === 9));
  const queryImages = [], galleryRows = [];
  for (const [label, imgs] of imagesOf) {
    if (leftOut.has(label)) { queryImages.push(...imgs.slice(0, 3)); continue; }
    // A block, not one photo: consecutive photos are near-duplicates and would make the
    // thresholds too permissive for new photos.
    const cut = imgs.length >= 3 ? imgs.length - Math.max(1, Math.floor(imgs.length / 3)) : imgs.length;
    queryImages.push(...imgs.slice(cut));
    for (const img of imgs.slice(0, cut)) galleryRows.push(...rowsOfImage.get(img));
  }
  const inCatalog = queryImages.filter((img) => !leftOut.has(labels[rowsOfImage.get(img)[0]])).length;
  if (leftOut.size < 2 || inCatalog < 10) return null;  // too small a catalog to calibrate honestly
  const v = new Float32Array(galleryRows.length * dim);
  galleryRows.forEach((r, i) => v.set(vectors.subarray(r * dim, (r + 1) * dim), i * dim));
  const built = await buildIndexDetailed({
    vectors: v, dim, items: galleryRows.map((r) => items[r]), labels: Uint32Array.from(galleryRows, (r) => labels[r]),
    adapt: adapt ? true : false, quantizer: 'flat',
  });
  const index = await loadIndex(built.bytes);
  const galleryCategories = new Set(galleryRows.map((r) => items[r].category));
  const records = [], categoryRecords = [];
  try {
    for (const img of queryImages) {
      const rows = rowsOfImage.get(img);
      const top = fusedScores(index, rows.map((r) => vectors.subarray(r * dim, (r + 1) * dim)), FUSION_K);
      const r0 = rows[0];
      const known = !leftOut.has(labels[r0]);
      const features = matchFeatures(top);
      records.push({ expected: known ? items[r0].id : null, top, features });
      const cat = items[r0].category;
      categoryRecords.push({ expected: galleryCategories.has(cat) ? cat : null, features, top: [{ id: leadingCategory(top) }] });
    }
  } finally {
    index.close();
  }
  const model = confidenceModel(records);
  const item = calibrate(records, { maxFalseRate, confidenceOf: (rec) => model.predict(rec.features) });
  const category = calibrate(categoryRecords, { maxFalseRate, confidenceOf: (rec) => rec.features.score1 });
  // The clear-leader path: where the top two products disagree on a category, the leader's
  // category when it leads by a margin the hold-out supports (the only way to suggest a
  // category that has one product).
  const clearLeader = calibrateCategoryMargin(
    records.map((rec, i) => ({ ...rec, expectedCategory: categoryRecords[i].expected })),
    { maxFalseRate, eligible: (rec) => model.predict(rec.features) < item.threshold && rec.features.score1 >= category.threshold });
  // The same operating point on the raw fused score, for the video tracker (it aggregates
  // scores over a track's samples and compares them with this).
  const itemScore = calibrate(records, { maxFalseRate, confidenceOf: (rec) => rec.features.score1 });
  return {
    maxFalseRate,
    source: 'catalog hold-out',
    queries: records.length,
    in_catalog: inCatalog,
    left_out_products: leftOut.size,
    item: { threshold: item.threshold, score_threshold: itemScore.threshold,
      model: { features: model.features, weights: model.weights, bias: model.bias },
      holdout: { coverage: item.coverage, precision: item.precision, false_suggestion_rate: item.false_suggestion_rate } },
    category: { threshold: category.threshold, margin: clearLeader.margin,
      holdout: { coverage: category.coverage, precision: category.precision, false_suggestion_rate: category.false_suggestion_rate,
        clear_leader: { eligible: clearLeader.eligible, shown: clearLeader.shown, right: clearLeader.right } } },
  };
}

/**
 * @param {{ catalogPath: string, text?: string, quantizer?: string, skipBad?: boolean, adapt?: boolean|'auto',
 *           calibrate?: boolean, maxFalseRate?: number, cacheDir?: string, embedder?: string, numThreads?: number,
 *           onProgress?: (p: {stage, done, total}) => void,
 *           onWarning?: (message: string) => void }} options  onWarning: e.g. a damaged embedding
 *           cache (default: a line on stderr)
 */
export async function buildImageCatalog(options) {
  const source = options.catalogPath;
  const text = options.text ?? (await readFile(source, 'utf8'));
  const { products, skipped } = await parseCatalog(text, { source, skipBad: options.skipBad });
  if (!products.length) throw new ShopframeError('invalid_argument', `${source}: no products`);
  const model = await resolveModel(options.embedder ?? DEFAULT_MODELS.embedder);
  const vision = await createVision({
    embedder: { manifest: model.manifestText, bytes: model.bytes, source: model.path }, detector: null, numThreads: options.numThreads,
  });
  const dim = vision.embeddingDim;
  const cache = await EmbeddingCache.open(options.cacheDir, model.manifest.sha256, dim);
  if (cache.problem) {
    const warn = options.onWarning ?? ((m) => process.stderr.write(`shopframe: warning: ${m}\n`));
    warn(`embedding cache ${cache.problem}; not used: the images are embedded again and the cache rewritten`);
  }
  const baseDir = dirname(resolve(source));
  const rows = [], items = [], labels = [], images = [];  // per vector: product label, source image ordinal
  const totalImages = products.reduce((s, p) => s + (p.embedding ? 1 : p.images.length), 0);
  let done = 0, embedded = 0, cached = 0;
  const progress = options.onProgress ?? (() => {});
  try {
    for (const [label, p] of products.entries()) {
      const meta = { id: p.id, title: p.title, category: p.category, price: p.price ?? undefined, currency: p.currency, url: p.url, image: p.images[0] ?? '' };
      if (p.embedding) {
        if (p.embedding.length !== dim) {
          throw new ShopframeError('invalid_argument', `${source}:${p.line}: field 'embedding': ${p.embedding.length} numbers, the embedder ${model.manifest.name} makes ${dim}`);
        }
        rows.push(p.embedding), items.push(meta), labels.push(label), images.push(images.length ? images[images.length - 1] + 1 : 0);
        progress({ stage: 'embed', done: ++done, total: totalImages });
        continue;
      }
      if (!p.images.length) {
        throw new ShopframeError('invalid_argument', `${source}:${p.line}: product "${p.id}" has neither an embedding nor images`);
      }
      for (const ref of p.images) {
        let bytes;
        try {
          bytes = await loadImage(ref, baseDir);
        } catch (e) {
          e.message = `${source}:${p.line}: field 'images': ${e.message}`;
          throw e;
        }
        const hash = createHash('sha256').update(bytes).digest('hex');
        // Cache keys are 32-byte hashes: the image's, or (other views) the hash of image hash + view.
        const keys = VIEWS.map((view) => (view === 'full_frame' ? hash : createHash('sha256').update(`${hash}:${view}`).digest('hex')));
        let views = keys.map((k) => cache.get(k));
        if (views.every(Boolean)) ++cached;
        else {
          try {
            views = await embedViews(vision, bytes, ref);
          } catch (e) {
            e.message = `${source}:${p.line}: image ${ref}: ${e.message}`;
            throw e;
          }
          views.forEach((v, i) => cache.set(keys[i], v));
          ++embedded;
        }
        const image = images.length ? images[images.length - 1] + 1 : 0;
        for (const v of views) rows.push(v), items.push(meta), labels.push(label), images.push(image);
        progress({ stage: 'embed', done: ++done, total: totalImages });
      }
    }
  } finally {
    await vision.close();
    await cache.save();
  }
  const vectors = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => vectors.set(r, i * dim));
  const labelArray = Uint32Array.from(labels);
  const multiImage = products.filter((p) => !p.embedding && p.images.length >= 3).length >= 2;
  const adapt = options.adapt ?? 'auto';
  const detailed = await buildIndexDetailed({
    vectors, dim, items, labels: labelArray, adapt: multiImage ? adapt : false,
    quantizer: options.quantizer ?? 'sq8', recallSample: Math.min(200, rows.length), onProgress: options.onProgress,
    config: { embedder: { name: model.manifest.name, sha256: model.manifest.sha256, dim } },
    seed: options.seed ?? 1,
  });
  const adapted = !!detailed.adaptation?.applied;
  let calibration = null;
  if (options.calibrate !== false && multiImage) {
    calibration = await calibrateOnHoldout({ vectors, dim, items, labels: labelArray, images, adapt: adapted, maxFalseRate: options.maxFalseRate ?? 0.02 });
  }
  // The final index carries the configuration including the calibration (a second build
  // of the same data: deterministic, so only CONF differs).
  const config = {
    embedder: { name: model.manifest.name, sha256: model.manifest.sha256, dim },
    adaptation: detailed.adaptation,
    calibration,
  };
  const final = await buildIndexDetailed({
    vectors, dim, items, labels: labelArray, adapt: adapted, quantizer: options.quantizer ?? 'sq8',
    recallSample: Math.min(200, rows.length), config, seed: options.seed ?? 1,
  });
  return {
    bytes: final.bytes, recall: final.recall, products: products.length, vectors: rows.length, images: totalImages, dim,
    embedded, cached, skipped, adaptation: detailed.adaptation, calibration,
  };
}
