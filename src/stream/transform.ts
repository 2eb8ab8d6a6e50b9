// Node Transform streams: raw frame bytes → .tez bytes, and .tez bytes → raw frame bytes.
// The compression and decompression run on libuv's pool (never on the main thread), at most `threads`
// chunks at a time, and both sides respect backpressure: a write is acknowledged only once its bytes are
// buffered within those limits, and output waits while the readable side is above its high-water mark.
import { Transform, TransformCallback, TransformOptions } from 'node:stream';
import { TezipError, fromNative } from '../errors';
import { native } from '../native';
import type { DType } from '../types';
import { DTypeInfo, MODE_NAMES, dtypeById } from '../codec/enums';
import { MAX_CHUNK_BYTES, defaultThreads, show } from '../codec/options';
import {
  CHUNK_MAGIC,
  HEADER_MIN_BYTES,
  Header,
  INDEX_ENTRY_BYTES,
  INDEX_MAGIC,
  IndexEntry,
  RECORD_HEADER_BYTES,
  TRAILER_BYTES,
  checkMagic,
  parseHeader,
  parseRecordHeader,
  readIndex,
  readTrailer,
} from '../container/format';
import { checkRecord, frameRange, locateError } from '../container/reader';
import { ChunkWriter, StreamCompressOptions, resolveStreamOptions } from './encoder';
import { FunctionSink } from './sink';

/**
 * A Transform whose output may be produced after the write that caused it was acknowledged: `output()`
 * pushes and, when the readable side is full, waits until it is read from.
 */
abstract class OffThreadTransform extends Transform {
  private waiting: Array<() => void> = [];

  protected output(bytes: Uint8Array): Promise<void> {
    if (this.destroyed) return Promise.resolve();
    if (this.push(bytes)) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const r of w) r();
  }

  override _read(size: number): void {
    this.release();
    super._read(size);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.release();
    super._destroy(err, cb);
  }
}

class CompressStream extends OffThreadTransform {
  private readonly writer: ChunkWriter;

  constructor(options: StreamCompressOptions, streamOptions: TransformOptions) {
    super(streamOptions);
    const { plan } = resolveStreamOptions(options);
    this.writer = new ChunkWriter(plan, new FunctionSink((b) => this.output(b)));
  }

  override _transform(chunk: unknown, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!(chunk instanceof Uint8Array)) {
      cb(new TypeError(`Expected Buffer or Uint8Array chunks of raw frame bytes but received ${show(chunk)}`));
      return;
    }
    this.writer.write(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.writer.finish().then(() => cb(), cb);
  }
}

/**
 * A Transform from raw frame bytes (C order, little-endian, frames back to back, split anywhere) to a .tez
 * file. Options as for `createEncoder`, less the output: `dtype` and `frameShape` are required.
 */
export function createCompressStream(options: StreamCompressOptions, streamOptions: TransformOptions = {}): Transform {
  return new CompressStream(options, { ...streamOptions, readableObjectMode: false, writableObjectMode: false });
}

/** What a decompress stream says about its input once the header is read (event 'header'). */
export interface StreamHeader {
  dtype: DType;
  /** [height, width] or [height, width, channels]. */
  frameShape: number[];
  /** Frames declared by the header; 0 when the writer streamed and did not know (the trailer has it). */
  frames: number;
  mode: string;
  chunkFrames: number;
  metadata: Record<string, unknown>;
}

export interface DecompressStreamOptions {
  /** Chunks decoded at once (default os.availableParallelism()). */
  threads?: number;
}

/** Bytes received and not consumed yet, as a list of buffers (no copying until bytes are taken). */
class ByteQueue {
  private parts: Uint8Array[] = [];
  length = 0;

  add(b: Uint8Array): void {
    if (b.length) {
      this.parts.push(b);
      this.length += b.length;
    }
  }

  /** The first n bytes, copied into one buffer only when they span several parts. */
  peek(n: number): Uint8Array {
    const first = this.parts[0];
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of this.parts) {
      const k = Math.min(p.length, n - at);
      out.set(p.subarray(0, k), at);
      at += k;
      if (at === n) break;
    }
    return out;
  }

  take(n: number): Uint8Array {
    const out = this.peek(n);
    let left = n;
    while (left > 0) {
      const p = this.parts[0];
      if (p.length <= left) {
        this.parts.shift();
        left -= p.length;
      } else {
        this.parts[0] = p.subarray(left);
        left = 0;
      }
    }
    this.length -= n;
    // A view of a part that is still queued is fine: parts are never written to.
    return out;
  }
}

/** A chunk payload may be somewhat larger than its raw frames (stored fallback, headers): allow some slack. */
const MAX_PAYLOAD_BYTES = MAX_CHUNK_BYTES + 16 * 1024 * 1024;

