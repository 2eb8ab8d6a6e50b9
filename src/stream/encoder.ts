// Streaming encoder for streams of unknown length (detectors pushing frames as they arrive).
// Frames are copied into a chunk buffer; a full chunk is compressed on libuv's pool while the next one fills,
// and records are written in order as soon as they are ready. At most `threads` chunks are being compressed
// at once, and push() waits when that many are, so memory is bounded by (threads + 1) chunks whatever the
// stream length. Each written record is complete and checksummed, so a writer killed mid-stream leaves a
// file that `tezip recover` turns back into a valid one (docs/FORMAT.md, "Streaming and recovery").
import type { Writable } from 'node:stream';
import { TezipError, fromNative, withCallerStack } from '../errors';
import { native, NativeEncodeParams } from '../native';
import type { CompressOptions, DType, TypedArray } from '../types';
import { DTYPE_NAMES, DTypeInfo, MODE_IDS, NativeMode, dtypeByName, dtypeOfArray } from '../codec/enums';
import { DEFAULT_CHUNK_BYTES, MAX_CHUNK_BYTES, ResolvedOptions, resolveCompressOptions, show } from '../codec/options';
import { resolveBound } from '../codec/codec';
import {
  FLAG_EXPLICIT_CHANNELS,
  IndexEntry,
  RECORD_HEADER_BYTES,
  encodeChunkRecord,
  writeHeader,
  writeIndex,
  writeTrailer,
} from '../container/format';
import { FileSink, Sink, WritableSink } from './sink';

/** Options shared by `createEncoder` and `createCompressStream`. */
export interface StreamCompressOptions extends CompressOptions {
  /** dtype of the frames (required). */
  dtype: DType;
  /** Shape of one frame: [height, width] or [height, width, channels] (required). */
  frameShape: readonly number[];
  /**
   * [min, max] that every finite value lies in. Required with `rel` (the bound is rel × (max − min) of this
   * declared range, since a stream's own range is not known when its first chunk is written); optional
   * otherwise. Frames with a finite value outside it are refused with a RangeError. Stored in the header.
   */
  range?: readonly [number, number];
  /** Frames per chunk (default: as many as fit in 8 MiB). Every chunk but the last holds exactly this many. */
  chunkFrames?: number;
}

export interface EncoderOptions extends StreamCompressOptions {
  /** A file path (created or replaced) or a Node Writable. */
  output: string | Writable;
  /** For a Writable output: end it in finish() (default true). */
  end?: boolean;
  /** For a file output: fdatasync after every chunk, so chunks also survive power loss (default false). */
  fsync?: boolean;
  /** Called after each chunk record has been written (in order). */
  onChunk?: (info: ChunkWritten) => void;
}

export interface ChunkWritten {
  chunk: number;
  firstFrame: number;
  frameCount: number;
  /** Bytes of the file written so far, this record included. */
  bytesWritten: number;
}

export interface EncoderResult {
  frames: number;
  chunks: number;
  bytes: number;
}

export interface Encoder {
  /**
   * Adds one or more whole frames: a TypedArray of the encoder's dtype (or raw little-endian bytes) whose
   * length is a multiple of the frame size, or {data, shape: [frames, ...frameShape]}. The frames are copied
   * before the promise resolves; it resolves once they are buffered (waiting while `threads` chunks are being
   * compressed). Calls are queued in order.
   */
  push(frames: TypedArray | { data: TypedArray; shape: readonly number[] }): Promise<void>;
  /** Compresses what is buffered, writes the index and trailer, ends the output. */
  finish(): Promise<EncoderResult>;
  /** Stops without writing an index; the chunks already written stay recoverable. */
  abort(): Promise<void>;
  /** Frames accepted so far. */
  readonly framesPushed: number;
  /** Frames in chunk records already written to the output. */
  readonly framesWritten: number;
}

