// Hostile .tez files: a table of crafted inputs, each aimed at one check of the reader (docs/FORMAT.md,
// "What a reader checks") with its checksums recomputed so that the check under test is the one that
// fires, and the exact TezipError code each must get. Then truncation at every length, random mutations
// with repaired checksums (fast-check), and the inputs the fuzzers once found (test/fixtures/hostile).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import * as tezip from '../src/index';
import { container } from '../src/index';
import { crc32c } from '../src/native';
import { expectTezipError, makeFrames } from './support';

type Code = 'TEZ_BAD_MAGIC' | 'TEZ_CORRUPT' | 'TEZ_TRUNCATED' | 'TEZ_UNSUPPORTED' | 'TEZ_TOO_LARGE' | 'TEZ_CHECKSUM';

/** A valid 3-chunk uint16 file and the offsets of its parts. */
function base() {
  const shape = [6, 8, 8];
  const data = makeFrames('uint16', shape, 5);
  const bytes = tezip.compressSync({ data, shape }, { chunkFrames: 2, metadata: { k: 'v' } });
  const header = container.parseHeader(bytes);
  const trailer = container.readTrailer(bytes);
  const layout = container.openContainer(bytes, Infinity);
  return { bytes, header, trailer, layout, data };
}
const B = base();
const H = B.header.headerBytes;
const IX = B.trailer.indexOffset;
const TR = B.bytes.length - container.TRAILER_BYTES;

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const crcOf = (b: Uint8Array, from: number, to: number) => crc32c(b.subarray(from, to));

// Checksum repairs, so that a crafted field reaches the check that judges its meaning.
function fixHeader(b: Uint8Array, h = dv(b).getUint32(10, true)): Uint8Array {
  dv(b).setUint32(h - 4, crcOf(b, 0, h - 4), true);
  return b;
}
function fixTrailer(b: Uint8Array): Uint8Array {
  const t = b.length - container.TRAILER_BYTES;
  dv(b).setUint32(t + 16, crcOf(b, t, t + 16), true);
  return b;
}
function fixIndex(b: Uint8Array, ix = IX): Uint8Array {
  const n = dv(b).getUint32(ix + 4, true);
  const end = ix + 8 + 24 * n;
  dv(b).setUint32(end, crcOf(b, ix, end), true);
  return b;
}
function fixRecord(b: Uint8Array, i: number): Uint8Array {
  const o = B.layout.entries[i].offset;
  dv(b).setUint32(o + 28, crcOf(b, o, o + 28), true);
  return b;
}
function fixPayload(b: Uint8Array, i: number): Uint8Array {
  const e = B.layout.entries[i];
  const p0 = e.offset + container.RECORD_HEADER_BYTES;
  dv(b).setUint32(e.offset + 24, crcOf(b, p0, p0 + e.payloadBytes), true);
  return fixRecord(b, i);
}
const edit = (f: (b: Uint8Array, v: DataView) => void) => () => {
  const b = B.bytes.slice();
  f(b, dv(b));
  return b;
};
/** Same file with header bytes replaced, CRC recomputed. */
const headerEdit = (f: (v: DataView) => void) => edit((b, v) => (f(v), fixHeader(b)));
/** Same file with index entry i edited, index CRC recomputed. */
const indexEdit = (i: number, f: (v: DataView, at: number) => void) =>
  edit((b, v) => (f(v, IX + 8 + 24 * i), fixIndex(b)));
