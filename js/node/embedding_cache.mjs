// Embedding cache for catalog builds: image sha256 -> embedding, one file per embedder
// (keyed by the model's sha256), so a rebuild only embeds new or changed images.
// File: "SFEMBC02", u32 dim, u32 record count, the SHA-256 of the records (32 bytes), then
// records of 32-byte hash + dim float32. Written atomically; a damaged file (wrong size or
// checksum, e.g. a torn page after a crash) or one in another format is ignored, reported
// (`problem`) and rewritten, never trusted.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

import { writeFileAtomic } from './atomic_write.mjs';

const MAGIC = 'SFEMBC02';
const HEADER = 48;

export function defaultCacheDir(env = process.env) {
  return join(env.SHOPFRAME_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'shopframe'), 'embeddings');
}

export class EmbeddingCache {
  #path; #dim; #map = new Map(); #dirty = false; #problem = null;

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
    const why = cache.#load(bytes);
    if (why) {
      cache.#map.clear();
      cache.#problem = `${cache.#path}: ${why}`;
      cache.#dirty = true;  // replace it even if nothing new is added
    }
    return cache;
  }

  get size() { return this.#map.size; }

  /** Why the file on disk was not used (damaged, another format), or null. */
  get problem() { return this.#problem; }

  // Returns '' when loaded, else why the file was not used.
  #load(bytes) {
    const rec = 32 + 4 * this.#dim;
    const magic = bytes.toString('latin1', 0, Math.min(8, bytes.length));
    if (magic !== MAGIC) {
      return /^SFEMBC\d\d$/.test(magic) ? `another cache format (${magic})` : `damaged (${bytes.length} bytes, not an embedding cache)`;
    }
    if (bytes.length < HEADER) return `damaged (${bytes.length} bytes, cut inside the header)`;
    const dim = bytes.readUInt32LE(8);
    if (dim !== this.#dim) return `holds ${dim}-dimensional embeddings, the embedder makes ${this.#dim}`;
    const count = bytes.readUInt32LE(12);
    if (bytes.length !== HEADER + count * rec) return `damaged (${bytes.length} bytes, ${HEADER + count * rec} expected for ${count} entries)`;
    if (!createHash('sha256').update(bytes.subarray(HEADER)).digest().equals(bytes.subarray(16, HEADER))) return 'damaged (checksum mismatch)';
    for (let at = HEADER; at < bytes.length; at += rec) {
      const key = bytes.toString('hex', at, at + 32);
      const v = new Float32Array(this.#dim);
      for (let i = 0; i < this.#dim; ++i) v[i] = bytes.readFloatLE(at + 32 + 4 * i);
      if (v.every(Number.isFinite)) this.#map.set(key, v);
    }
    return '';
  }

  get(hashHex) { return this.#map.get(hashHex); }

  set(hashHex, vector) {
    this.#map.set(hashHex, Float32Array.from(vector));
    this.#dirty = true;
  }

  async save() {
    if (!this.#dirty) return;
    const rec = 32 + 4 * this.#dim;
    const out = Buffer.alloc(HEADER + rec * this.#map.size);
    out.write(MAGIC, 0, 'latin1');
    out.writeUInt32LE(this.#dim, 8);
    out.writeUInt32LE(this.#map.size, 12);
    let at = HEADER;
    for (const [key, v] of this.#map) {
      out.write(key, at, 'hex');
      for (let i = 0; i < this.#dim; ++i) out.writeFloatLE(v[i], at + 32 + 4 * i);
      at += rec;
    }
    createHash('sha256').update(out.subarray(HEADER)).digest().copy(out, 16);
    await mkdir(join(this.#path, '..'), { recursive: true });
    await writeFileAtomic(this.#path, out);
    this.#dirty = false;
  }
}
