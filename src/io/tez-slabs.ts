// Slab-wise .tez writing and reading for inputs and outputs larger than memory.
//
// Writing: frames are read from a FrameSource a slab (a whole number of chunks) at a time, each slab is
// compressed with the library's `compress` using the chunk size the whole input would get, and its chunk
// records are renumbered into one container. The chunks are exactly those a one-shot `compress` of the whole
// input writes (same plan, same bound), so the file is byte-identical to it; memory stays at one slab.
// A `rel` bound needs the value range of the whole input first, so that case reads the input twice.
//
// Reading: a slab of chunks is cut out of a .tez file into a small valid container and decoded with the
// library's `decompress`, after the chunk checksums are checked.
import { RawDType, RawInputError, RawTypedArray, dtypeSize } from './raw.js';
import { FrameSource, frameElements } from './source.js';
import type { CompressOptions, Decoded } from '../types';
import { MODE_IDS } from '../codec/enums';
import { MAX_CHUNK_BYTES, planChunks, resolveCompressOptions } from '../codec/options';
import {
  IndexEntry,
  RECORD_HEADER_BYTES,
  encodeChunkRecord,
  writeHeader,
  writeIndex,
  writeTrailer,
} from '../container/format';
import { chunkPayload, openContainer } from '../container/reader';

type Lib = typeof import('../index');
function lib(): Lib {
  return require('../index') as Lib;
}

/** Raw bytes a slab aims at: a few default chunks, so the thread pool has work and memory stays bounded. */
export const DEFAULT_SLAB_BYTES = 64 * 1024 * 1024;

export interface TezSink {
  write(bytes: Uint8Array): void | Promise<void>;
  /** Overwrites bytes already written (the header, once the value range is known); absent on pipes. */
  patch?(offset: number, bytes: Uint8Array): void;
}

export interface SlabProgress {
  phase: 'scan' | 'compress';
  frames: number;
  total: number;
}

export interface SourceCompressOptions extends CompressOptions {
  /** Frames per slab (rounded down to whole chunks, at least one); default: about 64 MiB of raw values. */
  slabFrames?: number;
  onProgress?: (p: SlabProgress) => void;
}

export interface SourceCompressResult {
  inputBytes: number;
  outputBytes: number;
  frames: number;
  chunks: number;
  slabs: number;
}

/** Smallest and largest finite value, NaN when there is none (the header's convention). */
function finiteMinMax(a: ArrayLike<number>, acc: { min: number; max: number }): void {
  let { min, max } = acc;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < min && v !== -Infinity) min = v;
    if (v > max && v !== Infinity) max = v;
  }
  acc.min = min;
  acc.max = max;
}

function slabPlan(frames: number, frameBytes: number, o: SourceCompressOptions): { nominal: number; slab: number } {
  const { nominal } = planChunks(frames, frameBytes, o.chunkFrames);
  let slab: number;
  if (o.slabFrames !== undefined) {
    if (!Number.isSafeInteger(o.slabFrames) || o.slabFrames < 1)
      throw new RangeError(`Expected a positive integer for options.slabFrames but received ${o.slabFrames}`);
    slab = Math.max(1, Math.floor(o.slabFrames / nominal)) * nominal;
  } else {
    slab = Math.max(1, Math.floor(DEFAULT_SLAB_BYTES / (nominal * frameBytes))) * nominal;
  }
  return { nominal, slab };
}