/** Same file with the trailer edited, trailer CRC recomputed. */
const trailerEdit = (f: (v: DataView) => void) => edit((b, v) => (f(v), fixTrailer(b)));
/** The same chunks written again with a different header (valid CRCs everywhere). */
function withHeader(fields: Partial<Parameters<typeof container.writeHeader>[0]>, totalFrames?: number): Uint8Array {
  const h = B.header;
  const header = container.writeHeader({ ...h, ...fields });
  const shift = header.length - H;
  const entries = B.layout.entries.map((e) => ({ ...e, offset: e.offset + shift }));
  const frames = totalFrames ?? B.trailer.totalFrames;
  return Buffer.concat([
    header,
    B.bytes.subarray(H, IX),
    container.writeIndex(entries),
    container.writeTrailer({ indexOffset: IX + shift, totalFrames: frames }),
  ]);
}
/** A file made of a header and an index of the given entries, no chunk bytes at all. */
function forged(fields: Partial<Parameters<typeof container.writeHeader>[0]>, entries: container.IndexEntry[], frames: number) {
  const header = container.writeHeader({ ...B.header, ...fields });
  return Buffer.concat([
    header,
    container.writeIndex(entries.map((e) => ({ ...e, offset: e.offset < 0 ? header.length : e.offset }))),
    container.writeTrailer({ indexOffset: header.length, totalFrames: frames }),
  ]);
}
/** Replaces chunk i's payload (record, index, offsets and CRCs rewritten). */
function withPayload(i: number, payload: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [B.bytes.subarray(0, H)];
  const entries: container.IndexEntry[] = [];
  let off = H;
  B.layout.entries.forEach((e, k) => {
    const p = k === i ? payload : B.bytes.subarray(e.offset + 32, e.offset + 32 + e.payloadBytes);
    parts.push(container.encodeChunkRecord(k, e.firstFrame, e.frameCount, p), p);
    entries.push({ ...e, offset: off, payloadBytes: p.length });
    off += 32 + p.length;
  });
  parts.push(container.writeIndex(entries), container.writeTrailer({ indexOffset: off, totalFrames: B.trailer.totalFrames }));
  return Buffer.concat(parts);
}

interface Row {
  name: string;
  make: () => Uint8Array;
  code: Code;
  /** true when only decoding the payload finds it (inspect reads chunk payloads' first bytes only). */
  decodeOnly?: boolean;
  message?: RegExp;
}