class DecompressStream extends OffThreadTransform {
  private readonly q = new ByteQueue();
  private state: 'header' | 'body' | 'trailer' | 'done' = 'header';
  private header?: Header;
  private dtype?: DTypeInfo;
  private frameBytes = 0;
  private offset = 0;
  private chunk = 0;
  private nextFrame = 0;
  private indexOffset = 0;
  private readonly entries: IndexEntry[] = [];
  private inflight: Promise<void>[] = [];
  private outputs: Promise<void> = Promise.resolve();
  private failed: unknown = undefined;
  private readonly threads: number;

  constructor(options: DecompressStreamOptions, streamOptions: TransformOptions) {
    super(streamOptions);
    if (options === null || typeof options !== 'object') throw new TypeError(`Expected an object for options but received ${show(options)}`);
    for (const k of Object.keys(options)) {
      if (k !== 'threads') throw new TypeError(`Expected threads as options keys but received '${k}'`);
    }
    const t = options.threads;
    if (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > 1024)) {
      throw new RangeError(`Expected a positive integer up to 1024 for options.threads but received ${show(t)}`);
    }
    this.threads = t ?? defaultThreads();
  }

  override _transform(chunk: unknown, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!(chunk instanceof Uint8Array)) {
      cb(new TypeError(`Expected Buffer or Uint8Array chunks of a .tez file but received ${show(chunk)}`));
      return;
    }
    this.q.add(chunk);
    this.parse().then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.drain()
      .then(() => {
        if (this.state === 'done') return;
        if (this.state === 'header') {
          if (this.q.length === 0 && this.offset === 0) throw new TezipError('TEZ_TRUNCATED', 'Empty input: not a .tez file');
          // Let the header parser say what is wrong (bad magic, truncated).
          parseHeader(this.q.peek(this.q.length));
        }
        throw new TezipError(
          'TEZ_TRUNCATED',
          `Input ended at byte ${this.offset + this.q.length} before the index: the ${this.nextFrame} frames of the ${this.chunk} complete chunks were written out (tezip recover rebuilds such a file)`,
        );
      })
      .then(() => cb(), cb);
  }

  private async drain(): Promise<void> {
    await Promise.all(this.inflight.splice(0));
    await this.outputs;
    if (this.failed !== undefined) throw this.failed;
  }

  private consume(n: number): Uint8Array {
    this.offset += n;
    return this.q.take(n);
  }

  /** Consumes whatever complete pieces the queue holds. */
  private async parse(): Promise<void> {
    for (;;) {
      if (this.failed !== undefined) throw this.failed;
      if (this.state === 'header') {
        if (this.q.length >= 8) checkMagic(this.q.peek(8)); // fail fast on a wrong input
        if (this.q.length < 14) return;
        const start = this.q.peek(14);
        const len = new DataView(start.buffer, start.byteOffset, 14).getUint32(10, true);
        if (len < HEADER_MIN_BYTES || start[8] !== 1) parseHeader(start); // throws the precise error
        if (len > 64 * 1024 * 1024) throw new TezipError('TEZ_TOO_LARGE', `Header of ${len} bytes is beyond what this reader handles`);
        if (this.q.length < len) return;
        const h = parseHeader(this.consume(len));
        this.header = h;
        this.dtype = dtypeById(h.dtype)!;
        this.frameBytes = h.height * h.width * h.channels * this.dtype.bytes;
        if (!Number.isSafeInteger(this.frameBytes) || this.frameBytes > MAX_CHUNK_BYTES) {
          throw new TezipError('TEZ_TOO_LARGE', `Frames of ${h.height}×${h.width}×${h.channels} ${this.dtype.name} are beyond what this reader handles`);
        }
        this.state = 'body';
        const info: StreamHeader = {
          dtype: this.dtype.name,
          frameShape: h.flags & 1 || h.channels !== 1 ? [h.height, h.width, h.channels] : [h.height, h.width],
          frames: h.frames,
          mode: MODE_NAMES[h.mode],
          chunkFrames: h.chunkFrames,
          metadata: h.metadata,
        };
        this.emit('header', info);
        continue;
      }
      if (this.state === 'body') {
        if (this.q.length < 4) return;
        const m = this.q.peek(4);
        const magic = (m[0] | (m[1] << 8) | (m[2] << 16) | (m[3] << 24)) >>> 0;
        if (magic === CHUNK_MAGIC) {
          if (this.q.length < RECORD_HEADER_BYTES) return;
          if (!(await this.record())) return;
          continue;
        }
        if (magic === INDEX_MAGIC) {
          if (this.q.length < 8) return;
          const head = this.q.peek(8);
          const count = new DataView(head.buffer, head.byteOffset, 8).getUint32(4, true);
          if (count !== this.chunk) {
            throw new TezipError('TEZ_CORRUPT', `Index lists ${count} chunks but ${this.chunk} came before it`);
          }
          const size = 8 + count * INDEX_ENTRY_BYTES + 4;
          if (this.q.length < size) return;
          this.indexOffset = this.offset;
          const entries = readIndex(this.consume(size), 0, size);
          entries.forEach((e, i) => {
            const seen = this.entries[i];
            if (e.offset !== seen.offset || e.firstFrame !== seen.firstFrame || e.frameCount !== seen.frameCount || e.payloadBytes !== seen.payloadBytes) {
              throw new TezipError('TEZ_CORRUPT', `Index entry ${i} disagrees with chunk ${i} (${frameRange(seen)})`);
            }
          });
          this.state = 'trailer';
          continue;
        }
        throw new TezipError('TEZ_CORRUPT', `Expected a chunk record or the index at offset ${this.offset} (after ${frameRange({ offset: 0, firstFrame: 0, frameCount: this.nextFrame, payloadBytes: 0 })})`);
      }
      if (this.state === 'trailer') {
        if (this.q.length < TRAILER_BYTES) return;
        const t = readTrailer(this.consume(TRAILER_BYTES));
        if (t.indexOffset !== this.indexOffset) throw new TezipError('TEZ_CORRUPT', `Trailer points at ${t.indexOffset}, index at ${this.indexOffset}`);
        if (t.totalFrames !== this.nextFrame) throw new TezipError('TEZ_CORRUPT', `Trailer says ${t.totalFrames} frames, chunks hold ${this.nextFrame}`);
        if (this.header!.frames !== 0 && this.header!.frames !== t.totalFrames) {
          throw new TezipError('TEZ_CORRUPT', `Header says ${this.header!.frames} frames, trailer ${t.totalFrames}`);
        }
        if (t.totalFrames < 1) throw new TezipError('TEZ_CORRUPT', 'File holds no frames');
        this.state = 'done';
        continue;
      }
      // done: nothing may follow the trailer.
      if (this.q.length > 0) throw new TezipError('TEZ_CORRUPT', `${this.q.length} unexpected bytes after the trailer`);
      return;
    }
  }

  /** Reads one chunk record when all of it is queued and starts decoding it; false when more bytes are needed. */
  private async record(): Promise<boolean> {
    const head = this.q.peek(RECORD_HEADER_BYTES);
    const i = this.chunk;
    const where: IndexEntry = { offset: this.offset, firstFrame: this.nextFrame, frameCount: 1, payloadBytes: 0 };
    let r;
    try {
      r = parseRecordHeader(head, 0);
    } catch (e) {
      throw locateError(e, i, where);
    }
    const claimed: IndexEntry = { offset: this.offset, firstFrame: r.firstFrame, frameCount: r.frameCount, payloadBytes: r.payloadBytes };
    if (r.chunk !== i || r.firstFrame !== this.nextFrame) {
      throw locateError(new TezipError('TEZ_CORRUPT', `record says chunk ${r.chunk} from frame ${r.firstFrame}, expected chunk ${i} from frame ${this.nextFrame}`), i, where);
    }
    // Sizes are checked (the record CRC held) before waiting for, or allocating, anything.
    if (claimed.frameCount < 1 || claimed.frameCount * this.frameBytes > MAX_CHUNK_BYTES || claimed.payloadBytes > MAX_PAYLOAD_BYTES) {
      throw locateError(new TezipError('TEZ_TOO_LARGE', `${claimed.frameCount} frames in ${claimed.payloadBytes} bytes is beyond what this reader handles`), i, claimed);
    }
    if (this.q.length < RECORD_HEADER_BYTES + claimed.payloadBytes) return false;
    const record = this.consume(RECORD_HEADER_BYTES + claimed.payloadBytes);
    const payload = checkRecord(record, i, claimed);
    this.entries.push(claimed);
    this.chunk++;
    this.nextFrame += claimed.frameCount;

    const h = this.header!;
    const out = new Uint8Array(claimed.frameCount * this.frameBytes);
    const decoded = native()
      .decodeChunkAsync(payload, { dtype: h.dtype, frames: claimed.frameCount, height: h.height, width: h.width, channels: h.channels }, out)
      .catch((e: unknown) => {
        throw locateError(fromNative(e), i, claimed);
      });
    decoded.catch(() => {});
    const pushed = this.outputs.then(async () => {
      await decoded;
      await this.output(out);
    });
    pushed.catch((e) => {
      if (this.failed === undefined) this.failed = e;
    });
    this.outputs = pushed;
    this.inflight.push(pushed);
    while (this.inflight.length >= this.threads) await this.inflight.shift()!.catch(() => {});
    return true;
  }
}

/**
 * A Transform from .tez bytes to the raw frames (C order, little-endian, frames back to back). Emits
 * 'header' (a StreamHeader) before the first frame. Damage is reported as a TezipError naming the chunk and
 * its frame range; every frame before it has been output. A stream that ends before the index fails with
 * TEZ_TRUNCATED after outputting every complete chunk.
 */
export function createDecompressStream(options: DecompressStreamOptions = {}, streamOptions: TransformOptions = {}): Transform {
  return new DecompressStream(options, { ...streamOptions, readableObjectMode: false, writableObjectMode: false });
}
