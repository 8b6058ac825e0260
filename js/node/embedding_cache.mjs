// Embedding cache for catalog builds: image sha256 -> embedding, one file per embedder
// (keyed by the model's sha256), so a rebuild only embeds new or changed images.
// File: "SFEMBC01", u32 dim, then records of 32-byte hash + dim float32. Written
// atomically; a damaged file is ignored (and rebuilt), never trusted.
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

import { writeFileAtomic } from './atomic_write.mjs';

const MAGIC = 'SFEMBC01';

export function defaultCacheDir(env = process.env) {
  return join(env.SHOPFRAME_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'shopframe'), 'embeddings');
}

export class EmbeddingCache {
  #path; #dim; #map = new Map(); #dirty = false;

  constructor(path, dim) {
    this.#path = path;
    this.#dim = dim;
  }

  static async open(dir, modelSha256, dim) {
    const cacheDir = dir ?? defaultCacheDir();
    const cache = new EmbeddingCache(join(cacheDir, `${modelSha256.slice(0, 16)}.bin`), dim);
    let bytes;
    try {
      bytes = await readFile(cache.#path);
    } catch {
      return cache;  // no cache yet
    }
    cache.#load(bytes);
    return cache;
  }

  get size() { return this.#map.size; }

  #load(bytes) {
    const rec = 32 + 4 * this.#dim;
    if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) return;
    const dim = bytes.readUInt32LE(8);
    if (dim !== this.#dim || (bytes.length - 12) % rec !== 0) return;
    for (let at = 12; at < bytes.length; at += rec) {
      const key = bytes.toString('hex', at, at + 32);
      const v = new Float32Array(this.#dim);
      for (let i = 0; i < this.#dim; ++i) v[i] = bytes.readFloatLE(at + 32 + 4 * i);
      if (v.every(Number.isFinite)) this.#map.set(key, v);
    }
  }

  get(hashHex) { return this.#map.get(hashHex); }

  set(hashHex, vector) {
    this.#map.set(hashHex, Float32Array.from(vector));
    this.#dirty = true;
  }

  async save() {
    if (!this.#dirty) return;
    const rec = 32 + 4 * this.#dim;
    const out = Buffer.alloc(12 + rec * this.#map.size);
    out.write(MAGIC, 0, 'latin1');
    out.writeUInt32LE(this.#dim, 8);
    let at = 12;
    for (const [key, v] of this.#map) {
      out.write(key, at, 'hex');
      for (let i = 0; i < this.#dim; ++i) out.writeFloatLE(v[i], at + 32 + 4 * i);
      at += rec;
    }
    await mkdir(join(this.#path, '..'), { recursive: true });
    await writeFileAtomic(this.#path, out);
    this.#dirty = false;
  }
}