const U64_NEG1 = 0xffffffffffffffffn; // "-1" in a u64 field
const rows: Row[] = [
  // magic and version
  { name: 'empty file', make: () => new Uint8Array(0), code: 'TEZ_TRUNCATED' },
  { name: 'half the magic', make: () => B.bytes.slice(0, 4), code: 'TEZ_TRUNCATED' },
  { name: 'wrong magic', make: edit((b) => (b[1] = 0x55)), code: 'TEZ_BAD_MAGIC' },
  { name: 'a PNG', make: () => Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0), code: 'TEZ_BAD_MAGIC' },
  { name: 'major version 0', make: headerEdit((v) => v.setUint8(8, 0)), code: 'TEZ_CORRUPT' },
  { name: 'major version 2', make: headerEdit((v) => v.setUint8(8, 2)), code: 'TEZ_UNSUPPORTED' },
  // header length
  { name: 'header length 0', make: edit((b, v) => v.setUint32(10, 0, true)), code: 'TEZ_CORRUPT' },
  { name: 'header length 97', make: edit((b, v) => v.setUint32(10, 97, true)), code: 'TEZ_CORRUPT' },
  { name: 'header length 2^32-1 (beyond the file)', make: edit((b, v) => v.setUint32(10, 0xffffffff, true)), code: 'TEZ_TRUNCATED' },
  { name: 'header length = file length + 1', make: edit((b, v) => v.setUint32(10, b.length + 1, true)), code: 'TEZ_TRUNCATED' },
  { name: 'header checksum wrong', make: edit((b) => (b[H - 1] ^= 0x40)), code: 'TEZ_CHECKSUM' },
  { name: 'header field flipped, CRC not repaired', make: edit((b) => (b[20] ^= 1)), code: 'TEZ_CHECKSUM' },
  // header fields
  { name: 'dtype 0', make: headerEdit((v) => v.setUint8(14, 0)), code: 'TEZ_CORRUPT' },
  { name: 'dtype 7', make: headerEdit((v) => v.setUint8(14, 7)), code: 'TEZ_CORRUPT' },
  { name: 'mode 5', make: headerEdit((v) => v.setUint8(15, 5)), code: 'TEZ_CORRUPT' },
  { name: 'unknown flag bit', make: headerEdit((v) => v.setUint8(17, 0x80)), code: 'TEZ_UNSUPPORTED' },
  { name: 'height 0', make: headerEdit((v) => v.setUint32(18, 0, true)), code: 'TEZ_CORRUPT' },
  { name: 'width 0', make: headerEdit((v) => v.setUint32(22, 0, true)), code: 'TEZ_CORRUPT' },
  { name: 'channels 0', make: headerEdit((v) => v.setUint32(26, 0, true)), code: 'TEZ_CORRUPT' },
  { name: 'negative abs bound', make: headerEdit((v) => v.setFloat64(38, -1, true)), code: 'TEZ_CORRUPT' },
  { name: 'NaN rel bound', make: headerEdit((v) => v.setFloat64(46, NaN, true)), code: 'TEZ_CORRUPT' },
  { name: 'infinite effective bound', make: headerEdit((v) => v.setFloat64(62, Infinity, true)), code: 'TEZ_CORRUPT' },
  { name: 'metadata length overruns the header', make: headerEdit((v) => v.setUint32(90, 0xffffffff, true)), code: 'TEZ_CORRUPT' },
  { name: 'metadata not JSON', make: headerEdit((v) => v.setUint8(94, 0x78)), code: 'TEZ_CORRUPT' },
  { name: 'metadata invalid UTF-8', make: headerEdit((v) => v.setUint8(95, 0xff)), code: 'TEZ_CORRUPT' },
  { name: 'metadata a JSON array', make: () => withHeader({ metadata: [1] as never }), code: 'TEZ_CORRUPT' },
  { name: 'header frame count "-1" (2^64-1)', make: headerEdit((v) => v.setBigUint64(30, U64_NEG1, true)), code: 'TEZ_TOO_LARGE' },
  { name: 'header frame count ≠ trailer', make: () => withHeader({ frames: 7 }), code: 'TEZ_CORRUPT', message: /Header says 7 frames, trailer 6/ },
  { name: 'header frames 0 (streaming) is fine, trailer 0 is not', make: () => withHeader({ frames: 0 }, 0), code: 'TEZ_CORRUPT' },
  // trailer
  { name: 'no trailer magic', make: edit((b) => (b[b.length - 1] = 0)), code: 'TEZ_TRUNCATED' },
  { name: 'trailer checksum wrong', make: edit((b) => (b[TR + 16] ^= 1)), code: 'TEZ_CHECKSUM' },
  { name: 'trailer frames ≠ chunks', make: trailerEdit((v) => v.setBigUint64(TR + 8, 5n, true)), code: 'TEZ_CORRUPT' },
  { name: 'trailer frames "-1"', make: trailerEdit((v) => v.setBigUint64(TR + 8, U64_NEG1, true)), code: 'TEZ_TOO_LARGE' },
  // index position
  { name: 'index offset past the end', make: trailerEdit((v) => v.setBigUint64(TR, BigInt(TR + 1000), true)), code: 'TEZ_CORRUPT', message: /outside the file/ },
  { name: 'index offset inside the header', make: trailerEdit((v) => v.setBigUint64(TR, 10n, true)), code: 'TEZ_CORRUPT', message: /outside the file/ },
  { name: 'index offset "-1"', make: trailerEdit((v) => v.setBigUint64(TR, U64_NEG1, true)), code: 'TEZ_CORRUPT', message: /outside the file/ },
  { name: 'index offset 2^53 + 8', make: trailerEdit((v) => v.setBigUint64(TR, 2n ** 53n + 8n, true)), code: 'TEZ_CORRUPT', message: /outside the file/ },
  { name: 'index offset at a chunk', make: trailerEdit((v) => v.setBigUint64(TR, BigInt(H), true)), code: 'TEZ_CORRUPT' },
  { name: 'index offset leaves 11 bytes', make: trailerEdit((v) => v.setBigUint64(TR, BigInt(TR - 11), true)), code: 'TEZ_CORRUPT' },
  // index content
  { name: 'index magic wrong', make: edit((b) => (b[IX] = 0)), code: 'TEZ_CORRUPT' },
  { name: 'index count 2^32-1', make: edit((b, v) => v.setUint32(IX + 4, 0xffffffff, true)), code: 'TEZ_CORRUPT', message: /does not fit/ },
  { name: 'index count one short', make: edit((b, v) => v.setUint32(IX + 4, 2, true)), code: 'TEZ_CORRUPT' },
  { name: 'index checksum wrong', make: edit((b) => (b[TR - 1] ^= 1)), code: 'TEZ_CHECKSUM' },
  { name: 'no chunks at all', make: () => forged({}, [], 6), code: 'TEZ_CORRUPT' },
  { name: 'chunk offset outside the file', make: indexEdit(1, (v, at) => v.setBigUint64(at, BigInt(B.bytes.length + 100), true)), code: 'TEZ_CORRUPT' },
  { name: 'chunk offset "-1"', make: indexEdit(1, (v, at) => v.setBigUint64(at, U64_NEG1, true)), code: 'TEZ_CORRUPT' },
  { name: 'overlapping chunks (two entries at one offset)', make: indexEdit(1, (v, at) => v.setBigUint64(at, BigInt(H), true)), code: 'TEZ_CORRUPT', message: /Chunk 1 at offset/ },
  { name: 'gap between chunks', make: indexEdit(2, (v, at) => v.setBigUint64(at, BigInt(B.layout.entries[2].offset + 1), true)), code: 'TEZ_CORRUPT' },
  { name: 'overlapping frames', make: indexEdit(1, (v, at) => v.setBigUint64(at + 8, 1n, true)), code: 'TEZ_CORRUPT' },
  { name: 'first frame "-1"', make: indexEdit(1, (v, at) => v.setBigUint64(at + 8, U64_NEG1, true)), code: 'TEZ_CORRUPT' },
  { name: 'frame count 0', make: indexEdit(0, (v, at) => v.setUint32(at + 16, 0, true)), code: 'TEZ_CORRUPT' },
  { name: 'frame count 2^32-1', make: indexEdit(2, (v, at) => v.setUint32(at + 16, 0xffffffff, true)), code: 'TEZ_CORRUPT' },
  { name: 'payload length 2^32-1', make: indexEdit(0, (v, at) => v.setUint32(at + 20, 0xffffffff, true)), code: 'TEZ_CORRUPT' },
  { name: 'payload length one short', make: indexEdit(0, (v, at) => v.setUint32(at + 20, B.layout.entries[0].payloadBytes - 1, true)), code: 'TEZ_CORRUPT' },
  // sizes against the limit, before any allocation
  { name: 'frames 2^32-1 × 2^32-1 × 2^32-1 values', make: () => withHeader({ height: 0xffffffff, width: 0xffffffff, channels: 0xffffffff }), code: 'TEZ_TOO_LARGE' },
  { name: '2^40 frames of 2^20 × 2^20 pixels', make: () => forged({ height: 2 ** 20, width: 2 ** 20, frames: 2 ** 40 }, [{ offset: -1, firstFrame: 0, frameCount: 1, payloadBytes: 0 }], 2 ** 40), code: 'TEZ_TOO_LARGE', message: /maxBytes/ },
  // a few hundred bytes declaring 4.8 GB, under the default limit: each chunk is above what any writer puts in one
  { name: 'chunks of 2 frames of 50,331,648 rows (4.8 GB of values in a tiny file)', make: () => withHeader({ height: 3 * 2 ** 24 }), code: 'TEZ_TOO_LARGE', message: /a chunk may hold/ },
  { name: '2^53-1 frames of one byte', make: () => forged({ dtype: 1, height: 1, width: 1, frames: 2 ** 53 - 1 }, [{ offset: -1, firstFrame: 0, frameCount: 1, payloadBytes: 0 }], 2 ** 53 - 1), code: 'TEZ_TOO_LARGE' },
  // chunk records
  { name: 'record magic wrong', make: edit((b) => (b[B.layout.entries[1].offset] ^= 1)), code: 'TEZ_CORRUPT' },
  { name: 'record checksum wrong', make: edit((b) => (b[B.layout.entries[1].offset + 28] ^= 1)), code: 'TEZ_CHECKSUM' },
  { name: 'record number disagrees with the index', make: edit((b, v) => (v.setUint32(B.layout.entries[1].offset + 4, 7, true), fixRecord(b, 1))), code: 'TEZ_CORRUPT', message: /disagrees with the index/ },
  { name: 'record frame count disagrees with the index', make: edit((b, v) => (v.setUint32(B.layout.entries[2].offset + 16, 9, true), fixRecord(b, 2))), code: 'TEZ_CORRUPT' },
  { name: 'payload checksum wrong', make: edit((b) => (b[B.layout.entries[2].offset + 40] ^= 1)), code: 'TEZ_CHECKSUM', message: /chunk 2 \(frames 4–5\)/ },
  // chunk payloads (checksums valid: the chunk codec itself must refuse them)
  { name: 'payload version 9', make: edit((b) => ((b[B.layout.entries[0].offset + 32] = 9), fixPayload(b, 0))), code: 'TEZ_UNSUPPORTED' },
  { name: 'payload method 200', make: edit((b) => ((b[B.layout.entries[0].offset + 33] = 200), fixPayload(b, 0))), code: 'TEZ_UNSUPPORTED' },
  { name: 'empty payload', make: () => withPayload(1, new Uint8Array(0)), code: 'TEZ_TRUNCATED' },
  { name: 'payload cut after its method byte', make: () => withPayload(1, Uint8Array.of(1, 1)), code: 'TEZ_TRUNCATED', decodeOnly: true },
  { name: 'stored payload one byte short', make: () => withPayload(1, new Uint8Array(2 + 2 * 8 * 8 * 2 - 1).fill(1, 0, 1)), code: 'TEZ_CORRUPT', decodeOnly: true },
  { name: 'zstd payload of the wrong size', make: () => withPayload(0, Uint8Array.of(1, 2, 0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x01, 0x09, 0, 0, 0)), code: 'TEZ_CORRUPT', decodeOnly: true },
  { name: 'coded payload with an unknown predictor', make: () => withPayload(0, Uint8Array.of(1, 1, 7, 0)), code: 'TEZ_UNSUPPORTED', decodeOnly: true },
  { name: 'coded payload with an unknown quantizer', make: () => withPayload(0, Uint8Array.of(1, 1, 1, 9)), code: 'TEZ_UNSUPPORTED' },
  { name: 'coded payload escape count above the chunk size', make: () => withPayload(0, Uint8Array.of(1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f)), code: 'TEZ_CORRUPT', decodeOnly: true },
];

