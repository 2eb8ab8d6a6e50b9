// Random access to a .tez file on disk: header, trailer and index are read and checked when the file is
// opened; readFrames() then reads and decodes only the chunks that hold the frames asked for, in parallel on
// libuv's pool. The file is never read whole.
import * as fs from 'node:fs';
import { TezipError, fromNative, withCallerStack } from '../errors';
import { native } from '../native';
import type { DType, TypedArray } from '../types';
import { DTypeInfo, MODE_NAMES, dtypeById } from '../codec/enums';
import { DEFAULT_MAX_BYTES, defaultThreads, show } from '../codec/options';
import { FLAG_EXPLICIT_CHANNELS, Header, IndexEntry, RECORD_HEADER_BYTES, TRAILER_BYTES, parseHeader, readIndex, readTrailer } from './format';
import { Layout, checkIndexOffset, checkLayout, checkRecord, locateError } from './reader';

/** Headers larger than this are refused (they hold metadata; 1.0 writers produce a few hundred bytes). */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;

export interface OpenTezOptions {
  /** Refuse files that declare more decoded bytes than this (default 16 GiB). */
  maxBytes?: number;
  /** Chunks decoded at once by readFrames (default os.availableParallelism()). */
  threads?: number;
  /** The PredNet model a file compressed with predictor 'prednet' needs (folder or loaded model). */
  model?: string | import('../prednet/model').PredNetModel;
}

export interface ReadFramesOptions {
  /**
   * Decode what can be decoded: frames of a damaged chunk are returned as zeros and listed in `gaps`
   * instead of failing the whole read (default false).
   */
  ignoreDamaged?: boolean;
}

/** Frames lost to a damaged chunk (`ignoreDamaged`): filled with zeros in the returned data. */
export interface Gap {
  chunk: number;
  firstFrame: number;
  frameCount: number;
  code: string;
  message: string;
}

export interface FramesRead {
  data: TypedArray;
  /** [end − start, height, width(, channels)]. */
  shape: number[];
  dtype: DType;
  /** Damaged chunks met (only with ignoreDamaged; empty otherwise). */
  gaps: Gap[];
}

export interface TezReader {
  readonly path: string;
  readonly frameCount: number;
  /** [frames, height, width] or [frames, height, width, channels]. */
  readonly shape: number[];
  readonly dtype: DType;
  readonly mode: string;
  readonly metadata: Record<string, unknown>;
  /** Chunks in the file: first frame and frame count of each. */
  readonly chunks: ReadonlyArray<{ firstFrame: number; frameCount: number }>;
  /** Counters since opening (for tests and benchmarks): chunks decoded, bytes read from the file. */
  readonly stats: { chunksDecoded: number; bytesRead: number };
  /** Frames [start, end) (end exclusive; defaults: the whole file). */
  readFrames(start?: number, end?: number, options?: ReadFramesOptions): Promise<FramesRead>;
  close(): Promise<void>;
}

async function readAt(fh: fs.promises.FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new TezipError('TEZ_TRUNCATED', `File ended at byte ${position + done}, expected ${length - done} more bytes`);
    done += bytesRead;
  }
  return buf;
}

/** Reads and checks header, trailer and index of an open file (docs/FORMAT.md reader checks 1–8). */
export async function readLayout(fh: fs.promises.FileHandle, size: number, maxBytes: number): Promise<Layout> {
  const start = await readAt(fh, 0, Math.min(size, 14));
  if (size < 14) parseHeader(start); // throws: bad magic or truncated
  const headerBytes = new DataView(start.buffer).getUint32(10, true);
  if (headerBytes > MAX_HEADER_BYTES && headerBytes <= size) {
    throw new TezipError('TEZ_TOO_LARGE', `Header of ${headerBytes} bytes is beyond what this reader handles`);
  }
  const header = parseHeader(headerBytes > 14 && headerBytes <= size ? await readAt(fh, 0, headerBytes) : start);
  if (size < header.headerBytes + TRAILER_BYTES) {
    throw new TezipError('TEZ_TRUNCATED', `File truncated after the header (${size} bytes)`);
  }
  const trailer = readTrailer(await readAt(fh, size - TRAILER_BYTES, TRAILER_BYTES));
  const indexEnd = size - TRAILER_BYTES;
  checkIndexOffset(header, trailer, indexEnd);
  const indexBytes = await readAt(fh, trailer.indexOffset, indexEnd - trailer.indexOffset);
  const entries = readIndex(indexBytes, 0, indexBytes.length);
  return checkLayout(header, trailer, entries, maxBytes);
}

function checkThreads(v: unknown): number {
  if (v === undefined) return defaultThreads();
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1024) {
    throw new RangeError(`Expected a positive integer up to 1024 for options.threads but received ${show(v)}`);
  }
  return v;
}

function frameShapeOf(h: Header): number[] {
  return h.flags & FLAG_EXPLICIT_CHANNELS || h.channels !== 1 ? [h.height, h.width, h.channels] : [h.height, h.width];
}

