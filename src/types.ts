// Public types of the tezip API. Shapes are [frames, height, width] or [frames, height, width, channels],
// C order (width, then channels, fastest), everywhere.

export type DType = 'uint8' | 'uint16' | 'int16' | 'int32' | 'float32' | 'float64';

export type TypedArray =
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Int16Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** Frames to compress. `dtype` is inferred from `data` when absent. */
export interface Frames {
  data: TypedArray;
  shape: readonly number[];
  dtype?: DType;
}

/** An `ndarray`-package-like view; only C-contiguous views are accepted. */
export interface NdArrayLike {
  data: TypedArray;
  shape: readonly number[];
  stride: readonly number[];
  offset: number;
  dtype: string;
}

/** `lorenzo` is short for `lorenzo3d`. */
export type PredictorName = 'auto' | 'none' | 'prev' | 'lorenzo' | 'lorenzo2d' | 'lorenzo3d' | 'prednet';

export interface CompressOptions {
  /** Absolute bound: |x̂ − x| ≤ abs. */
  abs?: number;
  /** Bound relative to the value range of the whole input: |x̂ − x| ≤ rel · (max − min). */
  rel?: number;
  /** Point-wise relative bound, 0 < pwrel < 1: |x̂ − x| ≤ pwrel · |x| (zeros stay zero). */
  pwrel?: number;
  predictor?: PredictorName;
  /** Effort: 0 fastest, 1 default, 2 strongest. */
  level?: 0 | 1 | 2;
  /** Frames per independently decodable chunk (default: as many as fit in 8 MiB, balanced). */
  chunkFrames?: number;
  /**
   * Chunks in flight at once for the async API (default os.availableParallelism()). They run on libuv's
   * thread pool, which has UV_THREADPOOL_SIZE threads (4 unless set in the environment before start-up);
   * tezip sets nothing globally. The output is byte-identical whatever the value.
   */
  threads?: number;
  /** Free-form JSON metadata stored in the header. */
  metadata?: Record<string, unknown>;
  /**
   * PredNet model for predictor 'prednet' (required there; with 'auto' it is tried per chunk): a model
   * folder (models/NAME) or a model from loadPredNetModel. Its sha256 is recorded in the header.
   */
  model?: string | import('./prednet/model').PredNetModel;
  /** PredNet: a key frame every `window` frames, the network fed its own predictions in between (TEZip's static window). */
  window?: number;
  /** PredNet: a new key frame after a frame whose prediction MSE (data units²) exceeds this (TEZip's dynamic window). */
  mseThreshold?: number;
  /** PredNet: frames after each key frame predicted by the previous frame while the network warms up. */
  warmup?: number;
}

export interface DecompressOptions {
  /** Refuse files that declare more decoded bytes than this (default 16 GiB). */
  maxBytes?: number;
  /** The PredNet model a file compressed with predictor 'prednet' needs (folder or loaded model). */
  model?: string | import('./prednet/model').PredNetModel;
  /** Chunks in flight at once for the async API (default os.availableParallelism()). */
  threads?: number;
}

export interface Decoded {
  data: TypedArray;
  shape: number[];
  dtype: DType;
}

/** Bound mode as requested by the user (stored in the header). */
export type ModeName = 'lossless' | 'abs' | 'rel' | 'absrel' | 'pwrel';

export interface ChunkSummary {
  chunk: number;
  offset: number;
  firstFrame: number;
  frameCount: number;
  payloadBytes: number;
  predictor: string;
  method: number;
  escapes: number;
}

export interface InspectResult {
  formatVersion: { major: number; minor: number };
  fileBytes: number;
  dtype: DType;
  shape: number[];
  mode: ModeName;
  requested: { abs: number; rel: number; pwrel: number };
  effectiveAbs: number;
  valueRange: { min: number; max: number };
  predictor: PredictorName | 'prednet';
  chunkFrames: number;
  metadata: Record<string, unknown>;
  decodedBytes: number;
  ratio: number;
  chunks: ChunkSummary[];
}
