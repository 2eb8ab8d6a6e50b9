// The .tez container, version 1: header, chunk records, index, trailer. Every piece is written and read
// by its own function so that streaming writers, random access and recovery can reuse them.
// Byte-level specification: docs/FORMAT.md. All integers little-endian.
import { TezipError } from '../errors';
import { crc32c } from '../native';

export const MAGIC = Uint8Array.of(0x89, 0x54, 0x45, 0x5a, 0x0d, 0x0a, 0x1a, 0x0a); // \x89TEZ\r\n\x1a\n
export const FORMAT_MAJOR = 1;
export const FORMAT_MINOR = 0;
export const HEADER_FIXED_BYTES = 94; // up to and including the metadata length
export const HEADER_MIN_BYTES = HEADER_FIXED_BYTES + 4; // + CRC
export const RECORD_HEADER_BYTES = 32;
export const INDEX_ENTRY_BYTES = 24;
export const TRAILER_BYTES = 24;
export const FLAG_EXPLICIT_CHANNELS = 0x01;
export const KNOWN_FLAGS = FLAG_EXPLICIT_CHANNELS;

const tag = (s: string) => s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24);
export const CHUNK_MAGIC = tag('TZCK') >>> 0;
export const INDEX_MAGIC = tag('TZIX') >>> 0;
export const TRAILER_MAGIC = tag('TZND') >>> 0;

export interface Header {
  versionMajor: number;
  versionMinor: number;
  headerBytes: number;
  dtype: number; // codec.h DType id
  mode: number; // 0 lossless, 1 abs, 2 rel, 3 absrel, 4 pwrel
  predictor: number; // requested predictor id
  flags: number;
  height: number;
  width: number;
  channels: number;
  frames: number; // 0 = "see the index" (streaming writers)
  abs: number;
  rel: number;
  pwrel: number;
  effectiveAbs: number;
  min: number;
  max: number;
  chunkFrames: number;
  metadata: Record<string, unknown>;
}

export interface RecordHeader {
  chunk: number;
  firstFrame: number;
  frameCount: number;
  payloadBytes: number;
  payloadCrc: number;
}

export interface IndexEntry {
  offset: number; // of the chunk record
  firstFrame: number;
  frameCount: number;
  payloadBytes: number;
}

export interface Trailer {
  indexOffset: number;
  totalFrames: number;
}

// ---------- little helpers over DataView ----------

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function setU64(v: DataView, off: number, n: number): void {
  v.setBigUint64(off, BigInt(n), true);
}

function getU64(v: DataView, off: number, what: string): number {
  const n = v.getBigUint64(off, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new TezipError('TEZ_TOO_LARGE', `${what} ${n} is beyond what this reader handles`);
  }
  return Number(n);
}

function u32(v: DataView, off: number): number {
  return v.getUint32(off, true);
}

// ---------- header ----------

export function writeHeader(h: Omit<Header, 'versionMajor' | 'versionMinor' | 'headerBytes'>): Uint8Array {
  const meta = new TextEncoder().encode(JSON.stringify(h.metadata ?? {}));
  const total = HEADER_FIXED_BYTES + meta.length + 4;
  const out = new Uint8Array(total);
  const v = view(out);
  out.set(MAGIC, 0);
  v.setUint8(8, FORMAT_MAJOR);
  v.setUint8(9, FORMAT_MINOR);
  v.setUint32(10, total, true);
  v.setUint8(14, h.dtype);
  v.setUint8(15, h.mode);
  v.setUint8(16, h.predictor);
  v.setUint8(17, h.flags);
  v.setUint32(18, h.height, true);
  v.setUint32(22, h.width, true);
  v.setUint32(26, h.channels, true);
  setU64(v, 30, h.frames);
  v.setFloat64(38, h.abs, true);
  v.setFloat64(46, h.rel, true);
  v.setFloat64(54, h.pwrel, true);
  v.setFloat64(62, h.effectiveAbs, true);
  v.setFloat64(70, h.min, true);
  v.setFloat64(78, h.max, true);
  v.setUint32(86, h.chunkFrames, true);
  v.setUint32(90, meta.length, true);
  out.set(meta, HEADER_FIXED_BYTES);
  v.setUint32(total - 4, crc32c(out.subarray(0, total - 4)), true);
  return out;
}