describe('hostile .tez files: one check each, with its error code', () => {
  it('the base file is valid', () => {
    assert.deepEqual(Array.from(tezip.decompressSync(B.bytes).data), Array.from(B.data));
  });
  for (const r of rows) {
    it(`${r.name} → ${r.code}`, async () => {
      const b = r.make();
      const e = await expectTezipError(() => tezip.decompressSync(b), [r.code], 'decompressSync');
      if (r.message) assert.match(e.message, r.message);
      await expectTezipError(() => tezip.decompress(b, { threads: 2 }), [r.code], 'decompress');
      if (!r.decodeOnly) await expectTezipError(() => tezip.inspect(b), [r.code], 'inspect');
    });
  }

  it('truncated at every length → TEZ_TRUNCATED (never a crash, never another code)', () => {
    for (let n = 0; n < B.bytes.length; n++) {
      const cut = B.bytes.slice(0, n);
      assert.throws(() => tezip.decompressSync(cut), (e: Error & { code?: string }) => {
        assert.equal(e.name, 'TezipError', `length ${n}: ${e.stack}`);
        assert.equal(e.code, 'TEZ_TRUNCATED', `length ${n}: ${e.message}`);
        return true;
      });
    }
  });

  it('the end cut off and a fake trailer pasted on → TEZ_CORRUPT or TEZ_CHECKSUM at every length', () => {
    // What a careless tool might write: a trailer that points at an index that is not there.
    for (let n = H; n < B.bytes.length - 24; n += 7) {
      const x = Buffer.concat([B.bytes.subarray(0, n), container.writeTrailer({ indexOffset: IX, totalFrames: 6 })]);
      const codes = ['TEZ_CORRUPT', 'TEZ_CHECKSUM'];
      assert.throws(() => tezip.decompressSync(x), (e: Error & { code?: string }) => codes.includes(e.code!) || assert.fail(`${n}: ${e.stack}`));
    }
  });
});