/** Validated stream options, shared with the compress Transform. */
export interface StreamPlan {
  o: ResolvedOptions;
  dtype: DTypeInfo;
  height: number;
  width: number;
  channels: number;
  explicitChannels: boolean;
  frameBytes: number;
  chunkFrames: number;
  range: [number, number] | null;
  effectiveAbs: number;
}

const STREAM_KEYS = ['dtype', 'frameShape', 'range'] as const;
const ENCODER_KEYS = ['output', 'end', 'fsync', 'onChunk'] as const;

export function resolveStreamOptions(opts: unknown, extra: readonly string[] = []): { plan: StreamPlan; rest: Record<string, unknown> } {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`Expected an object for options but received ${show(opts)}`);
  }
  const all = opts as Record<string, unknown>;
  const common: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all)) {
    if ((STREAM_KEYS as readonly string[]).includes(k) || extra.includes(k)) rest[k] = v;
    else common[k] = v;
  }
  let o: ResolvedOptions;
  try {
    o = resolveCompressOptions(common);
  } catch (e) {
    // Name every accepted key, not only resolveCompressOptions' ones.
    if (e instanceof TypeError && /as options keys/.test(e.message)) {
      const bad = Object.keys(common).find((k) => !['abs', 'rel', 'pwrel', 'predictor', 'level', 'chunkFrames', 'threads', 'metadata'].includes(k));
      throw new TypeError(
        `Expected one of abs, rel, pwrel, predictor, level, chunkFrames, threads, metadata, ${[...STREAM_KEYS, ...extra].join(', ')} as options keys but received '${bad}'`,
      );
    }
    throw e;
  }
  const dtype = typeof rest.dtype === 'string' ? dtypeByName(rest.dtype) : undefined;
  if (!dtype) throw new TypeError(`Expected one of ${DTYPE_NAMES.join(', ')} for options.dtype but received ${show(rest.dtype)}`);
  const fs = rest.frameShape;
  if (!Array.isArray(fs) || (fs.length !== 2 && fs.length !== 3) || fs.some((d) => typeof d !== 'number')) {
    throw new TypeError(`Expected [height, width] or [height, width, channels] for options.frameShape but received ${show(fs)}`);
  }
  if (fs.some((d) => !Number.isInteger(d) || d < 1 || d > 0xffffffff)) {
    throw new RangeError(`Expected positive integers below 2^32 for options.frameShape but received ${show(fs)}`);
  }
  const [height, width, channels = 1] = fs as number[];
  const frameBytes = height * width * channels * dtype.bytes;
  if (!Number.isSafeInteger(frameBytes) || frameBytes > MAX_CHUNK_BYTES) {
    throw new RangeError(`Expected frames of at most ${MAX_CHUNK_BYTES} bytes but received ${show(fs)} ${dtype.name}`);
  }
  let chunkFrames = o.chunkFrames ?? Math.max(1, Math.floor(DEFAULT_CHUNK_BYTES / frameBytes));
  if (chunkFrames * frameBytes > MAX_CHUNK_BYTES) {
    throw new RangeError(
      `Expected options.chunkFrames × frame bytes of at most ${MAX_CHUNK_BYTES} but received ${chunkFrames} × ${frameBytes}`,
    );
  }
  chunkFrames = Math.floor(chunkFrames);

  let range: [number, number] | null = null;
  if (rest.range !== undefined) {
    const r = rest.range;
    if (!Array.isArray(r) || r.length !== 2 || r.some((x) => typeof x !== 'number')) {
      throw new TypeError(`Expected [min, max] for options.range but received ${show(r)}`);
    }
    if (!Number.isFinite(r[0]) || !Number.isFinite(r[1]) || r[0] > r[1]) {
      throw new RangeError(`Expected finite numbers with min ≤ max for options.range but received ${show(r)}`);
    }
    range = [r[0], r[1]];
  }
  if ((o.mode === 'rel' || o.mode === 'absrel') && !range) {
    throw new TypeError(
      'Expected options.range [min, max] with options.rel: a stream cannot know its value range in advance, so rel is relative to the declared range',
    );
  }
  const effectiveAbs = resolveBound(o, range);
  return {
    plan: { o, dtype, height, width, channels, explicitChannels: fs.length === 3, frameBytes, chunkFrames, range, effectiveAbs },
    rest,
  };
}

