import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tezip from '../src/index';
import { container } from '../src/index';
import { crc32c, native } from '../src/native';
import { expectTezipError, makeFrames } from './support';

const good = { data: new Float32Array(24), shape: [2, 3, 4] };

describe('argument validation', () => {
  const cases: Array<[string, () => unknown, ErrorConstructor, string | RegExp]> = [
    ['negative pwrel', () => tezip.compressSync(good, { pwrel: -1 }), RangeError, 'Expected a positive number for options.pwrel but received -1'],
    ['pwrel ≥ 1', () => tezip.compressSync(good, { pwrel: 1 }), RangeError, /between 0 and 1 .* options\.pwrel but received 1$/],
    ['NaN abs', () => tezip.compressSync(good, { abs: NaN }), RangeError, 'Expected a positive number for options.abs but received NaN'],
    ['Infinity abs', () => tezip.compressSync(good, { abs: Infinity }), RangeError, 'Expected a positive number for options.abs but received Infinity'],
    ['zero rel', () => tezip.compressSync(good, { rel: 0 }), RangeError, 'Expected a positive number for options.rel but received 0'],
    ['string abs', () => tezip.compressSync(good, { abs: '1' as unknown as number }), TypeError, "Expected a positive number for options.abs but received '1'"],
    ['pwrel with abs', () => tezip.compressSync(good, { pwrel: 0.1, abs: 1 }), TypeError, /pwrel alone/],
    ['unknown option', () => tezip.compressSync(good, { quality: 3 } as never), TypeError, /received 'quality'$/],
    ['bad predictor', () => tezip.compressSync(good, { predictor: 'magic' as never }), TypeError, /for options\.predictor but received 'magic'$/],
    ['bad level', () => tezip.compressSync(good, { level: 3 as never }), RangeError, /options\.level but received 3$/],
    ['bad chunkFrames', () => tezip.compressSync(good, { chunkFrames: 0 }), RangeError, /options\.chunkFrames but received 0$/],
    ['bad threads', () => tezip.compressSync(good, { threads: 1.5 }), RangeError, /options\.threads but received 1.5$/],
    ['2-D shape', () => tezip.compressSync({ data: new Uint8Array(6), shape: [2, 3] }), TypeError,
      'Expected shape [frames, height, width] or [frames, height, width, channels] but received [2,3]'],
    ['zero dimension', () => tezip.compressSync({ data: new Uint8Array(0), shape: [0, 3, 4] }), RangeError, /for shape but received \[0,3,4\]$/],
    ['wrong length', () => tezip.compressSync({ data: new Float32Array(23), shape: [2, 3, 4] }), RangeError,
      'Expected 24 elements for shape [2,3,4] but received 23'],
    ['unknown dtype', () => tezip.compressSync({ data: new Uint8Array(24), shape: [2, 3, 4], dtype: 'int8' as never }), TypeError,
      "Expected one of uint8, uint16, int16, int32, float32, float64 for dtype but received 'int8'"],
    ['dtype disagrees with the array', () => tezip.compressSync({ data: new Float32Array(24), shape: [2, 3, 4], dtype: 'uint16' }), TypeError,
      /Expected dtype 'float32' .* but received 'uint16'/],
    ['Int8Array', () => tezip.compressSync({ data: new Int8Array(24) as never, shape: [2, 3, 4] }), TypeError, /for frames\.data but received a Int8Array/],
    ['plain array', () => tezip.compressSync({ data: [1, 2] as never, shape: [1, 1, 2] }), TypeError, /TypedArray for frames\.data/],
    ['no frames', () => tezip.compressSync(undefined as never), TypeError, /for frames but received undefined/],
    ['non-contiguous ndarray', () => tezip.compressSync({ data: new Float32Array(24), shape: [2, 3, 4], stride: [1, 2, 6], offset: 0, dtype: 'float32' }), TypeError,
      /C-contiguous/],
    ['decompress a string', () => tezip.decompressSync('abc' as never), TypeError, /Uint8Array .* for bytes but received 'abc'/],
    ['decompress unknown option', () => tezip.decompressSync(new Uint8Array(10), { foo: 1 } as never), TypeError, /received 'foo'$/],
  ];
  for (const [name, fn, type, message] of cases) {
    it(name, () => {
      assert.throws(fn, (e: Error) => {
        assert.ok(e instanceof type, `expected ${type.name}, got ${e.constructor.name}: ${e.message}`);
        if (typeof message === 'string') assert.equal(e.message, message);
        else assert.match(e.message, message);
        return true;
      });
    });
  }

  it('async forms reject (not throw) on bad arguments', async () => {
    await assert.rejects(tezip.compress(good, { pwrel: -1 }), RangeError);
    await assert.rejects(tezip.decompress(42 as never), TypeError);
  });
});

