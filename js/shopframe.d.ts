// Type declarations for shopframe's JS API (js/shopframe.mjs).

export interface CoreOptions {
  /** A precompiled core (required in workers that forbid compiling WASM from bytes). */
  wasmModule?: WebAssembly.Module;
  /** Where to fetch the core's .wasm from (browsers); defaults to the build next to the loader. */
  wasmUrl?: string | URL;
}

export class ShopframeError extends Error {
  /** The core's status name: "invalid_argument", "parse_error", "io_error", "corrupt", "truncated", "unsupported", "limit_exceeded", "out_of_memory", "not_found". */
  code: string;
}

export interface SearchOptions {
  /** Number of results (default 10). */
  k?: number;
  /** Category path prefix: "Fruit" matches "Fruit" and "Fruit/Apple", not "Fruits". */
  category?: string;
  /** Drop results scoring below this (cosine similarity for cosine indexes). */
  minScore?: number;
  /** Inverted lists to scan (default: the index's). */
  nprobe?: number;
  /** Shortlist size factor for re-ranking (default: the index's). */
  rerank?: number;
}

export interface SearchHit {
  id: string;
  score: number;
  title: string;
  category: string;
  price: number | null;
  currency: string;
  url: string;
  image: string;
  /** Item ordinal in build order. */
  item: number;
}

export interface SectionInfo {
  kind: string;
  offset: number;
  bytes: number;
  crc32: number;
  verified: boolean;
}

export interface IndexInfo {
  version: number;
  dim: number;
  workDim: number;
  count: number;
  metric: 'cosine' | 'inner_product';
  quantizer: string;
  buildUnixMs: number;
  fileBytes: number;
  ivfLists: number;
  defaultNprobe: number;
  defaultRerank: number;
  hasMetadata: boolean;
  /** Kernel table in use: "wasm128" or "scalar". */
  simd: string;
  sections: SectionInfo[];
}

export class Index {
  readonly dim: number;
  readonly size: number;
  search(query: Float32Array | ArrayLike<number>, options?: SearchOptions): SearchHit[];
  searchRaw(query: Float32Array | ArrayLike<number>, options?: SearchOptions): { items: Uint32Array; scores: Float32Array };
  item(i: number): Omit<SearchHit, 'score' | 'item'>;
  info(): IndexInfo;
  /** Frees the index's WASM memory; the object is unusable afterwards. */
  close(): void;
}

export interface LoadOptions extends CoreOptions {
  /** Verify section checksums (default true). */
  verify?: boolean;
}

export function initCore(options?: CoreOptions): Promise<unknown>;
export function loadIndex(bytes: Uint8Array | ArrayBuffer, options?: LoadOptions): Promise<Index>;
/** A Uint8Array inside WASM memory; fill it and pass it to loadIndex to skip a copy. */
export function allocIndexBuffer(size: number, options?: CoreOptions): Promise<Uint8Array>;

export interface BuildProgress { stage: string; done: number; total: number }

export interface BuildOptions extends CoreOptions {
  /** Quantizer string, e.g. "sq8", "ivf256,pq32,rr:sq8" (default "sq8"). */
  quantizer?: string;
  metric?: 'cosine' | 'inner_product';
  seed?: number;
  /** Recorded in the header (default Date.now()). */
  buildTime?: number;
  onProgress?: (p: BuildProgress) => void;
}

export interface ItemMeta {
  id: string;
  title?: string;
  category?: string;
  price?: number;
  currency?: string;
  url?: string;
  image?: string;
}

export function buildIndex(options: BuildOptions & { vectors: Float32Array; dim: number; items?: ItemMeta[] }): Promise<Uint8Array>;

export function buildIndexFromCatalog(
  jsonlText: string,
  options?: BuildOptions & { source?: string; skipBad?: boolean; dim?: number; recallSample?: number },
): Promise<{ bytes: Uint8Array; items: number; dim: number; skipped: { line: number; reason: string }[]; recall?: number }>;

export function simdName(options?: CoreOptions): Promise<string>;
export function coreMemoryBytes(options?: CoreOptions): Promise<number>;