export function streamHeader(p: StreamPlan): Uint8Array {
  const { o } = p;
  return writeHeader({
    dtype: p.dtype.id,
    mode: MODE_IDS[o.mode],
    predictor: o.predictor,
    flags: p.explicitChannels ? FLAG_EXPLICIT_CHANNELS : 0,
    height: p.height,
    width: p.width,
    channels: p.channels,
    frames: 0, // unknown until the end: the trailer holds it
    abs: o.abs,
    rel: o.rel,
    pwrel: o.pwrel,
    effectiveAbs: o.mode === 'pwrel' ? 0 : p.effectiveAbs,
    min: p.range ? p.range[0] : NaN,
    max: p.range ? p.range[1] : NaN,
    chunkFrames: p.chunkFrames,
    metadata: o.metadata,
  });
}

function nativeParams(p: StreamPlan, frames: number): NativeEncodeParams {
  const { o } = p;
  let mode: number = NativeMode.Lossless;
  if (o.mode === 'pwrel') mode = NativeMode.PwRel;
  else if (o.mode !== 'lossless' && p.effectiveAbs > 0) mode = NativeMode.Abs; // a zero-width range is lossless
  return {
    dtype: p.dtype.id,
    frames,
    height: p.height,
    width: p.width,
    channels: p.channels,
    mode,
    ebAbs: mode === NativeMode.Abs ? p.effectiveAbs : 0,
    epsPw: mode === NativeMode.PwRel ? o.pwrel : 0,
    predictor: o.predictor,
    level: o.level,
  };
}

const noop = () => {};

/**
 * The chunking and ordered writing behind `createEncoder` and `createCompressStream`: bytes in (whole
 * frames, possibly split anywhere), container out through a Sink.
 */
export class ChunkWriter {
  private buf: Uint8Array;
  private fill = 0;
  private chunk = 0;
  private nextFrame = 0;
  private offset = 0;
  private readonly entries: IndexEntry[] = [];
  private readonly inflight: Promise<void>[] = [];
  private writes: Promise<void>;
  private readonly chunkBytes: number;
  private readonly spare: Uint8Array[] = [];
  framesWritten = 0;
  failed: unknown = undefined;

  constructor(
    readonly plan: StreamPlan,
    private readonly sink: Sink,
    private readonly onChunk?: (info: ChunkWritten) => void,
  ) {
    this.chunkBytes = plan.chunkFrames * plan.frameBytes;
    this.buf = new Uint8Array(this.chunkBytes);
    const header = streamHeader(plan);
    this.writes = this.track(sink.write(header).then(() => {
      this.offset = header.length;
    }));
  }

  get framesBuffered(): number {
    return this.nextFrame + Math.floor(this.fill / this.plan.frameBytes);
  }

  /** Remembers the first failure; returns the promise marked as handled (it is awaited later). */
  private track(p: Promise<void>): Promise<void> {
    p.catch((e) => {
      if (this.failed === undefined) this.failed = e;
    });
    return p;
  }