/** Compresses a frame source into `sink`, a slab at a time. */
export async function compressSource(src: FrameSource, sink: TezSink, options: SourceCompressOptions = {}): Promise<SourceCompressResult> {
  const { slabFrames, onProgress, ...copts } = options;
  // The source's own description (format, file names, dataset) is stored unless the caller gives metadata.
  const o = resolveCompressOptions({ ...copts, metadata: copts.metadata ?? src.meta }); // validated before any frame is read
  const total = src.shape[0];
  if (!(total >= 1)) throw new RawInputError('BAD_SHAPE', `${src.label} holds no frames`);
  const frameLen = frameElements(src.shape);
  const frameBytes = frameLen * dtypeSize(src.dtype);
  // Checked before the first read: a hostile header (HDF5, TIFF) must not make us allocate a huge slab.
  if (!Number.isSafeInteger(frameBytes) || frameBytes > MAX_CHUNK_BYTES)
    throw new RawInputError('TOO_LARGE', `${src.label}: frames of ${frameBytes} bytes are more than tezip's ${MAX_CHUNK_BYTES} bytes a frame`);
  const { nominal, slab } = slabPlan(total, frameBytes, options);

  const range = { min: Infinity, max: -Infinity };
  const needRange = o.mode === 'rel' || o.mode === 'absrel' || !sink.patch;
  if (needRange) {
    for (let start = 0; start < total; start += slab) {
      const n = Math.min(slab, total - start);
      finiteMinMax(await src.read(start, n), range);
      onProgress?.({ phase: 'scan', frames: start + n, total });
    }
  }
  // The library's bound resolution (codec.ts resolveBound), over the whole input's range.
  const hasRange = range.min <= range.max;
  const width = hasRange ? range.max - range.min : 0;
  let effectiveAbs = 0;
  if (o.mode === 'abs') effectiveAbs = o.abs;
  else if (o.mode === 'rel') effectiveAbs = Number.isFinite(width) ? o.rel * width : 0;
  else if (o.mode === 'absrel') effectiveAbs = Number.isFinite(width) ? Math.min(o.abs, o.rel * width) : o.abs;

  const slabOpts: CompressOptions = { chunkFrames: nominal, threads: o.threads, level: o.level as 0 | 1 | 2 };
  if (copts.predictor !== undefined) slabOpts.predictor = copts.predictor;
  if (o.pn.prednet) Object.assign(slabOpts, { model: o.pn.prednet, window: o.pn.window || undefined, warmup: o.pn.warmup || undefined, mseThreshold: o.pn.mseThreshold || undefined });
  if (o.mode === 'pwrel') slabOpts.pwrel = o.pwrel;
  else if (o.mode !== 'lossless' && effectiveAbs > 0) slabOpts.abs = effectiveAbs;

  const L = lib();
  const entries: IndexEntry[] = [];
  let offset = 0;
  let headerBytes: Uint8Array | undefined;
  let headerFields: Parameters<typeof writeHeader>[0] | undefined;
  const seen = { min: Infinity, max: -Infinity };
  let slabs = 0;
  for (let start = 0; start < total; start += slab) {
    const n = Math.min(slab, total - start);
    const data = await src.read(start, n);
    // Each chunk of the slab is compressed on its own (`threads` at once), so progress moves chunk by chunk;
    // the chunk plan and bound are the whole input's, so every payload is the one a one-shot compress makes.
    const parts: Array<[number, number]> = [];
    for (let f = 0; f < n; f += nominal) parts.push([f, Math.min(nominal, n - f)]);
    const results = new Array<Uint8Array>(parts.length);
    let next = 0;
    let framesDone = start;
    const lane = async () => {
      while (next < parts.length) {
        const k = next++;
        const [f, c] = parts[k];
        const sub = data.subarray(f * frameLen, (f + c) * frameLen);
        results[k] = await L.compress({ data: sub, shape: [c, ...src.shape.slice(1)], dtype: src.dtype }, { ...slabOpts, threads: 1 });
        framesDone += c;
        onProgress?.({ phase: 'compress', frames: framesDone, total });
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.threads, parts.length) }, lane));
    for (let k = 0; k < parts.length; k++) {
      const bytes = results[k];
      const chunkStart = start + parts[k][0];
      const layout = openContainer(bytes, Number.MAX_SAFE_INTEGER);
      const h = layout.header;
      if (!Number.isNaN(h.min)) seen.min = Math.min(seen.min, h.min);
      if (!Number.isNaN(h.max)) seen.max = Math.max(seen.max, h.max);
      if (!headerBytes) {
        const r = needRange ? range : seen;
        headerFields = {
          dtype: h.dtype,
          mode: MODE_IDS[o.mode],
          predictor: h.predictor,
          flags: h.flags,
          height: h.height,
          width: h.width,
          channels: h.channels,
          frames: total,
          abs: o.abs,
          rel: o.rel,
          pwrel: o.pwrel,
          effectiveAbs: o.mode === 'pwrel' ? 0 : effectiveAbs,
          min: r.min <= r.max ? r.min : NaN,
          max: r.min <= r.max ? r.max : NaN,
          chunkFrames: nominal,
          metadata: o.pn.prednet ? { ...o.metadata, prednet: { sha256: o.pn.prednet.sha256, name: o.pn.prednet.name } } : o.metadata,
        };
        headerBytes = writeHeader(headerFields);
        await sink.write(headerBytes);
        offset = headerBytes.length;
      }
      for (let i = 0; i < layout.entries.length; i++) {
        const e = layout.entries[i];
        const payload = chunkPayload(bytes, layout, i);
        const record = encodeChunkRecord(entries.length, chunkStart + e.firstFrame, e.frameCount, payload);
        await sink.write(record);
        await sink.write(payload);
        entries.push({ offset, firstFrame: chunkStart + e.firstFrame, frameCount: e.frameCount, payloadBytes: payload.length });
        offset += RECORD_HEADER_BYTES + payload.length;
      }
    }
    slabs++;
  }
  const index = writeIndex(entries);
  await sink.write(index);
  await sink.write(writeTrailer({ indexOffset: offset, totalFrames: total }));
  if (!needRange && sink.patch && headerFields) {
    const ok = seen.min <= seen.max;
    const final = writeHeader({ ...headerFields, min: ok ? seen.min : NaN, max: ok ? seen.max : NaN });
    if (final.length !== headerBytes!.length) throw new Error('header length changed while patching');
    sink.patch(0, final);
  }
  return { inputBytes: total * frameBytes, outputBytes: offset + index.length + 24, frames: total, chunks: entries.length, slabs };
}

