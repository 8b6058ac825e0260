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
  /**
   * Items sharing an id (one per catalog image of a product) count once, with their best
   * score, so `k` results are `k` different products (default false).
   */
  distinct?: boolean;
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
  /** Vectors are power-normalised before search (indexes built with a learned adaptation). */
  powerNormalize: boolean;
  /** Kernel table in use: "wasm128" or "scalar". */
  simd: string;
  sections: SectionInfo[];
}

/**
 * A threshold of one category (the catalog's category string). null is an unreachable
 * threshold (JSON has no Infinity): never for that category.
 */
export interface CategoryThreshold {
  threshold?: number | null;
  /** Item thresholds only: the same operating point on the fused top-1 score (the video tracker's scale). */
  score_threshold?: number | null;
  /** Queries the threshold was chosen on: in the catalog and not, whose candidate is in this category. */
  in_catalog?: number;
  out_of_catalog?: number;
  holdout?: { coverage: number | null; precision: number | null; false_suggestion_rate: number | null };
}

/**
 * Calibrated decision thresholds (see js/decide.mjs, js/video.mjs); stored in CONF (format
 * version 2 may carry by_category and video) or passed to createEngine. null thresholds mean never.
 */
export interface Calibration {
  item?: {
    /** Suggest the top item when its confidence is at least this (absent: never suggest an item). */
    threshold?: number | null;
    /** The same operating point on the fused top-1 score: the tracker's item threshold without `video`. */
    score_threshold?: number | null;
    /**
     * Logistic confidence model over match features (score1, score2, margin, 'score1*margin',
     * 'score1^2', 'margin^2'); without it the confidence is the top-1 score.
     */
    model?: { features?: string[]; weights: number[]; bias: number };
    /** Per category of the top item, replacing threshold / score_threshold there. */
    by_category?: Record<string, CategoryThreshold>;
  };
  category?: {
    /** Suggest the category the two leading items share when the top-1 score is at least this. */
    threshold?: number | null;
    /** Per suggested category, replacing threshold there. */
    by_category?: Record<string, CategoryThreshold>;
  };
  /**
   * Tracker thresholds calibrated on labeled video segments (`shopframe calibrate` with
   * "video" lines), on a track's mean fused score; preferred over item.score_threshold and
   * category.threshold for video.
   */
  video?: {
    fps?: number;
    item?: { threshold?: number | null; by_category?: Record<string, CategoryThreshold> };
    category?: { threshold?: number | null; by_category?: Record<string, CategoryThreshold> } | null;
  };
}

/** The engine configuration stored in an index's CONF section at build time (free-form JSON). */
export interface IndexConfig {
  /** The embedder the vectors came from; createEngine refuses a different one. */
  embedder?: { name?: string; sha256?: string; dim?: number };
  calibration?: Calibration;
  [key: string]: unknown;
}