  /** Copies `bytes` in; compresses every chunk that fills up. */
  async write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      const n = Math.min(bytes.length - at, this.chunkBytes - this.fill);
      this.buf.set(bytes.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === this.chunkBytes) await this.dispatch();
    }
  }

  private async checkRange(data: Uint8Array, first: number): Promise<void> {
    const range = this.plan.range;
    if (!range) return;
    const found = await native().valueRangeAsync(data, this.plan.dtype.id);
    if (found && (found[0] < range[0] || found[1] > range[1])) {
      throw new RangeError(
        `Expected values within options.range [${range[0]}, ${range[1]}] but frames from ${first} on hold values in [${found[0]}, ${found[1]}]`,
      );
    }
  }

  /** Sends the buffered frames off as one chunk and waits while `threads` chunks are in flight. */
  private async dispatch(): Promise<void> {
    if (this.failed !== undefined) throw this.failed;
    const p = this.plan;
    const full = this.buf;
    const data = full.subarray(0, this.fill);
    const frames = this.fill / p.frameBytes;
    // The old buffer belongs to the worker until it is done; buffers are reused rather than left to the GC,
    // which may otherwise let dead 8 MiB buffers pile up faster than it collects them.
    this.buf = this.spare.pop() ?? new Uint8Array(this.chunkBytes);
    this.fill = 0;
    const i = this.chunk++;
    const first = this.nextFrame;
    this.nextFrame += frames;
    const addon = native();
    const context = `Chunk ${i} (frames ${first}–${first + frames - 1})`;
    const encoded = this.checkRange(data, first).then(() =>
      addon.encodeChunkAsync(data, nativeParams(p, frames)).catch((e: unknown) => {
        throw fromNative(e, context);
      }),
    );
    encoded.catch(noop); // awaited below, after the writes before it
    encoded.then(
      () => this.spare.push(full),
      () => this.spare.push(full),
    );
    const written = this.writes.then(async () => {
      const payload = await encoded;
      if (payload.length > 0xffffffff) throw new TezipError('TEZ_TOO_LARGE', `${context} is too large`);
      const record = encodeChunkRecord(i, first, frames, payload);
      const at = this.offset;
      await this.sink.write(record);
      await this.sink.write(payload);
      this.offset += RECORD_HEADER_BYTES + payload.length;
      this.entries.push({ offset: at, firstFrame: first, frameCount: frames, payloadBytes: payload.length });
      this.framesWritten = first + frames;
      this.onChunk?.({ chunk: i, firstFrame: first, frameCount: frames, bytesWritten: this.offset });
    });
    this.writes = this.track(written);
    this.inflight.push(written);
    while (this.inflight.length >= p.o.threads) await this.inflight.shift();
  }

  /** Flushes the last partial chunk, writes index and trailer, ends the sink. */
  async finish(): Promise<EncoderResult> {
    const p = this.plan;
    if (this.fill % p.frameBytes !== 0) {
      throw new RangeError(
        `Expected whole frames of ${p.frameBytes} bytes but the input ended ${this.fill % p.frameBytes} bytes into a frame`,
      );
    }
    if (this.fill > 0) await this.dispatch();
    await Promise.all(this.inflight.splice(0));
    await this.writes;
    if (this.nextFrame === 0) throw new RangeError('Expected at least one frame before finish()');
    const index = writeIndex(this.entries);
    const trailer = writeTrailer({ indexOffset: this.offset, totalFrames: this.nextFrame });
    await this.sink.write(index);
    await this.sink.write(trailer);
    await this.sink.end();
    return { frames: this.nextFrame, chunks: this.entries.length, bytes: this.offset + index.length + trailer.length };
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.inflight.splice(0));
    await this.sink.abort();
  }
}

function frameBytesOf(p: StreamPlan, frames: unknown): Uint8Array {
  let data: unknown = frames;
  if (frames !== null && typeof frames === 'object' && !ArrayBuffer.isView(frames)) {
    const f = frames as { data?: unknown; shape?: unknown };
    data = f.data;
    const want = [p.height, p.width, ...(p.explicitChannels ? [p.channels] : [])];
    const shape = f.shape;
    if (!Array.isArray(shape) || shape.length !== want.length + 1 || want.some((d, i) => shape[i + 1] !== d)) {
      throw new TypeError(`Expected shape [frames, ${want.join(', ')}] but received ${show(shape)}`);
    }
  }
  if (!ArrayBuffer.isView(data) || data instanceof DataView) {
    throw new TypeError(`Expected a TypedArray (or {data, shape}) of frames but received ${show(data)}`);
  }
  const arr = data as TypedArray;
  const kind = dtypeOfArray(arr);
  if (!(arr instanceof Uint8Array) && kind !== p.dtype) {
    throw new TypeError(`Expected ${p.dtype.name} frames (or raw bytes) but received ${show(arr)}`);
  }
  const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  if (bytes.length === 0 || bytes.length % p.frameBytes !== 0) {
    throw new RangeError(`Expected a whole number of ${p.frameBytes}-byte frames but received ${bytes.length} bytes`);
  }
  return bytes;
}