/** A small file with several chunks, and where each region starts. */
function sample() {
  const shape = [7, 5, 6];
  const data = makeFrames('float32', shape, 13);
  const bytes = tezip.compressSync({ data, shape }, { chunkFrames: 3, rel: 1e-3 });
  const header = container.parseHeader(bytes);
  const trailer = container.readTrailer(bytes);
  const layout = container.openContainer(bytes, Infinity);
  return { bytes, header, trailer, layout, data, shape };
}

describe('corrupt and hostile .tez input', () => {
  const s = sample();

  it('the sample decodes', () => {
    assert.equal(tezip.decompressSync(s.bytes).data.length, s.data.length);
  });

  it('truncated at every offset → TEZ_TRUNCATED', async () => {
    for (let n = 0; n < s.bytes.length; n++) {
      const cut = s.bytes.slice(0, n);
      await expectTezipError(() => tezip.decompressSync(cut), ['TEZ_TRUNCATED'], `at ${n}`);
    }
    await expectTezipError(() => tezip.decompress(s.bytes.slice(0, s.bytes.length - 1)), ['TEZ_TRUNCATED']);
    await expectTezipError(() => tezip.inspect(s.bytes.slice(0, 50)), ['TEZ_TRUNCATED']);
  });

  it('random bytes → TezipError, never a crash', async () => {
    await expectTezipError(() => tezip.decompressSync(new Uint8Array(0)), ['TEZ_TRUNCATED']);
    await expectTezipError(() => tezip.decompressSync(Buffer.from('hello world, not a tez file')), ['TEZ_BAD_MAGIC']);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), (b) => {
        try {
          tezip.decompressSync(b);
        } catch (e) {
          return (e as Error).name === 'TezipError';
        }
        return false;
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes behind a valid magic → TezipError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), (b) => {
        const x = new Uint8Array(8 + b.length);
        x.set(container.MAGIC);
        x.set(b, 8);
        try {
          tezip.decompressSync(x);
        } catch (e) {
          return (e as Error).name === 'TezipError';
        }
        return false;
      }),
      { numRuns: 300 },
    );
  });

  it('every single-byte flip is caught, with a code that fits the region', async () => {
    const { bytes, header, trailer, layout } = s;
    const indexStart = trailer.indexOffset;
    const trailerStart = bytes.length - container.TRAILER_BYTES;
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const x = bytes.slice();
        x[i] ^= mask;
        let codes: string[];
        let chunkText: RegExp | undefined;
        if (i < 8) codes = ['TEZ_BAD_MAGIC'];
        else if (i === 8) codes = ['TEZ_UNSUPPORTED', 'TEZ_CORRUPT'];
        else if (i >= 10 && i < 14) codes = ['TEZ_CORRUPT', 'TEZ_TRUNCATED', 'TEZ_CHECKSUM'];
        else if (i < header.headerBytes) codes = ['TEZ_CHECKSUM'];
        else if (i < indexStart) {
          const c = layout.entries.findIndex((e) => i >= e.offset && i < e.offset + container.RECORD_HEADER_BYTES + e.payloadBytes);
          const e = layout.entries[c];
          if (i < e.offset + container.RECORD_HEADER_BYTES) codes = ['TEZ_CHECKSUM', 'TEZ_CORRUPT'];
          else {
            codes = ['TEZ_CHECKSUM'];
            chunkText = new RegExp(
              e.frameCount === 1 ? `chunk ${c} \\(frame ${e.firstFrame}\\)` : `chunk ${c} \\(frames ${e.firstFrame}–${e.firstFrame + e.frameCount - 1}\\)`,
            );
          }
        } else if (i < trailerStart) codes = ['TEZ_CHECKSUM', 'TEZ_CORRUPT'];
        else if (i < trailerStart + 20) codes = ['TEZ_CHECKSUM'];
        else codes = ['TEZ_TRUNCATED'];
        const e = await expectTezipError(() => tezip.decompressSync(x), codes, `flip 0x${mask.toString(16)} at byte ${i}`);
        if (chunkText) assert.match(e.message, chunkText);
      }
    }
  });

  it('the async decoder reports a damaged payload the same way', async () => {
    const x = s.bytes.slice();
    const e1 = s.layout.entries[1];
    x[e1.offset + container.RECORD_HEADER_BYTES + 2] ^= 0x10;
    const e = await expectTezipError(() => tezip.decompress(x), ['TEZ_CHECKSUM']);
    assert.match(e.message, /chunk 1 \(frames 3–5\)/);
    assert.match(e.stack!, /errors\.test/, 'caller stack attached');
  });

  it('a damaged payload with recomputed checksums → TezipError from the core, never a crash', () => {
    // Rewrites payload bytes and fixes every CRC, so the native decoder itself meets the damage.
    const { bytes, layout } = s;
    const rnd = fc.sample(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), 400);
    let failures = 0;
    for (const [pos, mask] of rnd) {
      const x = bytes.slice();
      const c = pos % layout.entries.length;
      const e = layout.entries[c];
      const p = e.offset + container.RECORD_HEADER_BYTES + (Math.floor(pos / 7) % e.payloadBytes);
      x[p] ^= mask;
      const payload = x.subarray(e.offset + container.RECORD_HEADER_BYTES, e.offset + container.RECORD_HEADER_BYTES + e.payloadBytes);
      const rec = container.encodeChunkRecord(c, e.firstFrame, e.frameCount, payload);
      x.set(rec, e.offset);
      try {
        tezip.decompressSync(x);
      } catch (err) {
        const code = (err as { code?: string }).code;
        assert.equal((err as Error).name, 'TezipError', String((err as Error).stack));
        // TEZ_MODEL: a damaged predictor byte that now reads "prednet" asks for a model nobody gave
        assert.ok(['TEZ_CORRUPT', 'TEZ_TRUNCATED', 'TEZ_UNSUPPORTED', 'TEZ_TOO_LARGE', 'TEZ_MODEL'].includes(code!), `code ${code}`);
        failures++;
      }
    }
    assert.ok(failures >= 0);
  });

  it('native decodeChunk survives truncated and random payloads', () => {
    const addon = native();
    const p = { dtype: 5, frames: 3, height: 5, width: 6, channels: 1 };
    const out = new Uint8Array(3 * 5 * 6 * 4);
    const payload = container.chunkPayload(s.bytes, s.layout, 0);
    for (let n = 0; n < payload.length; n++) {
      assert.throws(() => addon.decodeChunk(payload.slice(0, n), p, out), (e: Error & { code?: string }) =>
        ['TEZ_TRUNCATED', 'TEZ_CORRUPT'].includes(e.code!),
      );
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        try {
          addon.decodeChunk(b, p, out);
        } catch (e) {
          return typeof (e as { code?: string }).code === 'string' && (e as { code: string }).code.startsWith('TEZ_');
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it('a newer major version → TEZ_UNSUPPORTED', async () => {
    const x = s.bytes.slice();
    x[8] = 2;
    const e = await expectTezipError(() => tezip.decompressSync(x), ['TEZ_UNSUPPORTED']);
    assert.match(e.message, /2\.0 is newer/);
  });

  it('a newer minor version with extra header fields still reads', () => {
    // Minor versions may append fields after the metadata; the header length covers them.
    const { bytes, header } = s;
    const extra = 6;
    const hb = header.headerBytes;
    const x = new Uint8Array(bytes.length + extra);
    x.set(bytes.subarray(0, hb - 4));
    x[9] = 3; // minor
    new DataView(x.buffer).setUint32(10, hb + extra, true);
    x.fill(0xab, hb - 4, hb - 4 + extra);
    new DataView(x.buffer).setUint32(hb + extra - 4, crc32c(x.subarray(0, hb + extra - 4)), true);
    // Shift the rest and rebuild index + trailer offsets.
    const entries = s.layout.entries.map((e) => ({ ...e, offset: e.offset + extra }));
    const body = bytes.subarray(hb, s.trailer.indexOffset);
    x.set(body, hb + extra);
    const index = container.writeIndex(entries);
    x.set(index, hb + extra + body.length);
    x.set(container.writeTrailer({ indexOffset: s.trailer.indexOffset + extra, totalFrames: 7 }), hb + extra + body.length + index.length);
    const out = tezip.decompressSync(x);
    assert.equal(out.data.length, s.data.length);
    assert.deepEqual(tezip.inspect(x).formatVersion, { major: 1, minor: 3 });
  });

  it('declared size above maxBytes → TEZ_TOO_LARGE before allocating', async () => {
    await expectTezipError(() => tezip.decompressSync(s.bytes, { maxBytes: 100 }), ['TEZ_TOO_LARGE']);
    await expectTezipError(() => tezip.decompress(s.bytes, { maxBytes: 100 }), ['TEZ_TOO_LARGE']);
    // A forged header + index claiming 2^40 frames of 1 MiB.
    const h = container.writeHeader({
      dtype: 1, mode: 0, predictor: 255, flags: 0, height: 1024, width: 1024, channels: 1, frames: 2 ** 40,
      abs: 0, rel: 0, pwrel: 0, effectiveAbs: 0, min: NaN, max: NaN, chunkFrames: 1, metadata: {},
    });
    const idx = container.writeIndex([{ offset: h.length, firstFrame: 0, frameCount: 1, payloadBytes: 0 }]);
    const forged = Buffer.concat([h, idx, container.writeTrailer({ indexOffset: h.length, totalFrames: 2 ** 40 })]);
    await expectTezipError(() => tezip.decompressSync(forged), ['TEZ_TOO_LARGE']);
  });

  it('inconsistent index (frames not contiguous) → TEZ_CORRUPT', async () => {
    const { bytes, layout, trailer } = s;
    const entries = layout.entries.map((e) => ({ ...e }));
    entries[1].firstFrame += 1;
    const x = Buffer.concat([bytes.subarray(0, trailer.indexOffset), container.writeIndex(entries), container.writeTrailer(trailer)]);
    await expectTezipError(() => tezip.decompressSync(x), ['TEZ_CORRUPT']);
  });
});

describe('container building blocks', () => {
  const s = sample();

  it('header round trip', () => {
    assert.equal(s.header.versionMajor, 1);
    assert.equal(s.header.dtype, 5);
    assert.equal(s.header.mode, 2);
    assert.equal(s.header.frames, 7);
    assert.equal(s.header.chunkFrames, 3);
    assert.equal(s.header.rel, 1e-3);
  });

  it('scanChunks recovers the chunks of a file whose end is lost', () => {
    const cut = s.bytes.slice(0, s.trailer.indexOffset - 5); // last chunk damaged, index and trailer gone
    const found = container.scanChunks(cut, s.header.headerBytes);
    assert.equal(found.length, 3);
    assert.deepEqual(found.map((c) => [c.chunk, c.firstFrame, c.frameCount, c.payloadOk]), [
      [0, 0, 3, true],
      [1, 3, 3, true],
      [2, 6, 1, false],
    ]);
    // The intact chunks decode alone.
    const addon = native();
    const c = found[1];
    const out = new Float32Array(3 * 5 * 6);
    addon.decodeChunk(cut.subarray(c.payloadOffset, c.payloadOffset + c.payloadBytes),
      { dtype: 5, frames: 3, height: 5, width: 6, channels: 1 }, new Uint8Array(out.buffer));
    const full = tezip.decompressSync(s.bytes).data;
    assert.deepEqual(Array.from(out), Array.from(full.subarray(3 * 30, 6 * 30)));
  });

  it('crc32c matches the Castagnoli check value and chains', () => {
    const b = Buffer.from('123456789');
    assert.equal(crc32c(b), 0xe3069283);
    assert.equal(crc32c(b.subarray(4), crc32c(b.subarray(0, 4))), 0xe3069283);
  });
});
