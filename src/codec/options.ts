// Validation of what callers pass in, with sharp-shaped messages: "Expected X for Y but received Z".
// TypeError for a wrong kind of value, RangeError for a value out of range.
import os from 'node:os';
import type { CompressOptions, DecompressOptions, DType, ModeName, TypedArray } from '../types';
import { PREDNET_COMPRESS_KEYS, ResolvedPredNet, resolvePredNetCompress, resolvePredNetDecompress } from '../prednet/options';
import type { PredNetModel } from '../prednet/model';
import { DTYPE_NAMES, DTypeInfo, PREDICTOR_IDS, PREDICTOR_NAMES, dtypeByName, dtypeOfArray } from './enums';

/** Largest input accepted in one chunk (the payload length is a u32 on disk; keep far from it). */
export const MAX_CHUNK_BYTES = 1024 * 1024 * 1024;
/** Default chunk size target. */
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
/** Default limit on declared decoded size when reading. */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024 * 1024;

export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'number' ? String(x) : show(x))).join(',')}]`;
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'object') {
    const name = (v as object).constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return typeof v;
}

/** Frames after validation: a byte view over the caller's buffer, no copy. */
export interface NormalizedFrames {
  dtype: DTypeInfo;
  frames: number;
  height: number;
  width: number;
  channels: number;
  /** true when the caller's shape had 4 axes (kept so decompress returns the same shape). */
  explicitChannels: boolean;
  bytes: Uint8Array;
  frameBytes: number;
}

const isTypedArrayLike = (v: unknown): v is TypedArray => ArrayBuffer.isView(v) && !(v instanceof DataView);

function checkShape(shape: unknown): number[] {
  if (!Array.isArray(shape)) {
    throw new TypeError(`Expected an array for shape but received ${show(shape)}`);
  }
  if (shape.length !== 3 && shape.length !== 4) {
    throw new TypeError(
      `Expected shape [frames, height, width] or [frames, height, width, channels] but received ${show(shape)}`,
    );
  }
  for (const d of shape) {
    if (typeof d !== 'number') {
      throw new TypeError(`Expected integers for shape but received ${show(shape)}`);
    }
    if (!Number.isInteger(d) || d < 1 || d > 0xffffffff) {
      throw new RangeError(`Expected positive integers below 2^32 for shape but received ${show(shape)}`);
    }
  }
  return shape as number[];
}

/** Validates frames ({data, shape, dtype?} or an ndarray-like view) and returns a byte view of them. */
export function normalizeFrames(input: unknown): NormalizedFrames {
  if (input === null || typeof input !== 'object') {
    throw new TypeError(`Expected an object {data, shape, dtype?} for frames but received ${show(input)}`);
  }
  const f = input as Record<string, unknown>;
  let data = f.data;
  if (!isTypedArrayLike(data)) {
    throw new TypeError(`Expected a TypedArray for frames.data but received ${show(data)}`);
  }
  const shape = checkShape(f.shape);
  const elements = shape.reduce((a, b) => a * b, 1);

  // ndarray-package-like view: {data, shape, stride, offset, dtype}.
  if (f.stride !== undefined || f.offset !== undefined) {
    const stride = f.stride;
    const offset = f.offset ?? 0;
    if (!Array.isArray(stride) || stride.length !== shape.length || stride.some((s) => typeof s !== 'number')) {
      throw new TypeError(`Expected an array of ${shape.length} numbers for stride but received ${show(stride)}`);
    }
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
      throw new TypeError(`Expected a non-negative integer for offset but received ${show(offset)}`);
    }
    let expected = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (shape[i] !== 1 && stride[i] !== expected) {
        throw new TypeError(
          `Expected a C-contiguous array (stride ${show(cStrides(shape))}) but received stride ${show(stride)}; copy it first`,
        );
      }
      expected *= shape[i];
    }
    const arr = data as TypedArray;
    if (offset + elements > arr.length) {
      throw new RangeError(
        `Expected ${elements} elements from offset ${offset} for shape ${show(shape)} but received ${arr.length - offset}`,
      );
    }
    data = arr.subarray(offset, offset + elements);
  }

  const arr = data as TypedArray;
  const inferred = dtypeOfArray(arr);
  let dtype: DTypeInfo | undefined = inferred;
  let bytesView: Uint8Array;
  if (f.dtype !== undefined) {
    if (typeof f.dtype !== 'string' || !dtypeByName(f.dtype)) {
      throw new TypeError(`Expected one of ${DTYPE_NAMES.join(', ')} for dtype but received ${show(f.dtype)}`);
    }
    dtype = dtypeByName(f.dtype)!;
  }
  if (!inferred) {
    throw new TypeError(
      `Expected a Uint8Array, Uint16Array, Int16Array, Int32Array, Float32Array or Float64Array for frames.data but received ${show(arr)}`,
    );
  }
  if (dtype !== inferred) {
    // Plain bytes (a Buffer read from a .raw file, say) may carry any dtype, little-endian.
    if (!(arr instanceof Uint8Array)) {
      throw new TypeError(`Expected dtype '${inferred.name}' for a ${show(arr).slice(2)} but received '${dtype!.name}'`);
    }
    const want = elements * dtype!.bytes;
    if (arr.byteLength !== want) {
      throw new RangeError(
        `Expected ${want} bytes (${elements} ${dtype!.name} values) for shape ${show(shape)} but received ${arr.byteLength}`,
      );
    }
    bytesView = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    if (bytesView.byteOffset % dtype!.bytes !== 0) bytesView = bytesView.slice(); // align for the core
  } else {
    if (arr.length !== elements) {
      throw new RangeError(`Expected ${elements} elements for shape ${show(shape)} but received ${arr.length}`);
    }
    bytesView = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  }
  const d = dtype!;
  const [frames, height, width] = shape;
  const channels = shape.length === 4 ? shape[3] : 1;
  const frameBytes = height * width * channels * d.bytes;
  if (!Number.isSafeInteger(frameBytes) || frameBytes > MAX_CHUNK_BYTES) {
    throw new RangeError(`Expected frames of at most ${MAX_CHUNK_BYTES} bytes but received ${frameBytes}`);
  }
  return { dtype: d, frames, height, width, channels, explicitChannels: shape.length === 4, bytes: bytesView, frameBytes };
}

function cStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export interface ResolvedOptions {
  mode: ModeName;
  abs: number; // requested, 0 when unused
  rel: number;
  pwrel: number;
  predictor: number;
  level: number;
  chunkFrames?: number;
  threads: number;
  metadata: Record<string, unknown>;
  /** PredNet model and window options (src/prednet/options.ts). */
  pn: ResolvedPredNet;
}

const COMPRESS_KEYS = new Set(['abs', 'rel', 'pwrel', 'predictor', 'level', 'chunkFrames', 'threads', 'metadata', ...PREDNET_COMPRESS_KEYS]);

function checkKeys(o: object, allowed: Set<string>, what: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.has(k)) {
      throw new TypeError(`Expected one of ${[...allowed].join(', ')} as ${what} keys but received '${k}'`);
    }
  }
}

function positiveNumber(v: unknown, name: string, below?: number): number {
  if (typeof v !== 'number') throw new TypeError(`Expected a positive number for options.${name} but received ${show(v)}`);
  if (!(v > 0) || !Number.isFinite(v)) {
    throw new RangeError(`Expected a positive number for options.${name} but received ${show(v)}`);
  }
  if (below !== undefined && !(v < below)) {
    throw new RangeError(`Expected a number between 0 and ${below} (exclusive) for options.${name} but received ${show(v)}`);
  }
  return v;
}

function positiveInteger(v: unknown, name: string, max: number): number {
  if (typeof v !== 'number') throw new TypeError(`Expected a positive integer for options.${name} but received ${show(v)}`);
  if (!Number.isInteger(v) || v < 1 || v > max) {
    throw new RangeError(`Expected a positive integer up to ${max} for options.${name} but received ${show(v)}`);
  }
  return v;
}

export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length || 1;
}

export function resolveCompressOptions(opts: unknown): ResolvedOptions {
  if (opts === undefined || opts === null) opts = {};
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`Expected an object for options but received ${show(opts)}`);
  }
  const o = opts as Record<string, unknown>;
  checkKeys(o, COMPRESS_KEYS, 'options');
  const abs = o.abs === undefined ? 0 : positiveNumber(o.abs, 'abs');
  const rel = o.rel === undefined ? 0 : positiveNumber(o.rel, 'rel');
  const pwrel = o.pwrel === undefined ? 0 : positiveNumber(o.pwrel, 'pwrel', 1);
  if (pwrel && (abs || rel)) {
    throw new TypeError('Expected options.pwrel alone but received it together with options.abs or options.rel');
  }
  const mode: ModeName = pwrel ? 'pwrel' : abs && rel ? 'absrel' : abs ? 'abs' : rel ? 'rel' : 'lossless';

  let predictor = PREDICTOR_IDS.auto;
  if (o.predictor !== undefined) {
    if (typeof o.predictor !== 'string' || !(PREDICTOR_NAMES as readonly string[]).includes(o.predictor)) {
      throw new TypeError(
        `Expected one of ${PREDICTOR_NAMES.join(', ')} for options.predictor but received ${show(o.predictor)}`,
      );
    }
    predictor = PREDICTOR_IDS[o.predictor as keyof typeof PREDICTOR_IDS];
  }
  let level = 1;
  if (o.level !== undefined) {
    if (typeof o.level !== 'number') throw new TypeError(`Expected 0, 1 or 2 for options.level but received ${show(o.level)}`);
    if (o.level !== 0 && o.level !== 1 && o.level !== 2) {
      throw new RangeError(`Expected 0, 1 or 2 for options.level but received ${show(o.level)}`);
    }
    level = o.level;
  }
  const chunkFrames = o.chunkFrames === undefined ? undefined : positiveInteger(o.chunkFrames, 'chunkFrames', 0xffffffff);
  const threads = o.threads === undefined ? defaultThreads() : positiveInteger(o.threads, 'threads', 1024);
  let metadata: Record<string, unknown> = {};
  if (o.metadata !== undefined) {
    if (o.metadata === null || typeof o.metadata !== 'object' || Array.isArray(o.metadata)) {
      throw new TypeError(`Expected a plain object for options.metadata but received ${show(o.metadata)}`);
    }
    metadata = o.metadata as Record<string, unknown>;
  }
  const pn = resolvePredNetCompress(o, predictor === PREDICTOR_IDS.prednet);
  return { mode, abs, rel, pwrel, predictor, level, chunkFrames, threads, metadata, pn };
}

export interface ResolvedDecompressOptions {
  maxBytes: number;
  threads: number;
  model?: PredNetModel;
}

const DECOMPRESS_KEYS = new Set(['maxBytes', 'threads', 'model']);

export function resolveDecompressOptions(opts: unknown): ResolvedDecompressOptions {
  if (opts === undefined || opts === null) opts = {};
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`Expected an object for options but received ${show(opts)}`);
  }
  const o = opts as DecompressOptions & Record<string, unknown>;
  checkKeys(o, DECOMPRESS_KEYS, 'options');
  const maxBytes = o.maxBytes === undefined ? DEFAULT_MAX_BYTES : positiveInteger(o.maxBytes, 'maxBytes', Number.MAX_SAFE_INTEGER);
  const threads = o.threads === undefined ? defaultThreads() : positiveInteger(o.threads, 'threads', 1024);
  return { maxBytes, threads, model: resolvePredNetDecompress(o) };
}

export function checkBytes(bytes: unknown, what = 'bytes'): Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`Expected a Uint8Array (or Buffer) for ${what} but received ${show(bytes)}`);
  }
  return bytes;
}

/** Balanced chunking: no chunk much smaller than the others. */
export function planChunks(frames: number, frameBytes: number, chunkFrames?: number): { nominal: number; chunks: Array<[number, number]> } {
  let nominal: number;
  if (chunkFrames !== undefined) {
    nominal = Math.min(chunkFrames, frames);
    if (nominal * frameBytes > MAX_CHUNK_BYTES) {
      throw new RangeError(
        `Expected options.chunkFrames × frame bytes of at most ${MAX_CHUNK_BYTES} but received ${nominal} × ${frameBytes}`,
      );
    }
  } else {
    const max = Math.max(1, Math.floor(DEFAULT_CHUNK_BYTES / frameBytes));
    const n = Math.ceil(frames / max);
    nominal = Math.ceil(frames / n);
  }
  const chunks: Array<[number, number]> = [];
  for (let first = 0; first < frames; first += nominal) chunks.push([first, Math.min(nominal, frames - first)]);
  return { nominal, chunks };
}

export type { DType };
