// Building an index from a catalog whose products have images (node): embed every image
// with the embedder (cached by image hash), learn the catalog adaptation when it helps on
// a held-out part of the catalog, calibrate the suggestion thresholds on that held-out
// part, and store it all in the index (CONF section).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';

import { buildIndexDetailed, loadIndex, parseCatalog, ShopframeError } from '../shopframe.mjs';
import { createVision } from '../vision.mjs';
import { resolveModel } from '../models.mjs';
import { calibrate, confidenceModel } from '../eval/metrics.mjs';
import { leadingCategory, matchFeatures } from '../decide.mjs';
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

/** Embeds the whole image (the catalog side of matching). */
export async function embedWholeImage(vision, bytes, source) {
  vision.decode(bytes, source);
  await vision.detect();  // no detector: full frame first
  return (await vision.embed(1))[0];
}

/**
 * Held-out calibration: the last third of the images of every product with 3+ images are
 * queries; every
 * tenth product is left out entirely and its images become "not in the catalog" queries.
 * A flat index of the rest (adapted the same way as the real build) answers them; the
 * thresholds are those that keep false suggestions on left-out products at <= maxFalseRate.
 */
async function calibrateOnHoldout({ vectors, dim, items, labels, adapt, maxFalseRate }) {
  const n = labels.length;
  const byLabel = new Map();
  for (let i = 0; i < n; ++i) {
    if (!byLabel.has(labels[i])) byLabel.set(labels[i], []);
    byLabel.get(labels[i]).push(i);
  }
  const productLabels = [...byLabel.keys()].sort((a, b) => a - b);
  const leftOut = new Set(productLabels.filter((_, i) => i % 10 === 9));
  const query = [], gallery = [];
  for (const [label, rows] of byLabel) {
    if (leftOut.has(label)) query.push(...rows.slice(0, 3));
    else if (rows.length >= 3) {
      // A block, not one photo: consecutive photos are near-duplicates and would make the
      // thresholds too permissive for new photos.
      const cut = rows.length - Math.max(1, Math.floor(rows.length / 3));
      query.push(...rows.slice(cut));
      gallery.push(...rows.slice(0, cut));
    }
    else gallery.push(...rows);
  }
  const inCatalog = query.filter((r) => !leftOut.has(labels[r])).length;
  if (leftOut.size < 2 || inCatalog < 10) return null;  // too small a catalog to calibrate honestly
  const pick = (rows) => {
    const v = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => v.set(vectors.subarray(r * dim, (r + 1) * dim), i * dim));
    return v;
  };
  const built = await buildIndexDetailed({
    vectors: pick(gallery), dim, items: gallery.map((r) => items[r]), labels: Uint32Array.from(gallery, (r) => labels[r]),
    adapt: adapt ? true : false, quantizer: 'flat',
  });
  const index = await loadIndex(built.bytes);
  const galleryCategories = new Set(gallery.map((r) => items[r].category));
  const records = [], categoryRecords = [];
  try {
    for (const r of query) {
      const top = index.search(vectors.subarray(r * dim, (r + 1) * dim), { k: 5, distinct: true });
      const known = !leftOut.has(labels[r]);
      const features = matchFeatures(top);
      records.push({ expected: known ? items[r].id : null, top, features });
      const cat = items[r].category;
      categoryRecords.push({
        expected: galleryCategories.has(cat) ? cat : null, features,
        top: [{ id: leadingCategory(top) }],
      });
    }
  } finally {
    index.close();
  }
  const model = confidenceModel(records);
  const item = calibrate(records, { maxFalseRate, confidenceOf: (rec) => model.predict(rec.features) });
  const category = calibrate(categoryRecords, { maxFalseRate, confidenceOf: (rec) => rec.features.score1 });
  return {
    maxFalseRate,
    source: 'catalog hold-out',
    queries: records.length,
    in_catalog: inCatalog,
    left_out_products: leftOut.size,
    item: { threshold: item.threshold, model: { features: model.features, weights: model.weights, bias: model.bias },
      holdout: { coverage: item.coverage, precision: item.precision, false_suggestion_rate: item.false_suggestion_rate } },
    category: { threshold: category.threshold,
      holdout: { coverage: category.coverage, precision: category.precision, false_suggestion_rate: category.false_suggestion_rate } },
  };
}

/**
 * @param {{ catalogPath: string, text?: string, quantizer?: string, skipBad?: boolean, adapt?: boolean|'auto',
 *           calibrate?: boolean, maxFalseRate?: number, cacheDir?: string, embedder?: string,
 *           onProgress?: (p: {stage, done, total}) => void }} options
 */
export async function buildImageCatalog(options) {
  const source = options.catalogPath;
  const text = options.text ?? (await readFile(source, 'utf8'));
  const { products, skipped } = await parseCatalog(text, { source, skipBad: options.skipBad });
  if (!products.length) throw new ShopframeError('invalid_argument', `${source}: no products`);
  const model = await resolveModel(options.embedder ?? 'mobilenetv2-feat');
  const vision = await createVision({ embedder: { manifest: model.manifestText, bytes: model.bytes, source: model.path }, detector: null });
  const dim = vision.embeddingDim;
  const cache = await EmbeddingCache.open(options.cacheDir, model.manifest.sha256, dim);
  const baseDir = dirname(resolve(source));
  const rows = [], items = [], labels = [];
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
        rows.push(p.embedding), items.push(meta), labels.push(label);
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
        const key = createHash('sha256').update(bytes).digest('hex');
        let v = cache.get(key);
        if (v) ++cached;
        else {
          try {
            v = await embedWholeImage(vision, bytes, ref);
          } catch (e) {
            e.message = `${source}:${p.line}: image ${ref}: ${e.message}`;
            throw e;
          }
          cache.set(key, v);
          ++embedded;
        }
        rows.push(v), items.push(meta), labels.push(label);
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
    calibration = await calibrateOnHoldout({ vectors, dim, items, labels: labelArray, adapt: adapted, maxFalseRate: options.maxFalseRate ?? 0.02 });
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
    bytes: final.bytes, recall: final.recall, products: products.length, vectors: rows.length, dim,
    embedded, cached, skipped, adaptation: detailed.adaptation, calibration,
  };
}