/** A sink that keeps everything in memory (tests, the demo, small inputs). */
export class MemorySink implements TezSink {
  private parts: Uint8Array[] = [];
  write(b: Uint8Array): void {
    this.parts.push(b.slice());
  }
  patch(offset: number, b: Uint8Array): void {
    if (offset !== 0 || this.parts.length === 0 || this.parts[0].length !== b.length) throw new Error('MemorySink patches the header only');
    this.parts[0] = b.slice();
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export interface DecodedSlab {
  start: number;
  frames: number;
  data: RawTypedArray;
  shape: number[];
  dtype: RawDType;
}

/**
 * Decodes a .tez file a slab of whole chunks at a time (about `slabBytes` of decoded values each), in frame
 * order. Each slab is a small container of those chunks decoded by `decompress`; the decoded file never has
 * to fit in memory.
 */
export async function* decodeSlabs(bytes: Uint8Array, options: { maxBytes?: number; threads?: number; slabBytes?: number } = {}): AsyncGenerator<DecodedSlab> {
  const L = lib();
  const layout = openContainer(bytes, options.maxBytes ?? 16 * 2 ** 30);
  const target = options.slabBytes ?? DEFAULT_SLAB_BYTES;
  const h = layout.header;
  let i = 0;
  while (i < layout.entries.length) {
    const first = layout.entries[i].firstFrame;
    const parts: Uint8Array[] = [];
    const entries: IndexEntry[] = [];
    let frames = 0;
    do {
      const e = layout.entries[i];
      const payload = chunkPayload(bytes, layout, i); // checks the record and payload CRC
      entries.push({ offset: 0, firstFrame: frames, frameCount: e.frameCount, payloadBytes: payload.length });
      parts.push(encodeChunkRecord(entries.length - 1, frames, e.frameCount, payload), payload);
      frames += e.frameCount;
      i++;
    } while (i < layout.entries.length && (frames + layout.entries[i].frameCount) * layout.frameBytes <= target);
    const header = writeHeader({ ...h, frames });
    let off = header.length;
    for (const e of entries) {
      e.offset = off;
      off += RECORD_HEADER_BYTES + e.payloadBytes;
    }
    const mini = Buffer.concat([header, ...parts, writeIndex(entries), writeTrailer({ indexOffset: off, totalFrames: frames })]);
    const d: Decoded = await L.decompress(mini, options.threads ? { threads: options.threads } : undefined);
    yield { start: first, frames, data: d.data as RawTypedArray, shape: d.shape, dtype: d.dtype };
  }
}

type TezReader = import('../container/file').TezReader;
type Gap = import('../container/file').Gap;

/**
 * Frames [start, end) of an open .tez file (openTez) a slab of whole chunks at a time, reading from disk only
 * the chunks each slab needs. With `ignoreDamaged`, damaged chunks come back as zeros and are reported to
 * `onGap`.
 */
export async function* readerSlabs(
  reader: TezReader,
  options: { start?: number; end?: number; slabBytes?: number; ignoreDamaged?: boolean; onGap?: (g: Gap) => void } = {},
): AsyncGenerator<DecodedSlab> {
  const start = options.start ?? 0;
  const end = options.end ?? reader.frameCount;
  const [, ...frame] = reader.shape;
  const frameBytes = frame.reduce((a, b) => a * b, 1) * dtypeSize(reader.dtype as RawDType);
  const target = Math.max(frameBytes, options.slabBytes ?? DEFAULT_SLAB_BYTES);
  let a = start;
  while (a < end) {
    // Extend to whole chunks so that no chunk is decoded twice.
    let b = a;
    for (const c of reader.chunks) {
      const cEnd = c.firstFrame + c.frameCount;
      if (cEnd <= a) continue;
      if (b > a && (cEnd - a) * frameBytes > target) break;
      b = Math.min(end, cEnd);
      if (b >= end) break;
    }
    const r = await reader.readFrames(a, b, { ignoreDamaged: options.ignoreDamaged === true });
    for (const g of r.gaps) options.onGap?.(g);
    yield { start: a, frames: b - a, data: r.data as RawTypedArray, shape: r.shape, dtype: r.dtype as RawDType };
    a = b;
  }
}