export class Index {
  readonly dim: number;
  readonly size: number;
  search(query: Float32Array | ArrayLike<number>, options?: SearchOptions): SearchHit[];
  searchRaw(query: Float32Array | ArrayLike<number>, options?: SearchOptions): { items: Uint32Array; scores: Float32Array };
  item(i: number): Omit<SearchHit, 'score' | 'item'>;
  info(): IndexInfo;
  /** The configuration stored at build time (CONF section), or null when there is none. */
  config(): IndexConfig | null;
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

export interface IndexBuildOptions extends BuildOptions {
  /** n x dim numbers, row-major. */
  vectors: Float32Array;
  dim: number;
  /** One per vector (a product with several images has several vectors sharing its id). */
  items?: ItemMeta[];
  /** Product label per vector (a product's images share one); needed by `adapt`. */
  labels?: Uint32Array;
  /** Learn a catalog adaptation (LDA): true, false (default) or 'auto' (when a held-out check says it helps). */
  adapt?: boolean | 'auto';
  /** Adapted dimension (default 80). */
  adaptDim?: number;
  /** Within-class regularisation of the adaptation (default 0.1). */
  adaptReg?: number;
  /** Stored as JSON in the CONF section; read back with Index.config(). */
  config?: IndexConfig;
  /** Measure recall@10 against exact search on this many sampled queries. */
  recallSample?: number;
}

export interface AdaptationTrial {
  rawRecallAt1: number;
  adaptedRecallAt1: number;
  rawRecallAt5: number;
  adaptedRecallAt5: number;
  heldOut: number;
}

export interface IndexBuildReport {
  bytes: Uint8Array;
  recall?: number;
  /** null when `adapt` was off. */
  adaptation: null | { applied: boolean; dim?: number; trial?: AdaptationTrial };
}

export function buildIndex(options: IndexBuildOptions): Promise<Uint8Array>;
/** buildIndex with catalog adaptation and a report. */
export function buildIndexDetailed(options: IndexBuildOptions): Promise<IndexBuildReport>;

export interface CatalogProduct {
  id: string;
  title: string;
  category: string;
  price: number | null;
  currency: string;
  url: string;
  images: string[];
  /** A copy of the line's embedding, or null when it has none. */
  embedding: Float32Array | null;
  /** 1-based line number in the JSONL text. */
  line: number;
}

/** Parse JSONL catalog text (embeddings optional): products with their image lists, and skipped lines. */
export function parseCatalog(
  jsonlText: string,
  options?: CoreOptions & { source?: string; skipBad?: boolean; dim?: number },
): Promise<{ products: CatalogProduct[]; skipped: { line: number; reason: string }[] }>;

export function buildIndexFromCatalog(
  jsonlText: string,
  options?: BuildOptions & { source?: string; skipBad?: boolean; dim?: number; recallSample?: number },
): Promise<{ bytes: Uint8Array; items: number; dim: number; skipped: { line: number; reason: string }[]; recall?: number }>;

export function simdName(options?: CoreOptions): Promise<string>;
export function coreMemoryBytes(options?: CoreOptions): Promise<number>;

// ---------------------------------------------------------------------------------------
// The vision pipeline (js/vision.mjs: createVision, Vision) and the engine (js/engine.mjs:
// createEngine, Engine). Those modules are not re-exported by js/shopframe.mjs, so only their
// types are declared here:
//
//   /** @type {import('shopframe').CreateEngine} */
//   import { createEngine } from './js/engine.mjs';
//   const engine = await createEngine({ index: bytes, models: { embedder: { manifest, bytes: onnx } } });
//   const r = await engine.analyzeImage(rgba, width, height);   // r: AnalyzeResult

/** A model as { manifest, bytes }: the manifest JSON (object or text, format in src/model/manifest.h) and the ONNX bytes. */
export interface ModelSource {
  manifest: object | string;
  bytes: Uint8Array;
  /** Names the manifest in error messages. */
  source?: string;
}

export type ModelKind = 'embedding' | 'yolox' | 'yolo' | 'yolov8' | 'centernet';

/** What the core parsed from a manifest. */
export interface ModelInfo {
  name: string;
  file: string;
  sha256: string;
  licence: string;
  sourceUrl: string;
  kind: ModelKind;
  inputName: string;
  /** The input size (the largest one, when sizeMultiple is set). */
  width: number;
  height: number;
  /** 0: a fixed width x height; else any multiple of it up to that, fitted to each frame's aspect. */
  sizeMultiple: number;
  /** 0: none; else (with sizeMultiple) each frame's content is scaled to about this many pixels at most. */
  maxPixels: number;
  layout: 'NCHW' | 'NHWC';
  outputs: string[];
  /** 0 for detectors. */
  embeddingDim: number;
  /** 'regions': a one-pass embedder whose feature maps the core pools per region. */
  pooling: 'global' | 'regions';
  classCount: number;
}

export type RegionKind = 'full_frame' | 'centre_crop' | 'detection' | 'person_hint';

/** xyxy in frame pixels: [x0, y0, x1, y1]. */
export type Box = [number, number, number, number];

export interface Region {
  box: Box;
  kind: RegionKind;
  /** Detector score (class-agnostic objectness); 0 for full_frame and centre_crop. */
  score: number;
  /** The detector's best class, or -1. */
  classId: number;
}

export interface DetectOptions {
  /** Regions in total, the full frame and the centre crop included (default 4, at least 2). */
  maxRegions?: number;
  /** Default 0.25. */
  scoreThreshold?: number;
  /** NMS IoU threshold (default 0.45). */
  iouThreshold?: number;
  /** Return the last detector run's regions when the frame size (and maxRegions) is unchanged. */
  reuse?: boolean;
}

export interface VisionOptions extends CoreOptions {
  embedder: ModelSource;
  /** Without a detector the regions are the full frame and the centre crop. */
  detector?: ModelSource | null;
  /** ONNX Runtime threads (default 1; set once per realm). */
  numThreads?: number;
  /** Where ONNX Runtime Web finds its .wasm files. */
  ortWasmPaths?: string | Record<string, string>;
}

export interface Vision {
  readonly embedderInfo: ModelInfo;
  readonly detectorInfo: ModelInfo | null;
  readonly embeddingDim: number;
  readonly frameWidth: number;
  readonly frameHeight: number;
  /** The detector's name for class `i`, or null. */
  className(i: number): string | null;
  /** Copies an RGBA frame (tight rows, width * height * 4 bytes). */
  setFrame(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): void;
  /** Decodes JPEG or PNG bytes into the frame. */
  decode(bytes: Uint8Array, source?: string): { width: number; height: number };
  /** Regions of the current frame: full frame, centre crop, then detector proposals. */
  detect(options?: DetectOptions): Promise<Region[]>;
  /** Raw embeddings of regions [0, count) of the last detect(). */
  embed(count: number): Promise<Float32Array[]>;
  /** Whether the last detect() reused the previous run's regions. */
  readonly lastDetectReused: boolean;
  /** Size of the detector's last input tensor (fitted to the frame when the manifest has input.size_multiple). */
  readonly lastDetectorInput: { width: number; height: number } | null;
  close(): Promise<void>;
}

export type CreateVision = (options: VisionOptions) => Promise<Vision>;

export interface EngineOptions extends LoadOptions {
  /** An open Index (borrowed: not closed with the engine) or index bytes (owned). */
  index: Index | Uint8Array | ArrayBuffer;
  /**
   * { manifest, bytes } pairs; in node a registry name (string) or undefined resolves through
   * js/models.mjs (defaults: the index's own embedder when its manifest is known, else mobilenetv2-f32-multiscale; yolox-nano-dynamic). detector: null runs without one.
   */
  models?: { embedder?: ModelSource | string; detector?: ModelSource | string | null };
  /** Results per region and overall (default 5). */
  k?: number;
  /** Default 4. */
  maxRegions?: number;
  /** Overrides the calibration stored in the index. */
  calibration?: Calibration;
  /**
   * Node, embedder not given: when the embedder's manifest names a "one_pass" variant
   * (mobilenetv2-f32-multiscale does), use it: one embedder run per frame, every region pooled
   * from its feature maps (default true; false: one run per cropped region).
   */
  onePass?: boolean;
  numThreads?: number;
  ortWasmPaths?: string | Record<string, string>;
}

export interface AnalyzeOptions {
  k?: number;
  maxRegions?: number;
  /** Category path prefix filter, as in SearchOptions. */
  category?: string;
  /** analyzeEncoded: names the image in error messages (default "image"). */
  source?: string;
  /**
   * Skip the detector and embed the previous detector run's boxes (same frame size only); a
   * function is asked after the frame is filled. For video samples close in time.
   */
  reuseProposals?: boolean | (() => boolean);
}

export type Suggestion =
  | { id: string; kind: 'item'; confidence: number; title: string }
  | { id: string; kind: 'category'; confidence: number };

export interface RegionResult {
  box: Box;
  score: number;
  kind: RegionKind;
  /** The detector's class name, else the region kind. */
  label: string;
  /** Distinct-id matches of this region, best first. */
  matches: SearchHit[];
  suggest: Suggestion | null;
}

export interface AnalyzeResult {
  width: number;
  height: number;
  /** Best score per id over all regions, best first, at most k. */
  top: SearchHit[];
  /** null when uncalibrated or not confident enough. */
  suggestion: Suggestion | null;
  regions: RegionResult[];
  /** 'reused' when the detector was skipped (AnalyzeOptions.reuseProposals). */
  proposals: 'detected' | 'reused';
  /** Disjoint stages in ms: decode (or frame copy), preprocess (model inputs), detect (detector run + decoding), embed (embedder runs), search. */
  timings_ms: { decode: number; preprocess: number; detect: number; embed: number; embed_per_region: number; search: number; total: number };
}

export interface Engine {
  readonly index: Index;
  readonly vision: Vision;
  /** True when an item threshold is calibrated (else the engine never suggests an item). */
  readonly calibrated: boolean;
  analyzeImage(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, options?: AnalyzeOptions): Promise<AnalyzeResult>;
  analyzeEncoded(bytes: Uint8Array, options?: AnalyzeOptions): Promise<AnalyzeResult>;
  /** Analyse a frame written in place: fill(view) writes width*height*4 RGBA bytes into WASM memory (e.g. VideoFrame.copyTo). */
  analyzeFilled(width: number, height: number, fill: (view: Uint8Array) => void | Promise<void>, options?: AnalyzeOptions): Promise<AnalyzeResult>;
  close(): Promise<void>;
}

/** Rejects with a ShopframeError when the index was built with another embedder (CONF sha256 or dimension). */
export type CreateEngine = (options: EngineOptions) => Promise<Engine>;