/**
 * A streaming encoder writing a .tez file (or to a Writable) as frames arrive. See `EncoderOptions`.
 *
 *     const enc = createEncoder({ output: 'run.tez', dtype: 'uint16', frameShape: [512, 512] });
 *     for await (const frame of detector) await enc.push(frame);
 *     await enc.finish();
 */
export function createEncoder(options: EncoderOptions): Encoder {
  const { plan, rest } = resolveStreamOptions(options, ENCODER_KEYS);
  const out = rest.output;
  if (rest.end !== undefined && typeof rest.end !== 'boolean') throw new TypeError(`Expected a boolean for options.end but received ${show(rest.end)}`);
  if (rest.fsync !== undefined && typeof rest.fsync !== 'boolean') {
    throw new TypeError(`Expected a boolean for options.fsync but received ${show(rest.fsync)}`);
  }
  if (rest.onChunk !== undefined && typeof rest.onChunk !== 'function') {
    throw new TypeError(`Expected a function for options.onChunk but received ${show(rest.onChunk)}`);
  }
  let sink: Sink;
  if (typeof out === 'string' && out !== '') sink = new FileSink(out, rest.fsync === true);
  else if (out !== null && typeof out === 'object' && typeof (out as Writable).write === 'function' && typeof (out as Writable).on === 'function') {
    sink = new WritableSink(out as Writable, rest.end !== false);
  } else throw new TypeError(`Expected a file path or a Writable for options.output but received ${show(out)}`);

  const writer = new ChunkWriter(plan, sink, rest.onChunk as EncoderOptions['onChunk']);
  let queue: Promise<void> = Promise.resolve();
  let state: 'open' | 'finishing' | 'closed' = 'open';
  let pushed = 0;

  const closedError = () => new Error(state === 'finishing' ? 'The encoder is finishing: push() after finish()' : 'The encoder is closed');

  function push(frames: Parameters<Encoder['push']>[0]): Promise<void> {
      if (state !== 'open') return Promise.reject(closedError());
      let bytes: Uint8Array;
      try {
        bytes = frameBytesOf(plan, frames);
      } catch (e) {
        return Promise.reject(e);
      }
      const caller: { stack?: string } = {};
      Error.captureStackTrace(caller, push);
      const run = queue.then(() => {
        if (writer.failed !== undefined) throw writer.failed;
        return writer.write(bytes).then(() => {
          pushed += bytes.length / plan.frameBytes;
        });
      });
      queue = run.catch(noop);
      return withCallerStack(run, caller);
  }

  return {
    push,
    finish() {
      if (state !== 'open') return Promise.reject(closedError());
      state = 'finishing';
      const run = queue.then(async () => {
        try {
          if (writer.failed !== undefined) throw writer.failed;
          return await writer.finish();
        } catch (e) {
          await writer.abort();
          throw e;
        } finally {
          state = 'closed';
        }
      });
      queue = run.then(noop, noop);
      return run;
    },
    abort() {
      state = 'closed';
      const run = queue.then(() => writer.abort());
      queue = run.catch(noop);
      return run;
    },
    get framesPushed() {
      return pushed;
    },
    get framesWritten() {
      return writer.framesWritten;
    },
  };
}
