// Reading a whole .tez file: everything the structure declares is checked before anything is allocated.
import { TezipError } from '../errors';
import { crc32c } from '../native';
import { dtypeById } from '../codec/enums';
import { MAX_CHUNK_BYTES } from '../codec/options';
import {
  Header,
  IndexEntry,
  RECORD_HEADER_BYTES,
  TRAILER_BYTES,
  Trailer,
  parseHeader,
  parseRecordHeader,
  readIndex,
  readTrailer,
} from './format';

export interface Layout {
  header: Header;
  trailer: Trailer;
  entries: IndexEntry[];
  frames: number;
  frameBytes: number;
  decodedBytes: number;
}

export function frameRange(e: IndexEntry): string {
  return e.frameCount === 1 ? `frame ${e.firstFrame}` : `frames ${e.firstFrame}–${e.firstFrame + e.frameCount - 1}`;
}

/** Validates header, trailer and index of a complete file against each other and against `maxBytes`. */
export function openContainer(bytes: Uint8Array, maxBytes: number): Layout {
  const header = parseHeader(bytes);
  if (bytes.length < header.headerBytes + TRAILER_BYTES) {
    throw new TezipError('TEZ_TRUNCATED', `File truncated after the header (${bytes.length} bytes)`);
  }
  const trailer = readTrailer(bytes);
  const indexEnd = bytes.length - TRAILER_BYTES;
  checkIndexOffset(header, trailer, indexEnd);
  const entries = readIndex(bytes, trailer.indexOffset, indexEnd);
  return checkLayout(header, trailer, entries, maxBytes);
}

/** Step 6 of docs/FORMAT.md's reader checks, first half: the trailer points between the header and itself. */
export function checkIndexOffset(header: Header, trailer: Trailer, indexEnd: number): void {
  if (trailer.indexOffset < header.headerBytes || trailer.indexOffset > indexEnd) {
    throw new TezipError('TEZ_CORRUPT', `Index offset ${trailer.indexOffset} is outside the file`);
  }
}

/**
 * Steps 7 and 8 of the reader checks: header, trailer and index agree, the records tile the bytes between the
 * header and the index, the frames tile [0, frames), and the decoded size is within `maxBytes`. Works from
 * the parsed pieces alone, so that a file-backed reader need not hold the file in memory.
 */
export function checkLayout(header: Header, trailer: Trailer, entries: IndexEntry[], maxBytes: number): Layout {
  const dtype = dtypeById(header.dtype)!;
  const frameBytes = header.height * header.width * header.channels * dtype.bytes;
  const frames = trailer.totalFrames;
  if (header.frames !== 0 && header.frames !== frames) {
    throw new TezipError('TEZ_CORRUPT', `Header says ${header.frames} frames, trailer ${frames}`);
  }
  if (frames < 1 || entries.length < 1) throw new TezipError('TEZ_CORRUPT', 'File holds no frames');
  const decodedBytes = frames * frameBytes;
  if (!Number.isSafeInteger(frameBytes) || !Number.isSafeInteger(decodedBytes) || decodedBytes > maxBytes) {
    throw new TezipError(
      'TEZ_TOO_LARGE',
      `Decoded size ${frames} × ${frameBytes} bytes exceeds the limit of ${maxBytes} bytes (option maxBytes)`,
    );
  }

  // Records must tile the space between header and index, and their frames must tile [0, frames).
  let offset = header.headerBytes;
  let nextFrame = 0;
  entries.forEach((e, i) => {
    if (e.offset !== offset) {
      throw new TezipError('TEZ_CORRUPT', `Chunk ${i} at offset ${e.offset}, expected ${offset}`);
    }
    if (e.firstFrame !== nextFrame || e.frameCount < 1 || e.firstFrame + e.frameCount > frames) {
      throw new TezipError('TEZ_CORRUPT', `Chunk ${i} covers ${frameRange(e)}, expected to start at frame ${nextFrame}`);
    }
    // No writer puts more in a chunk; a bigger one would make its decoder's working memory a multiple of it.
    if (e.frameCount * frameBytes > MAX_CHUNK_BYTES) {
      throw new TezipError('TEZ_TOO_LARGE', `Chunk ${i} holds ${e.frameCount} × ${frameBytes} bytes, more than the ${MAX_CHUNK_BYTES} a chunk may hold`);
    }
    offset += RECORD_HEADER_BYTES + e.payloadBytes;
    nextFrame += e.frameCount;
  });
  if (offset !== trailer.indexOffset) {
    throw new TezipError('TEZ_CORRUPT', `Chunks end at offset ${offset} but the index starts at ${trailer.indexOffset}`);
  }
  if (nextFrame !== frames) throw new TezipError('TEZ_CORRUPT', `Chunks hold ${nextFrame} frames, trailer says ${frames}`);
  return { header, trailer, entries, frames, frameBytes, decodedBytes };
}

/** Where a damaged chunk sits: set on the TezipError thrown for it (`err.chunk`, `err.firstFrame`, `err.frameCount`). */
export interface ChunkLocation {
  chunk: number;
  firstFrame: number;
  frameCount: number;
}

/** Appends to `err`'s message the chunk and its frame range and attaches them as properties (for callers and the CLI). */
export function locateError(err: unknown, i: number, e: IndexEntry): unknown {
  if (!(err instanceof TezipError)) return err;
  const where = `chunk ${i} (${frameRange(e)})`;
  const located = err.message.toLowerCase().includes(where)
    ? err
    : new TezipError(err.code, `${err.message[0].toUpperCase()}${err.message.slice(1)} in ${where}`, { cause: err });
  return Object.assign(located, { chunk: i, firstFrame: e.firstFrame, frameCount: e.frameCount } satisfies ChunkLocation);
}

/**
 * Checks chunk `i` given its whole record (32-byte record header + payload, as the index describes it):
 * record magic and CRC, record fields equal to the index entry, payload CRC. Returns the payload.
 * Errors name the chunk and its frame range.
 */
export function checkRecord(record: Uint8Array, i: number, e: IndexEntry): Uint8Array {
  try {
    const r = parseRecordHeader(record, 0);
    if (r.chunk !== i || r.firstFrame !== e.firstFrame || r.frameCount !== e.frameCount || r.payloadBytes !== e.payloadBytes) {
      throw new TezipError('TEZ_CORRUPT', 'record header disagrees with the index');
    }
    if (record.length < RECORD_HEADER_BYTES + e.payloadBytes) {
      throw new TezipError('TEZ_TRUNCATED', 'file truncated inside the chunk');
    }
    const payload = record.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + e.payloadBytes);
    if (crc32c(payload) !== r.payloadCrc) throw new TezipError('TEZ_CHECKSUM', 'checksum mismatch');
    return payload;
  } catch (err) {
    throw locateError(err, i, e);
  }
}

/** The payload of chunk `i`, after checking its record header against the index and the payload CRC. */
export function chunkPayload(bytes: Uint8Array, layout: Layout, i: number): Uint8Array {
  const e = layout.entries[i];
  return checkRecord(bytes.subarray(e.offset, e.offset + RECORD_HEADER_BYTES + e.payloadBytes), i, e);
}
