// compress / decompress / inspect: options → chunk plan → native chunk codec → container.
// The async forms run each chunk on libuv's thread pool (at most `threads` in flight; the pool itself has
// UV_THREADPOOL_SIZE threads, 4 by default) and give byte-identical output whatever the thread count.
import { TezipError, fromNative, withCallerStack } from '../errors';
import { native, NativeEncodeParams, NativeShapeParams } from '../native';
import type { CompressOptions, Decoded, DecompressOptions, Frames, InspectResult, NdArrayLike, TypedArray } from '../types';
import { DTypeInfo, MODE_IDS, MODE_NAMES, NativeMode, dtypeById, predictorName } from './enums';
import {
  NormalizedFrames,
  ResolvedOptions,
  checkBytes,
  normalizeFrames,
  planChunks,
  resolveCompressOptions,
  resolveDecompressOptions,
} from './options';
import {
  FLAG_EXPLICIT_CHANNELS,
  IndexEntry,
  RECORD_HEADER_BYTES,
  encodeChunkRecord,
  writeHeader,
  writeIndex,
  writeTrailer,
} from '../container/format';
import { Layout, chunkPayload, frameRange, openContainer } from '../container/reader';

interface Plan {
  f: NormalizedFrames;
  o: ResolvedOptions;
  min: number;
  max: number;
  effectiveAbs: number;
  nominal: number;
  chunks: Array<[number, number]>;
}

export function resolveBound(o: ResolvedOptions, range: [number, number] | null): number {
  const width = range ? range[1] - range[0] : 0;
  switch (o.mode) {
    case 'abs':
      return o.abs;
    case 'rel':
      return Number.isFinite(width) ? o.rel * width : 0;
    case 'absrel':
      return Number.isFinite(width) ? Math.min(o.abs, o.rel * width) : o.abs;
    default:
      return 0;
  }
}

function makePlan(f: NormalizedFrames, o: ResolvedOptions, range: [number, number] | null): Plan {
  const effectiveAbs = resolveBound(o, range);
  const { nominal, chunks } = planChunks(f.frames, f.frameBytes, o.chunkFrames);
  return { f, o, min: range ? range[0] : NaN, max: range ? range[1] : NaN, effectiveAbs, nominal, chunks };
}

function encodeParams(p: Plan, frames: number): NativeEncodeParams {
  const { f, o } = p;
  let mode: number = NativeMode.Lossless;
  if (o.mode === 'pwrel') mode = NativeMode.PwRel;
  else if (o.mode !== 'lossless' && p.effectiveAbs > 0) mode = NativeMode.Abs; // eb 0 (constant data) = lossless
  return {
    dtype: f.dtype.id,
    frames,
    height: f.height,
    width: f.width,
    channels: f.channels,
    mode,
    ebAbs: mode === NativeMode.Abs ? p.effectiveAbs : 0,
    epsPw: mode === NativeMode.PwRel ? o.pwrel : 0,
    predictor: o.predictor,
    level: o.level,
    prednet: o.pn.prednet?.handle,
    window: o.pn.window,
    warmup: o.pn.warmup,
    mseThreshold: o.pn.mseThreshold,
  };
}

function chunkView(p: Plan, [first, count]: [number, number]): Uint8Array {
  const start = first * p.f.frameBytes;
  return p.f.bytes.subarray(start, start + count * p.f.frameBytes);
}

function chunkContext(i: number, [first, count]: [number, number]): string {
  return `Chunk ${i} (${frameRange({ offset: 0, firstFrame: first, frameCount: count, payloadBytes: 0 })})`;
}

