// Recovery of a .tez file whose end is missing or damaged (a writer killed mid-stream, a copy cut short):
// the chunk records are walked from the header on, without trusting any index, and every record whose
// header CRC and payload CRC hold and whose chunk number and first frame continue the run is kept. The kept
// records are copied byte for byte after the original header, and a new index and trailer are written.
// Frames must stay contiguous from 0 (docs/FORMAT.md), so the walk stops at the first damaged or missing
// chunk; intact chunks found after that point are reported, not kept (`tezip decompress --ignore-damaged`
// reads around a damaged chunk when the index is intact).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TezipError } from '../errors';
import { crc32c } from '../native';
import { dtypeById } from '../codec/enums';
import { MAX_CHUNK_BYTES, show } from '../codec/options';
import {
  CHUNK_MAGIC,
  Header,
  INDEX_MAGIC,
  IndexEntry,
  RECORD_HEADER_BYTES,
  RecordHeader,
  parseHeader,
  tryParseRecordHeader,
  writeIndex,
  writeTrailer,
} from './format';
import { MAX_HEADER_BYTES, readLayout } from './file';
import { frameRange } from './reader';

const PIECE = 4 * 1024 * 1024;

export interface RecoverReport {
  /** Frames in the recovered file (contiguous from frame 0). */
  framesKept: number;
  chunksKept: number;
  /** Frames the input declared (its trailer, else its header), or null when it does not say. */
  framesDeclared: number | null;
  /** The input was already a complete, valid file (its index agreed with the chunks found). */
  intact: boolean;
  /** Why the walk stopped: the index, the end of the file, or a damaged record. */
  stoppedBy: string;
  /** Intact chunks after the stopping point, which cannot be kept without the frames before them. */
  skipped: Array<{ chunk: number; firstFrame: number; frameCount: number }>;
  bytesIn: number;
  bytesOut: number;
}