/** Recomputes every checksum that can be located (as scripts/fuzz-container.mjs does). */
function fixAll(b: Uint8Array): Uint8Array {
  const v = dv(b);
  if (b.length >= 14) {
    const h = v.getUint32(10, true);
    if (h >= 98 && h <= b.length) fixHeader(b, h);
  }
  if (b.length < 24) return b;
  const t = b.length - 24;
  fixTrailer(b);
  const io = Number(v.getBigUint64(t, true));
  if (io + 12 > t) return b;
  const n = v.getUint32(io + 4, true);
  if (io + 8 + 24 * n + 4 > t) return b;
  for (let i = 0; i < n; i++) {
    const ro = Number(v.getBigUint64(io + 8 + 24 * i, true));
    if (ro + 32 > b.length) continue;
    const p = v.getUint32(ro + 20, true);
    if (ro + 32 + p <= b.length) v.setUint32(ro + 24, crcOf(b, ro + 32, ro + 32 + p), true);
    v.setUint32(ro + 28, crcOf(b, ro, ro + 28), true);
  }
  fixIndex(b, io);
  return b;
}

describe('random damage with repaired checksums', () => {
  it('any mutation of a valid file decodes or fails with a TezipError, sync and async alike', async () => {
    const mutation = fc.record({
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      kind: fc.constantFrom('overwrite', 'insert', 'delete', 'u32', 'u64'),
      value: fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff), fc.nat()),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), async (muts, repair) => {
        let b: Uint8Array = B.bytes.slice();
        for (const m of muts) {
          const at = m.at % (b.length + 1);
          if (m.kind === 'overwrite') b.set(m.bytes.subarray(0, b.length - at), at);
          else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
          else if (m.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.bytes.length)]);
          else if (at + 8 <= b.length) {
            if (m.kind === 'u32') dv(b).setUint32(at, m.value >>> 0, true);
            else dv(b).setBigUint64(at, BigInt(m.value) * 2n ** BigInt(m.bytes[0] % 40), true);
          }
        }
        if (repair) fixAll(b);
        const outcome = async (f: () => unknown) => {
          try {
            await f();
            return 'ok';
          } catch (e) {
            assert.equal((e as Error).name, 'TezipError', (e as Error).stack);
            return (e as { code: string }).code;
          }
        };
        const sync = await outcome(() => tezip.decompressSync(b));
        const async_ = await outcome(() => tezip.decompress(b));
        assert.equal(async_, sync, 'sync and async decoders disagree');
        await outcome(() => tezip.inspect(b));
        await outcome(() => container.scanChunks(b));
      }),
      { numRuns: 300, seed: 8 },
    );
  });
});

describe('inputs the fuzzers found (test/fixtures/hostile)', () => {
  // Each file is named <expected code>-<what>.tez; it once crashed, hung or threw the wrong error.
  const dir = path.join(__dirname, '..', '..', 'test', 'fixtures', 'hostile');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.tez')) : [];
  for (const f of files) {
    it(f, async () => {
      const b = new Uint8Array(fs.readFileSync(path.join(dir, f)));
      const code = f.split('-')[0];
      await expectTezipError(() => tezip.decompressSync(b), [code], 'decompressSync');
      await expectTezipError(() => tezip.decompress(b), [code], 'decompress');
    });
  }
});