function assemble(p: Plan, payloads: Uint8Array[]): Uint8Array {
  const { f, o } = p;
  const header = writeHeader({
    dtype: f.dtype.id,
    mode: MODE_IDS[o.mode],
    predictor: o.predictor,
    flags: f.explicitChannels ? FLAG_EXPLICIT_CHANNELS : 0,
    height: f.height,
    width: f.width,
    channels: f.channels,
    frames: f.frames,
    abs: o.abs,
    rel: o.rel,
    pwrel: o.pwrel,
    effectiveAbs: o.mode === 'pwrel' ? 0 : p.effectiveAbs,
    min: p.min,
    max: p.max,
    chunkFrames: p.nominal,
    // the PredNet model the chunks may need, so that a decoder can say which one is missing
    metadata: o.pn.prednet ? { ...o.metadata, prednet: { sha256: o.pn.prednet.sha256, name: o.pn.prednet.name } } : o.metadata,
  });
  const parts: Uint8Array[] = [header];
  const entries: IndexEntry[] = [];
  let offset = header.length;
  payloads.forEach((payload, i) => {
    const [first, count] = p.chunks[i];
    if (payload.length > 0xffffffff) throw new TezipError('TEZ_TOO_LARGE', `${chunkContext(i, p.chunks[i])} is too large`);
    parts.push(encodeChunkRecord(i, first, count, payload), payload);
    entries.push({ offset, firstFrame: first, frameCount: count, payloadBytes: payload.length });
    offset += RECORD_HEADER_BYTES + payload.length;
  });
  parts.push(writeIndex(entries), writeTrailer({ indexOffset: offset, totalFrames: f.frames }));
  const total = parts.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const b of parts) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** Runs `task(i)` for i in [0, n) with at most `limit` in flight; results in order. */
async function pool<T>(n: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(n);
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < n) {
      const i = next++;
      try {
        results[i] = await task(i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, lane));
  return results;
}

/** Compresses frames into a .tez file. Blocks the event loop: prefer `compress`. */
export function compressSync(frames: Frames | NdArrayLike, options?: CompressOptions): Uint8Array {
  const f = normalizeFrames(frames);
  const o = resolveCompressOptions(options);
  const addon = native();
  const range = addon.valueRange(f.bytes, f.dtype.id);
  const p = makePlan(f, o, range);
  const payloads = p.chunks.map((c, i) => {
    try {
      return addon.encodeChunk(chunkView(p, c), encodeParams(p, c[1]));
    } catch (e) {
      throw fromNative(e, chunkContext(i, c));
    }
  });
  return assemble(p, payloads);
}

/** Compresses frames into a .tez file, chunks in parallel off the main thread. */
export function compress(frames: Frames | NdArrayLike, options?: CompressOptions): Promise<Uint8Array> {
  const caller: { stack?: string } = {};
  Error.captureStackTrace(caller, compress);
  let f: NormalizedFrames;
  let o: ResolvedOptions;
  try {
    f = normalizeFrames(frames);
    o = resolveCompressOptions(options);
  } catch (e) {
    return Promise.reject(e);
  }
  const run = async () => {
    const addon = native();
    const range = await addon.valueRangeAsync(f.bytes, f.dtype.id);
    const p = makePlan(f, o, range);
    const payloads = await pool(p.chunks.length, o.threads, (i) =>
      addon.encodeChunkAsync(chunkView(p, p.chunks[i]), encodeParams(p, p.chunks[i][1])).catch((e: unknown) => {
        throw fromNative(e, chunkContext(i, p.chunks[i]));
      }),
    );
    return assemble(p, payloads);
  };
  return withCallerStack(run(), caller);
}

interface DecodeTarget {
  layout: Layout;
  dtype: DTypeInfo;
  out: TypedArray;
  outBytes: Uint8Array;
}

function prepareDecode(bytes: Uint8Array, maxBytes: number): DecodeTarget {
  const layout = openContainer(bytes, maxBytes);
  const dtype = dtypeById(layout.header.dtype)!;
  let out: TypedArray;
  try {
    out = new dtype.ctor(layout.decodedBytes / dtype.bytes);
  } catch (e) {
    throw new TezipError('TEZ_TOO_LARGE', `Cannot allocate ${layout.decodedBytes} bytes for the decoded frames`, { cause: e });
  }
  return { layout, dtype, out, outBytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength) };
}

function shapeParams(t: DecodeTarget, frames: number, model?: { handle: unknown }): NativeShapeParams {
  const h = t.layout.header;
  return { dtype: h.dtype, frames, height: h.height, width: h.width, channels: h.channels, prednet: model?.handle };
}