async function readAt(fh: fs.promises.FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/** CRC-32C of [from, from + length) of the file, read in pieces so that memory stays small. */
async function crcOf(fh: fs.promises.FileHandle, from: number, length: number): Promise<number> {
  let crc = 0;
  for (let at = 0; at < length; at += PIECE) {
    crc = crc32c(await readAt(fh, from + at, Math.min(PIECE, length - at)), crc);
  }
  return crc;
}

interface Walked extends RecordHeader {
  offset: number;
}

/** The record at `off` if its header and payload checksums hold and it lies within the file, else a reason. */
async function recordAt(fh: fs.promises.FileHandle, size: number, off: number, frameBytes: number): Promise<Walked | string> {
  if (off + RECORD_HEADER_BYTES > size) return off === size ? 'the end of the file' : `the end of the file inside the record at offset ${off}`;
  const head = await readAt(fh, off, RECORD_HEADER_BYTES);
  const r = tryParseRecordHeader(head, 0);
  if (!r) {
    const magic = new DataView(head.buffer).getUint32(0, true);
    if (magic === INDEX_MAGIC) return 'the index';
    return magic === CHUNK_MAGIC ? `a damaged chunk record header at offset ${off}` : `bytes that are not a chunk record at offset ${off}`;
  }
  const where = `chunk ${r.chunk} (${frameRange({ offset: off, firstFrame: r.firstFrame, frameCount: r.frameCount, payloadBytes: 0 })})`;
  if (r.frameCount < 1 || r.frameCount * frameBytes > MAX_CHUNK_BYTES) return `${where} with an impossible frame count at offset ${off}`;
  const end = off + RECORD_HEADER_BYTES + r.payloadBytes;
  if (end > size) return `${where}, cut short by the end of the file`;
  if ((await crcOf(fh, off + RECORD_HEADER_BYTES, r.payloadBytes)) !== r.payloadCrc) return `${where}, damaged (checksum mismatch)`;
  return { ...r, offset: off };
}

/** Finds intact records after `from` by their magic (for the report only). */
async function scanAfter(fh: fs.promises.FileHandle, size: number, from: number, frameBytes: number): Promise<Walked[]> {
  const found: Walked[] = [];
  let at = from;
  while (at + RECORD_HEADER_BYTES <= size) {
    const win = await readAt(fh, at, Math.min(PIECE, size - at));
    let hit = -1;
    for (let i = 0; i + 4 <= win.length; i++) {
      if (win[i] === 0x54 && win[i + 1] === 0x5a && win[i + 2] === 0x43 && win[i + 3] === 0x4b) {
        const r = await recordAt(fh, size, at + i, frameBytes);
        if (typeof r !== 'string') {
          found.push(r);
          hit = at + i + RECORD_HEADER_BYTES + r.payloadBytes;
          break;
        }
      }
    }
    if (hit >= 0) at = hit;
    else at += Math.max(1, win.length - 3); // a magic may straddle two windows
  }
  return found;
}

async function readHeader(fh: fs.promises.FileHandle, size: number): Promise<{ header: Header; raw: Uint8Array }> {
  const start = await readAt(fh, 0, Math.min(size, 14));
  if (start.length < 14) parseHeader(start);
  const len = new DataView(start.buffer).getUint32(10, true);
  if (len > MAX_HEADER_BYTES && len <= size) throw new TezipError('TEZ_TOO_LARGE', `Header of ${len} bytes is beyond what this reader handles`);
  const raw = len > 14 && len <= size ? await readAt(fh, 0, len) : start;
  try {
    return { header: parseHeader(raw), raw };
  } catch (e) {
    if (e instanceof TezipError && e.code !== 'TEZ_BAD_MAGIC') {
      throw new TezipError(e.code, `${e.message}: the header (dtype, shape, bounds) is needed, nothing can be recovered`, { cause: e });
    }
    throw e;
  }
}

/**
 * Rebuilds `output` from the complete chunks at the start of `input`. Throws a TezipError when not even the
 * first chunk is complete, or when the header is damaged (without it no chunk can be decoded).
 */
export async function recoverTez(input: string, output: string): Promise<RecoverReport> {
  for (const [name, v] of [['input', input], ['output', output]] as const) {
    if (typeof v !== 'string' || v === '') throw new TypeError(`Expected a file path for ${name} but received ${show(v)}`);
  }
  if (path.resolve(input) === path.resolve(output)) throw new RangeError('Expected an output path different from the input');
  const fh = await fs.promises.open(input, 'r');
  try {
    const { size } = await fh.stat();
    const { header, raw } = await readHeader(fh, size);
    const frameBytes = header.height * header.width * header.channels * dtypeById(header.dtype)!.bytes;

    const kept: IndexEntry[] = [];
    let off = header.headerBytes;
    let nextFrame = 0;
    let stoppedBy: string;
    for (;;) {
      const r = await recordAt(fh, size, off, frameBytes);
      if (typeof r === 'string') {
        stoppedBy = r;
        break;
      }
      if (r.chunk !== kept.length || r.firstFrame !== nextFrame) {
        stoppedBy = `chunk ${r.chunk} from frame ${r.firstFrame} at offset ${off} where chunk ${kept.length} from frame ${nextFrame} was expected`;
        break;
      }
      kept.push({ offset: off, firstFrame: r.firstFrame, frameCount: r.frameCount, payloadBytes: r.payloadBytes });
      off += RECORD_HEADER_BYTES + r.payloadBytes;
      nextFrame += r.frameCount;
    }

    let intact = false;
    let framesDeclared: number | null = header.frames || null;
    try {
      const layout = await readLayout(fh, size, Number.MAX_SAFE_INTEGER);
      framesDeclared = layout.frames;
      intact = stoppedBy === 'the index' && layout.frames === nextFrame && layout.entries.length === kept.length;
    } catch {
      // no usable index or trailer: that is why we are here
    }
    const skipped = stoppedBy === 'the index' ? [] : (await scanAfter(fh, size, off + 1, frameBytes)).map((r) => ({
      chunk: r.chunk,
      firstFrame: r.firstFrame,
      frameCount: r.frameCount,
    }));
    if (kept.length === 0) {
      throw new TezipError(
        stoppedBy.startsWith('the end') ? 'TEZ_TRUNCATED' : 'TEZ_CORRUPT',
        `No complete chunk to recover: the walk stopped at ${stoppedBy}`,
      );
    }

    // Header copied as it was (extensions included), with the frame count set when it had one.
    const newHeader = raw.slice(0, header.headerBytes);
    const hv = new DataView(newHeader.buffer);
    if (header.frames !== 0) hv.setBigUint64(30, BigInt(nextFrame), true);
    hv.setUint32(header.headerBytes - 4, crc32c(newHeader.subarray(0, header.headerBytes - 4)), true);

    const out = await fs.promises.open(output, 'w');
    let written = 0;
    try {
      const put = async (b: Uint8Array) => {
        let done = 0;
        while (done < b.length) done += (await out.write(b, done, b.length - done)).bytesWritten;
        written += b.length;
      };
      await put(newHeader);
      for (let at = header.headerBytes; at < off; at += PIECE) await put(await readAt(fh, at, Math.min(PIECE, off - at)));
      await put(writeIndex(kept));
      await put(writeTrailer({ indexOffset: off, totalFrames: nextFrame }));
    } finally {
      await out.close();
    }
    return { framesKept: nextFrame, chunksKept: kept.length, framesDeclared, intact, stoppedBy, skipped, bytesIn: size, bytesOut: written };
  } finally {
    await fh.close();
  }
}
