// Reading a whole .tez file: everything the structure declares is checked before anything is allocated.
import { TezipError } from '../errors';
import { crc32c } from '../native';
import { dtypeById } from '../codec/enums';
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
  if (trailer.indexOffset < header.headerBytes || trailer.indexOffset > indexEnd) {
    throw new TezipError('TEZ_CORRUPT', `Index offset ${trailer.indexOffset} is outside the file`);
  }
  const entries = readIndex(bytes, trailer.indexOffset, indexEnd);

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
    offset += RECORD_HEADER_BYTES + e.payloadBytes;
    nextFrame += e.frameCount;
  });
  if (offset !== trailer.indexOffset) {
    throw new TezipError('TEZ_CORRUPT', `Chunks end at offset ${offset} but the index starts at ${trailer.indexOffset}`);
  }
  if (nextFrame !== frames) throw new TezipError('TEZ_CORRUPT', `Chunks hold ${nextFrame} frames, trailer says ${frames}`);
  return { header, trailer, entries, frames, frameBytes, decodedBytes };
}

/** The payload of chunk `i`, after checking its record header against the index and the payload CRC. */
export function chunkPayload(bytes: Uint8Array, layout: Layout, i: number): Uint8Array {
  const e = layout.entries[i];
  const r = parseRecordHeader(bytes, e.offset);
  if (r.chunk !== i || r.firstFrame !== e.firstFrame || r.frameCount !== e.frameCount || r.payloadBytes !== e.payloadBytes) {
    throw new TezipError('TEZ_CORRUPT', `Chunk ${i} (${frameRange(e)}): record header disagrees with the index`);
  }
  const start = e.offset + RECORD_HEADER_BYTES;
  const payload = bytes.subarray(start, start + e.payloadBytes);
  if (crc32c(payload) !== r.payloadCrc) {
    throw new TezipError('TEZ_CHECKSUM', `Checksum mismatch in chunk ${i} (${frameRange(e)})`);
  }
  return payload;
}