function chunkOut(t: DecodeTarget, i: number): Uint8Array {
  const e = t.layout.entries[i];
  const start = e.firstFrame * t.layout.frameBytes;
  return t.outBytes.subarray(start, start + e.frameCount * t.layout.frameBytes);
}

function result(t: DecodeTarget): Decoded {
  const h = t.layout.header;
  const shape = [t.layout.frames, h.height, h.width];
  if (h.flags & FLAG_EXPLICIT_CHANNELS || h.channels !== 1) shape.push(h.channels);
  return { data: t.out, shape, dtype: t.dtype.name };
}

function decodeContext(t: DecodeTarget, i: number): string {
  return `Chunk ${i} (${frameRange(t.layout.entries[i])})`;
}

/** Decodes a .tez file. Blocks the event loop: prefer `decompress`. */
export function decompressSync(bytes: Uint8Array, options?: DecompressOptions): Decoded {
  checkBytes(bytes);
  const o = resolveDecompressOptions(options);
  const t = prepareDecode(bytes, o.maxBytes);
  const addon = native();
  t.layout.entries.forEach((e, i) => {
    const payload = chunkPayload(bytes, t.layout, i);
    try {
      addon.decodeChunk(payload, shapeParams(t, e.frameCount, o.model), chunkOut(t, i));
    } catch (err) {
      throw fromNative(err, decodeContext(t, i));
    }
  });
  return result(t);
}

/** Decodes a .tez file, chunks in parallel off the main thread. */
export function decompress(bytes: Uint8Array, options?: DecompressOptions): Promise<Decoded> {
  const caller: { stack?: string } = {};
  Error.captureStackTrace(caller, decompress);
  const run = async () => {
    checkBytes(bytes);
    const o = resolveDecompressOptions(options);
    const t = prepareDecode(bytes, o.maxBytes);
    const addon = native();
    await pool(t.layout.entries.length, o.threads, async (i) => {
      const payload = chunkPayload(bytes, t.layout, i);
      try {
        await addon.decodeChunkAsync(payload, shapeParams(t, t.layout.entries[i].frameCount, o.model), chunkOut(t, i));
      } catch (err) {
        throw fromNative(err, decodeContext(t, i));
      }
    });
    return result(t);
  };
  return withCallerStack(run(), caller);
}

/** Describes a .tez file: header, bounds, chunk list. Checks structure and checksums, decodes nothing. */
export function inspect(bytes: Uint8Array, options?: DecompressOptions): InspectResult {
  checkBytes(bytes);
  const o = resolveDecompressOptions(options);
  const layout = openContainer(bytes, o.maxBytes);
  const h = layout.header;
  const addon = native();
  const chunks = layout.entries.map((e, i) => {
    const payload = chunkPayload(bytes, layout, i);
    let info;
    try {
      info = addon.inspectChunk(payload);
    } catch (err) {
      throw fromNative(err, `Chunk ${i} (${frameRange(e)})`);
    }
    return {
      chunk: i,
      offset: e.offset,
      firstFrame: e.firstFrame,
      frameCount: e.frameCount,
      payloadBytes: e.payloadBytes,
      predictor: predictorName(info.predictor) ?? `unknown(${info.predictor})`,
      method: info.method,
      escapes: info.escapes,
    };
  });
  const shape = [layout.frames, h.height, h.width];
  if (h.flags & FLAG_EXPLICIT_CHANNELS || h.channels !== 1) shape.push(h.channels);
  return {
    formatVersion: { major: h.versionMajor, minor: h.versionMinor },
    fileBytes: bytes.length,
    dtype: dtypeById(h.dtype)!.name,
    shape,
    mode: MODE_NAMES[h.mode],
    requested: { abs: h.abs, rel: h.rel, pwrel: h.pwrel },
    effectiveAbs: h.effectiveAbs,
    valueRange: { min: h.min, max: h.max },
    predictor: (predictorName(h.predictor) ?? 'auto') as InspectResult['predictor'],
    chunkFrames: h.chunkFrames,
    metadata: h.metadata,
    decodedBytes: layout.decodedBytes,
    ratio: layout.decodedBytes / bytes.length,
    chunks,
  };
}