/** Checks the magic bytes only: TEZ_BAD_MAGIC, or TEZ_TRUNCATED when a prefix of the magic is all there is. */
export function checkMagic(bytes: Uint8Array): void {
  const n = Math.min(bytes.length, MAGIC.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== MAGIC[i]) throw new TezipError('TEZ_BAD_MAGIC', 'Not a .tez file (bad magic bytes)');
  }
  if (bytes.length < MAGIC.length) throw new TezipError('TEZ_TRUNCATED', `File truncated: ${bytes.length} bytes`);
}

/** Parses and validates the header at the start of `bytes` (which may be the header alone). */
export function parseHeader(bytes: Uint8Array): Header {
  checkMagic(bytes);
  if (bytes.length < 14) throw new TezipError('TEZ_TRUNCATED', `File truncated inside the header (${bytes.length} bytes)`);
  const v = view(bytes);
  const major = v.getUint8(8);
  const minor = v.getUint8(9);
  if (major > FORMAT_MAJOR) {
    throw new TezipError('TEZ_UNSUPPORTED', `Format version ${major}.${minor} is newer than this reader (${FORMAT_MAJOR}.x)`);
  }
  if (major < 1) throw new TezipError('TEZ_CORRUPT', `Invalid format version ${major}.${minor}`);
  const headerBytes = u32(v, 10);
  if (headerBytes < HEADER_MIN_BYTES) throw new TezipError('TEZ_CORRUPT', `Invalid header length ${headerBytes}`);
  if (headerBytes > bytes.length) {
    throw new TezipError('TEZ_TRUNCATED', `File truncated inside the header (${bytes.length} of ${headerBytes} bytes)`);
  }
  const stored = u32(v, headerBytes - 4);
  const actual = crc32c(bytes.subarray(0, headerBytes - 4));
  if (stored !== actual) throw new TezipError('TEZ_CHECKSUM', 'Header checksum mismatch');

  const h: Header = {
    versionMajor: major,
    versionMinor: minor,
    headerBytes,
    dtype: v.getUint8(14),
    mode: v.getUint8(15),
    predictor: v.getUint8(16),
    flags: v.getUint8(17),
    height: u32(v, 18),
    width: u32(v, 22),
    channels: u32(v, 26),
    frames: getU64(v, 30, 'Frame count'),
    abs: v.getFloat64(38, true),
    rel: v.getFloat64(46, true),
    pwrel: v.getFloat64(54, true),
    effectiveAbs: v.getFloat64(62, true),
    min: v.getFloat64(70, true),
    max: v.getFloat64(78, true),
    chunkFrames: u32(v, 86),
    metadata: {},
  };
  if (h.dtype < 1 || h.dtype > 6) throw new TezipError('TEZ_CORRUPT', `Unknown dtype ${h.dtype} in header`);
  if (h.mode > 4) throw new TezipError('TEZ_CORRUPT', `Unknown bound mode ${h.mode} in header`);
  if (h.flags & ~KNOWN_FLAGS) throw new TezipError('TEZ_UNSUPPORTED', `Unknown header flags 0x${h.flags.toString(16)}`);
  if (h.height < 1 || h.width < 1 || h.channels < 1) {
    throw new TezipError('TEZ_CORRUPT', `Invalid frame dimensions ${h.height}×${h.width}×${h.channels} in header`);
  }
  for (const [name, x] of [['abs', h.abs], ['rel', h.rel], ['pwrel', h.pwrel], ['effective bound', h.effectiveAbs]] as const) {
    if (!(x >= 0) || !Number.isFinite(x)) throw new TezipError('TEZ_CORRUPT', `Invalid ${name} ${x} in header`);
  }
  const metaLen = u32(v, 90);
  // Minor versions may add fields after the metadata, before the CRC; they are skipped here.
  if (HEADER_FIXED_BYTES + metaLen + 4 > headerBytes) {
    throw new TezipError('TEZ_CORRUPT', `Metadata length ${metaLen} overruns the header`);
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER_FIXED_BYTES, HEADER_FIXED_BYTES + metaLen));
    const meta: unknown = metaLen ? JSON.parse(text) : {};
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw new Error('not an object');
    h.metadata = meta as Record<string, unknown>;
  } catch (e) {
    throw new TezipError('TEZ_CORRUPT', `Invalid metadata JSON in header (${(e as Error).message})`);
  }
  return h;
}