/** Index of the chunk holding `frame` (entries tile the frames in order). */
function chunkOf(entries: IndexEntry[], frame: number): number {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (entries[mid].firstFrame <= frame) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Opens a .tez file for random access. Checks its structure; decodes nothing yet. */
export async function openTez(path: string, options: OpenTezOptions = {}): Promise<TezReader> {
  if (typeof path !== 'string' || path === '') throw new TypeError(`Expected a file path for path but received ${show(path)}`);
  if (options === null || typeof options !== 'object') throw new TypeError(`Expected an object for options but received ${show(options)}`);
  for (const k of Object.keys(options)) {
    if (k !== 'maxBytes' && k !== 'threads' && k !== 'model')
      throw new TypeError(`Expected one of maxBytes, threads, model as options keys but received '${k}'`);
  }
  const mb = options.maxBytes;
  if (mb !== undefined && (typeof mb !== 'number' || !Number.isSafeInteger(mb) || mb < 1)) {
    throw new RangeError(`Expected a positive integer for options.maxBytes but received ${show(mb)}`);
  }
  const threads = checkThreads(options.threads);
  // loaded lazily: only files that use PredNet need it
  const model = options.model === undefined ? undefined : (require('../prednet/options') as typeof import('../prednet/options')).resolvePredNetDecompress({ model: options.model });
  const fh = await fs.promises.open(path, 'r');
  let layout: Layout;
  try {
    const { size } = await fh.stat();
    layout = await readLayout(fh, size, mb ?? DEFAULT_MAX_BYTES);
  } catch (e) {
    await fh.close();
    throw e;
  }
  return new FileReader(path, fh, layout, threads, model?.handle);
}

class FileReader implements TezReader {
  readonly frameCount: number;
  readonly shape: number[];
  readonly dtype: DType;
  readonly mode: string;
  readonly metadata: Record<string, unknown>;
  readonly chunks: ReadonlyArray<{ firstFrame: number; frameCount: number }>;
  readonly stats = { chunksDecoded: 0, bytesRead: 0 };
  private readonly info: DTypeInfo;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly fh: fs.promises.FileHandle,
    private readonly layout: Layout,
    private readonly threads: number,
    private readonly prednet?: unknown,
  ) {
    const h = layout.header;
    this.info = dtypeById(h.dtype)!;
    this.frameCount = layout.frames;
    this.shape = [layout.frames, ...frameShapeOf(h)];
    this.dtype = this.info.name;
    this.mode = MODE_NAMES[h.mode];
    this.metadata = h.metadata;
    this.chunks = layout.entries.map((e) => ({ firstFrame: e.firstFrame, frameCount: e.frameCount }));
  }

  readFrames(start = 0, end = this.frameCount, options: ReadFramesOptions = {}): Promise<FramesRead> {
    const caller: { stack?: string } = {};
    Error.captureStackTrace(caller, this.readFrames);
    return withCallerStack(this.read(start, end, options), caller);
  }

  private async read(start: number, end: number, options: ReadFramesOptions): Promise<FramesRead> {
    if (this.closed) throw new Error('The .tez file is closed');
    for (const [name, v] of [['start', start], ['end', end]] as const) {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`Expected an integer for ${name} but received ${show(v)}`);
    }
    if (start < 0 || end > this.frameCount || start >= end) {
      throw new RangeError(`Expected 0 ≤ start < end ≤ ${this.frameCount} but received start ${start}, end ${end}`);
    }
    if (options === null || typeof options !== 'object') throw new TypeError(`Expected an object for options but received ${show(options)}`);
    const ignoreDamaged = options.ignoreDamaged === true;
    const { layout, info } = this;
    const fb = layout.frameBytes;
    let out: TypedArray;
    try {
      out = new info.ctor((end - start) * (fb / info.bytes));
    } catch (e) {
      throw new TezipError('TEZ_TOO_LARGE', `Cannot allocate ${(end - start) * fb} bytes for frames ${start}–${end - 1}`, { cause: e });
    }
    const outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    const first = chunkOf(layout.entries, start);
    const last = chunkOf(layout.entries, end - 1);
    const gaps: Gap[] = [];
    const h = layout.header;
    const addon = native();

    const one = async (i: number) => {
      const e = layout.entries[i];
      // The part of chunk i that is wanted, in frames, and where it goes in `out`.
      const from = Math.max(start, e.firstFrame);
      const to = Math.min(end, e.firstFrame + e.frameCount);
      const dest = outBytes.subarray((from - start) * fb, (to - start) * fb);
      try {
        const record = await readAt(this.fh, e.offset, RECORD_HEADER_BYTES + e.payloadBytes);
        this.stats.bytesRead += record.length;
        const payload = checkRecord(record, i, e);
        const whole = from === e.firstFrame && to === e.firstFrame + e.frameCount;
        const target = whole ? dest : new Uint8Array(e.frameCount * fb);
        this.stats.chunksDecoded++;
        try {
          await addon.decodeChunkAsync(payload, { dtype: h.dtype, frames: e.frameCount, height: h.height, width: h.width, channels: h.channels, prednet: this.prednet }, target);
        } catch (err) {
          throw locateError(fromNative(err), i, e);
        }
        if (!whole) dest.set(target.subarray((from - e.firstFrame) * fb, (to - e.firstFrame) * fb));
      } catch (err) {
        if (!ignoreDamaged || !(err instanceof TezipError)) throw err;
        dest.fill(0); // a failed decode may have written part of it
        gaps.push({ chunk: i, firstFrame: e.firstFrame, frameCount: e.frameCount, code: err.code, message: err.message });
      }
    };

    {
      let next = first;
      let failed = false;
      const lane = async () => {
        while (!failed && next <= last) {
          const i = next++;
          try {
            await one(i);
          } catch (e) {
            failed = true;
            throw e;
          }
        }
      };
      const lanes = Array.from({ length: Math.min(this.threads, last - first + 1) }, lane);
      const settled = await Promise.allSettled(lanes);
      const bad = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (bad) throw bad.reason;
    }
    gaps.sort((a, b) => a.chunk - b.chunk);
    return { data: out, shape: [end - start, ...frameShapeOf(h)], dtype: this.dtype, gaps };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}
