// Type declarations for shopframe/web (js/web/index.mjs).
import type { Suggestion, SimilarItem } from './element';

export type { Suggestion, SimilarItem };

/** A model for the worker: its manifest (URL, JSON text or object) and the ONNX file (URL or bytes). */
export interface ModelRef {
  manifest: string | object;
  url?: string;
  bytes?: ArrayBuffer | Uint8Array;
}

export interface AttachOptions {
  /** The catalog index (.sfi): URL or bytes. It must have been built with the same embedder. */
  index: string | ArrayBuffer | Uint8Array;
  /**
   * embedder: one model, or a list: the worker then loads the one whose manifest names the
   * embedder the index was built with (else the first), so indexes built with either work.
   */
  models: { embedder: ModelRef | ModelRef[]; detector?: ModelRef | null };
  /** Samples per second of video at most (default 2). */
  sampleFps?: number;
  /**
   * Fraction of the time the worker may be busy analysing (default 0.5): the sampling interval
   * stretches to stay within it. With one thread that is a fraction of one core; with `threads`
   * n, up to n times that in CPU.
   */
  cpuBudget?: number;
  /** Frames larger than this on their long side are scaled down before analysis (default 640). */
  maxSide?: number;
  /** Matches fetched per region (default 10) and regions per frame (default 4). */
  k?: number;
  maxRegions?: number;
  /**
   * Run the detector on every n-th analysed frame only, and at shot cuts and seeks (default 2;
   * 1: every frame); in between the last run's boxes are embedded. On the 22 test videos 2
   * cost 0.84x of 1 per sample with the same timeline quality (docs/video.md).
   */
  detectEvery?: number;
  /**
   * When `models.embedder` lists a one-pass model (manifest "pooling": "regions") that is
   * compatible_with the index's embedder, the worker uses it: one embedder run per frame, every
   * region pooled from its feature maps, instead of one run per region (default true; false:
   * the index's own embedder on each cropped region). docs/quality.md, "One pass per frame".
   */
  onePass?: boolean;
  /**
   * ONNX Runtime threads in the worker (default 1; 1..16). More than one needs a cross-origin
   * isolated page (COOP/COEP headers); elsewhere the worker runs one thread. `info.threads`
   * says what it got. See docs/web.md for what 2 threads measured on 2 cores.
   */
  threads?: number;
  /** Tracker overrides (see js/video.mjs trackOptionsFrom). */
  track?: Record<string, number>;
  /** Called for every new or updated suggestion (also a 'suggestion' event on the session). */
  onSuggestion?: (s: Suggestion) => void;
  /**
   * The edge worker serving the full catalog (deploy/): each new suggestion's best-region
   * embedding (never a frame) goes to POST {url}/v1/match, and the items it returns beyond the
   * on-device shard are appended to `similar` (marked source: 'edge'; the suggestion event
   * fires again). Decisions stay on the device.
   */
  edge?: { url: string; k?: number };
  /** Maps a catalog image path (as stored in the index) to a URL for thumbnails. */
  resolveImage?: (path: string, item: SimilarItem) => string;
  /** Where the SDK files live (default: next to this module, as tools/build-web.mjs lays them out). */
  workerUrl?: string;
  wasmUrl?: string;
  ortWasmPaths?: string | { wasm?: string; mjs?: string };
}

export interface StageStats {
  frames: number;
  skippedBusy: number;
  skippedKnown: number;
  errors: number;
  /** How frames reached the worker: 'videoframe-copyto' (zero-copy into WASM memory), 'offscreen-canvas' or 'canvas'. */
  grab: string | null;
  /** Mean milliseconds per analysed frame: grab, preprocess, detect, embed, search, total (in the worker), roundtrip (page). */
  mean_ms: Record<string, number>;
  /** Sustained analysed frames per second (wall clock), or null before two frames. */
  fps: number | null;
}

export interface FrameInfo {
  t: number;
  width: number;
  height: number;
  regions: { box: [number, number, number, number]; kind: string; label: string; top: { id: string; title: string; score: number } | null }[];
  timings_ms: Record<string, number>;
  grab: string;
}

export declare class ShopframeSession extends EventTarget {
  readonly suggestions: Suggestion[];
  readonly stats: StageStats;
  readonly video: HTMLVideoElement;
  readonly detached: boolean;
  /** Sampling interval in use (s). */
  readonly interval: number;
  /** What the worker loaded. */
  info: { vectors: number; calibrated: boolean; simd: string; embedder: string; detector: string | null; threads: number };
  /** Events: 'suggestion' (detail: Suggestion), 'frame' (detail: FrameInfo), 'error' (detail: ShopframeWebError). */
  detach(): Promise<void>;
}

export declare class ShopframeWebError extends Error {
  code: string;
}

/** True when this browser runs WebAssembly SIMD. */
export declare function hasWasmSimd(): boolean;

/** Starts the worker, loads the index and models, and follows the video. Rejects with ShopframeWebError ('unsupported' without SIMD). */
export declare function attachShoppable(video: HTMLVideoElement, options: AttachOptions): Promise<ShopframeSession>;