// ---------- chunk records ----------

/** The 32-byte record header that precedes a chunk payload. */
export function encodeChunkRecord(chunk: number, firstFrame: number, frameCount: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES);
  const v = view(out);
  v.setUint32(0, CHUNK_MAGIC, true);
  v.setUint32(4, chunk, true);
  setU64(v, 8, firstFrame);
  v.setUint32(16, frameCount, true);
  v.setUint32(20, payload.length, true);
  v.setUint32(24, crc32c(payload), true);
  v.setUint32(28, crc32c(out.subarray(0, 28)), true);
  return out;
}

/**
 * Reads the record header at `offset`. Returns null when no valid record header starts there (wrong magic
 * or header CRC), for scanning; throws TEZ_TRUNCATED when the bytes end inside it.
 */
export function tryParseRecordHeader(bytes: Uint8Array, offset: number): RecordHeader | null {
  if (offset + RECORD_HEADER_BYTES > bytes.length) {
    throw new TezipError('TEZ_TRUNCATED', `File truncated inside the chunk record at offset ${offset}`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, RECORD_HEADER_BYTES);
  if (v.getUint32(0, true) !== CHUNK_MAGIC) return null;
  if (v.getUint32(28, true) !== crc32c(bytes.subarray(offset, offset + 28))) return null;
  const first = v.getBigUint64(8, true);
  if (first > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return {
    chunk: v.getUint32(4, true),
    firstFrame: Number(first),
    frameCount: v.getUint32(16, true),
    payloadBytes: v.getUint32(20, true),
    payloadCrc: v.getUint32(24, true),
  };
}

/** Record header at `offset`, with the right magic and CRC or an error. */
export function parseRecordHeader(bytes: Uint8Array, offset: number): RecordHeader {
  const r = tryParseRecordHeader(bytes, offset);
  if (r) return r;
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, RECORD_HEADER_BYTES);
  if (v.getUint32(0, true) !== CHUNK_MAGIC) throw new TezipError('TEZ_CORRUPT', `No chunk record at offset ${offset}`);
  throw new TezipError('TEZ_CHECKSUM', `Chunk record header checksum mismatch at offset ${offset}`);
}

// ---------- index ----------

export function writeIndex(entries: readonly IndexEntry[]): Uint8Array {
  const total = 8 + entries.length * INDEX_ENTRY_BYTES + 4;
  const out = new Uint8Array(total);
  const v = view(out);
  v.setUint32(0, INDEX_MAGIC, true);
  v.setUint32(4, entries.length, true);
  let off = 8;
  for (const e of entries) {
    setU64(v, off, e.offset);
    setU64(v, off + 8, e.firstFrame);
    v.setUint32(off + 16, e.frameCount, true);
    v.setUint32(off + 20, e.payloadBytes, true);
    off += INDEX_ENTRY_BYTES;
  }
  v.setUint32(off, crc32c(out.subarray(0, off)), true);
  return out;
}

/** Parses the index at [offset, end) of `bytes`; the index must fill that range exactly. */
export function readIndex(bytes: Uint8Array, offset: number, end: number): IndexEntry[] {
  if (offset < 0 || offset + 12 > end || end > bytes.length) {
    throw new TezipError('TEZ_CORRUPT', `Index offset ${offset} is outside the file`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, end - offset);
  if (v.getUint32(0, true) !== INDEX_MAGIC) throw new TezipError('TEZ_CORRUPT', `No index at offset ${offset}`);
  const count = v.getUint32(4, true);
  const size = 8 + count * INDEX_ENTRY_BYTES + 4;
  if (size !== end - offset) {
    throw new TezipError('TEZ_CORRUPT', `Index of ${count} chunks does not fit its ${end - offset} bytes`);
  }
  if (v.getUint32(size - 4, true) !== crc32c(bytes.subarray(offset, offset + size - 4))) {
    throw new TezipError('TEZ_CHECKSUM', 'Index checksum mismatch');
  }
  const entries: IndexEntry[] = [];
  for (let i = 0, off = 8; i < count; i++, off += INDEX_ENTRY_BYTES) {
    entries.push({
      offset: getU64(v, off, 'Chunk offset'),
      firstFrame: getU64(v, off + 8, 'First frame'),
      frameCount: v.getUint32(off + 16, true),
      payloadBytes: v.getUint32(off + 20, true),
    });
  }
  return entries;
}

// ---------- trailer ----------

export function writeTrailer(t: Trailer): Uint8Array {
  const out = new Uint8Array(TRAILER_BYTES);
  const v = view(out);
  setU64(v, 0, t.indexOffset);
  setU64(v, 8, t.totalFrames);
  v.setUint32(16, crc32c(out.subarray(0, 16)), true);
  v.setUint32(20, TRAILER_MAGIC, true);
  return out;
}

/** Reads the trailer in the last 24 bytes. A missing trailer magic means the file was cut short. */
export function readTrailer(bytes: Uint8Array): Trailer {
  if (bytes.length < TRAILER_BYTES) throw new TezipError('TEZ_TRUNCATED', 'File truncated: no trailer');
  const at = bytes.length - TRAILER_BYTES;
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, TRAILER_BYTES);
  if (v.getUint32(20, true) !== TRAILER_MAGIC) {
    throw new TezipError('TEZ_TRUNCATED', 'File truncated or damaged: no trailer at the end');
  }
  if (v.getUint32(16, true) !== crc32c(bytes.subarray(at, at + 16))) {
    throw new TezipError('TEZ_CHECKSUM', 'Trailer checksum mismatch');
  }
  return { indexOffset: getU64(v, 0, 'Index offset'), totalFrames: getU64(v, 8, 'Frame count') };
}

// ---------- recovery ----------

export interface ScannedChunk extends RecordHeader {
  offset: number;
  payloadOffset: number;
  /** false when the payload is cut short or its CRC does not match. */
  payloadOk: boolean;
}

/**
 * Finds chunk records by their magic and header CRC, from `from` on, without trusting any index: what a
 * recovery tool needs when the end of a file is lost. Records with a damaged payload are reported, not thrown.
 */
export function scanChunks(bytes: Uint8Array, from = 0): ScannedChunk[] {
  const found: ScannedChunk[] = [];
  const last = bytes.length - RECORD_HEADER_BYTES;
  let off = from;
  while (off <= last) {
    if (bytes[off] === 0x54 && bytes[off + 1] === 0x5a && bytes[off + 2] === 0x43 && bytes[off + 3] === 0x4b) {
      const r = tryParseRecordHeader(bytes, off);
      if (r) {
        const payloadOffset = off + RECORD_HEADER_BYTES;
        const end = payloadOffset + r.payloadBytes;
        const payloadOk = end <= bytes.length && crc32c(bytes.subarray(payloadOffset, end)) === r.payloadCrc;
        found.push({ ...r, offset: off, payloadOffset, payloadOk });
        if (payloadOk) {
          off = end;
          continue;
        }
      }
    }
    off++;
  }
  return found;
}
