// The .tez container on disk: golden fixtures decoded bit-exactly forever, damage found and located (byte flips,
// truncations), random access that decodes only what it needs, and recovery of cut-short files.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tezip from '../src/index';
import type { DType } from '../src/index';
import { Bound, CTORS, bytesOf, checkBound, expectTezipError, makeFrames, rng } from './support';

function findRoot(dir: string): string {
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}
const FIXTURES = path.join(findRoot(__dirname), 'test', 'fixtures');

interface Fixture {
  file: string;
  dtype: DType;
  shape: number[];
  mode: Bound['mode'];
  options: { abs?: number; rel?: number; pwrel?: number; range?: [number, number] };
  writer: string;
  original: string;
  originalSha256: string;
  decodedSha256: string;
  tezSha256: string;
}

const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as { fixtures: Fixture[] };
const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

interface Loaded {
  fx: Fixture;
  tez: Buffer;
  decoded: Uint8Array; // the expected decoded bytes (checked against the stored hash first)
  frameBytes: number;
  layout: tezip.container.Layout;
}

function load(fx: Fixture): Loaded {
  const tez = fs.readFileSync(path.join(FIXTURES, fx.file));
  const decoded = bytesOf(tezip.decompressSync(tez).data);
  const frameBytes = decoded.length / fx.shape[0];
  return { fx, tez, decoded, frameBytes, layout: tezip.container.openContainer(tez, 1 << 30) };
}

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-container-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function streamDecode(bytes: Uint8Array, piece = 97): Promise<{ out: Buffer; error?: Error }> {
  const outs: Buffer[] = [];
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += piece) pieces.push(bytes.subarray(i, i + piece));
  try {
    await pipeline(
      Readable.from(pieces),
      tezip.createDecompressStream({ threads: 2 }),
      new Writable({
        write(c: Buffer, _e, cb) {
          outs.push(c);
          cb();
        },
      }),
    );
    return { out: Buffer.concat(outs) };
  } catch (e) {
    return { out: Buffer.concat(outs), error: e as Error };
  }
}

describe('golden fixtures (test/fixtures, written by make-fixtures.mjs)', () => {
  it('cover every dtype × mode, and a streamed file', () => {
    const seen = new Set(manifest.fixtures.map((f) => `${f.dtype}-${f.mode}`));
    for (const d of ['uint8', 'uint16', 'int16', 'int32', 'float32', 'float64'])
      for (const m of ['lossless', 'abs', 'rel', 'absrel', 'pwrel']) assert.ok(seen.has(`${d}-${m}`), `${d}-${m}`);
    assert.ok(manifest.fixtures.some((f) => f.writer === 'createEncoder'));
  });

  it('cover both coded chunk methods: 1 (the first fixtures) and 3 (row lanes) for every dtype × mode', () => {
    const methods = (f: Fixture) => tezip.inspect(fs.readFileSync(path.join(FIXTURES, f.file))).chunks.map((c) => c.method);
    assert.ok(manifest.fixtures.some((f) => methods(f).includes(1)));
    const rows = new Set(manifest.fixtures.filter((f) => methods(f).includes(3)).map((f) => `${f.dtype}-${f.mode}`));
    for (const d of ['uint8', 'uint16', 'int16', 'int32', 'float32', 'float64'])
      for (const m of ['lossless', 'abs', 'rel', 'absrel', 'pwrel']) assert.ok(rows.has(`${d}-${m}`), `${d}-${m} in method 3`);
  });

  for (const fx of manifest.fixtures) {
    it(`${fx.file} decodes bit-exactly and within its bound (sync, async, openTez, stream)`, async () => {
      const tez = fs.readFileSync(path.join(FIXTURES, fx.file));
      assert.equal(sha256(tez), fx.tezSha256, 'the fixture file itself changed');
      const raw = fs.readFileSync(path.join(FIXTURES, fx.original));
      assert.equal(sha256(raw), fx.originalSha256, 'the stored original changed');
      const original = new CTORS[fx.dtype](raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));

      const dec = tezip.decompressSync(tez);
      assert.deepEqual(dec.shape, fx.shape);
      assert.equal(dec.dtype, fx.dtype);
      assert.equal(sha256(bytesOf(dec.data)), fx.decodedSha256, 'decoded bytes differ from the golden hash');
      if (fx.mode === 'lossless') assert.equal(fx.decodedSha256, fx.originalSha256);
      // Streamed files declare their range: rel refers to it.
      const bound: Bound = { mode: fx.mode, ...fx.options };
      if (fx.options.range && (fx.mode === 'rel' || fx.mode === 'absrel')) {
        const eb = fx.options.rel! * (fx.options.range[1] - fx.options.range[0]);
        checkBound(original, dec.data, { mode: 'abs', abs: fx.mode === 'absrel' ? Math.min(eb, fx.options.abs!) : eb });
      } else checkBound(original, dec.data, bound);

      assert.equal(sha256(bytesOf((await tezip.decompress(tez)).data)), fx.decodedSha256);
      const f = await tezip.openTez(path.join(FIXTURES, fx.file));
      try {
        assert.deepEqual(f.shape, fx.shape);
        assert.equal(sha256(bytesOf((await f.readFrames()).data)), fx.decodedSha256);
      } finally {
        await f.close();
      }
      const s = await streamDecode(tez);
      assert.equal(s.error, undefined);
      assert.equal(sha256(s.out), fx.decodedSha256);
    });
  }
});

describe('damage: random byte flips and truncations of the fixtures', () => {
  let loaded: Loaded[];
  before(() => {
    loaded = manifest.fixtures.map(load);
    for (const l of loaded) assert.equal(sha256(l.decoded), l.fx.decodedSha256);
  });

  it('1,000 single-byte flips: each is detected (whole-file decode) and never yields a wrong frame', async function () {
    this.timeout(300000);
    const r = rng(2024);
    const codes = new Map<string, number>();
    let damagedReads = 0;
    for (let n = 0; n < 1000; n++) {
      const l = loaded[Math.floor(r() * loaded.length)];
      const x = Buffer.from(l.tez);
      const at = Math.floor(r() * x.length);
      x[at] ^= 1 + Math.floor(r() * 255); // never 0: the byte really changes
      const what = `${l.fx.file} byte ${at}`;
      // Every byte of a .tez file is under a checksum or a magic, so the whole-file decoders must refuse.
      const e = (await expectTezipError(() => tezip.decompressSync(x), [
        'TEZ_BAD_MAGIC',
        'TEZ_CHECKSUM',
        'TEZ_CORRUPT',
        'TEZ_TRUNCATED',
        'TEZ_UNSUPPORTED',
        'TEZ_TOO_LARGE',
      ], what)) as Error & { code: string };
      codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      await expectTezipError(() => tezip.decompress(x), [e.code, 'TEZ_CHECKSUM', 'TEZ_CORRUPT', 'TEZ_TRUNCATED'], what);

      // Reading around the damage: what is returned is right, the rest is a reported gap of zeros.
      const p = path.join(tmp, 'flip.tez');
      fs.writeFileSync(p, x);
      let f: tezip.TezReader | undefined;
      try {
        f = await tezip.openTez(p);
      } catch (err) {
        assert.equal((err as Error).name, 'TezipError', `${what}: ${(err as Error).stack}`);
      }
      if (f) {
        try {
          const got = await f.readFrames(0, f.frameCount, { ignoreDamaged: true });
          const out = bytesOf(got.data);
          assert.ok(got.gaps.length >= 1, `${what}: damage inside a chunk must be reported`);
          damagedReads++;
          const inGap = (t: number) => got.gaps.some((g) => t >= g.firstFrame && t < g.firstFrame + g.frameCount);
          for (let t = 0; t < f.frameCount; t++) {
            const a = out.subarray(t * l.frameBytes, (t + 1) * l.frameBytes);
            if (inGap(t)) assert.ok(a.every((b) => b === 0), `${what}: gap frame ${t} not zero`);
            else assert.ok(Buffer.from(a).equals(Buffer.from(l.decoded.subarray(t * l.frameBytes, (t + 1) * l.frameBytes))), `${what}: frame ${t} wrong`);
          }
          for (const g of got.gaps) assert.match(g.message, new RegExp(`chunk ${g.chunk} \\(frames? ${g.firstFrame}`));
        } finally {
          await f.close();
        }
      }
      // The streaming decoder outputs only whole, checked chunks before it fails.
      if (n % 5 === 0) {
        const s = await streamDecode(x, 64);
        assert.ok(s.error, `${what}: the stream decoder accepted a damaged file`);
        assert.equal(s.error!.name, 'TezipError', `${what}: ${s.error!.stack}`);
        assert.equal(s.out.length % l.frameBytes, 0);
        assert.ok(Buffer.from(l.decoded.subarray(0, s.out.length)).equals(s.out), `${what}: stream output differs`);
      }
    }
    assert.ok(damagedReads > 500, `most flips land in chunk payloads (got ${damagedReads})`);
    assert.ok(codes.get('TEZ_CHECKSUM')! > 500, JSON.stringify([...codes]));
  });

  it('100 random truncations: each is detected, and recovery keeps exactly the complete chunks', async function () {
    this.timeout(300000);
    const r = rng(77);
    let recovered = 0;
    for (let n = 0; n < 100; n++) {
      const l = loaded[Math.floor(r() * loaded.length)];
      const cut = Math.floor(r() * l.tez.length);
      const x = l.tez.subarray(0, cut);
      const what = `${l.fx.file} cut at ${cut} of ${l.tez.length}`;
      await expectTezipError(() => tezip.decompressSync(x), ['TEZ_TRUNCATED', 'TEZ_BAD_MAGIC', 'TEZ_CORRUPT', 'TEZ_CHECKSUM'], what);

      // Complete chunks: records that end at or before the cut.
      let complete = 0;
      for (const e of l.layout.entries) {
        if (e.offset + tezip.container.RECORD_HEADER_BYTES + e.payloadBytes <= cut) complete = e.firstFrame + e.frameCount;
      }
      const p = path.join(tmp, 'cut.tez');
      const fixed = path.join(tmp, 'fixed.tez');
      fs.writeFileSync(p, x);
      if (complete === 0) {
        await expectTezipError(() => tezip.recoverTez(p, fixed), ['TEZ_TRUNCATED', 'TEZ_BAD_MAGIC', 'TEZ_CORRUPT', 'TEZ_CHECKSUM'], what);
      } else {
        const rep = await tezip.recoverTez(p, fixed);
        assert.equal(rep.framesKept, complete, what);
        const dec = tezip.decompressSync(fs.readFileSync(fixed));
        assert.equal(dec.shape[0], complete);
        assert.ok(Buffer.from(bytesOf(dec.data)).equals(Buffer.from(l.decoded.subarray(0, complete * l.frameBytes))), what);
        recovered++;
      }
      const s = await streamDecode(x, 50);
      assert.ok(s.error, what);
      assert.equal(s.error!.name, 'TezipError');
      assert.equal(s.out.length, complete * l.frameBytes, `${what}: the stream outputs every complete chunk`);
      assert.ok(Buffer.from(l.decoded.subarray(0, s.out.length)).equals(s.out));
    }
    assert.ok(recovered > 50, `most cuts leave complete chunks (got ${recovered})`);
  });
});

describe('random access: openTez', () => {
  let file: string;
  const shape = [40, 16, 20];
  const data = makeFrames('int16', shape, 5);
  before(async () => {
    file = path.join(tmp, 'ra.tez');
    fs.writeFileSync(file, await tezip.compress({ data, shape }, { chunkFrames: 4 }));
  });

  it('reads any frame range, decoding only the chunks that hold it', async () => {
    const f = await tezip.openTez(file, { threads: 2 });
    try {
      assert.equal(f.frameCount, 40);
      assert.deepEqual(f.shape, shape);
      assert.equal(f.dtype, 'int16');
      assert.equal(f.chunks.length, 10);
      const fl = 16 * 20;
      for (const [a, b, chunks] of [[21, 22, 1], [20, 24, 1], [19, 25, 3], [0, 40, 10], [39, 40, 1]] as const) {
        const before = f.stats.chunksDecoded;
        const got = await f.readFrames(a, b);
        assert.deepEqual(got.shape, [b - a, 16, 20]);
        assert.deepEqual(Array.from(got.data), Array.from(data.subarray(a * fl, b * fl)), `${a}:${b}`);
        assert.equal(f.stats.chunksDecoded - before, chunks, `${a}:${b} decodes ${chunks} chunks`);
        assert.deepEqual(got.gaps, []);
      }
    } finally {
      await f.close();
    }
  });

  it('bad ranges are RangeErrors; a closed reader refuses', async () => {
    const f = await tezip.openTez(file);
    await assert.rejects(f.readFrames(5, 5), RangeError);
    await assert.rejects(f.readFrames(-1, 3), RangeError);
    await assert.rejects(f.readFrames(0, 41), RangeError);
    await assert.rejects(f.readFrames(1.5, 3), TypeError);
    await f.close();
    await assert.rejects(f.readFrames(0, 1), /closed/);
  });

  it('a damaged chunk: TEZ_CHECKSUM naming chunk and frames; the other chunks still decode', async () => {
    const bytes = fs.readFileSync(file);
    const layout = tezip.container.openContainer(bytes, 1 << 30);
    const e = layout.entries[3];
    bytes[e.offset + tezip.container.RECORD_HEADER_BYTES + 5] ^= 0x40;
    const p = path.join(tmp, 'ra-damaged.tez');
    fs.writeFileSync(p, bytes);
    const f = await tezip.openTez(p);
    try {
      const err = (await expectTezipError(() => f.readFrames(10, 20), ['TEZ_CHECKSUM'])) as Error & tezip.ChunkLocation;
      assert.match(err.message, /chunk 3 \(frames 12–15\)/);
      assert.deepEqual([err.chunk, err.firstFrame, err.frameCount], [3, 12, 4]);
      const ok = await f.readFrames(16, 40);
      assert.equal(ok.gaps.length, 0);
      const got = await f.readFrames(0, 40, { ignoreDamaged: true });
      assert.deepEqual(got.gaps.map((g) => [g.chunk, g.firstFrame, g.frameCount, g.code]), [[3, 12, 4, 'TEZ_CHECKSUM']]);
      const fl = 16 * 20;
      const expected = Int16Array.from(data);
      expected.fill(0, 12 * fl, 16 * fl);
      assert.deepEqual(Array.from(got.data), Array.from(expected));
    } finally {
      await f.close();
    }
  });

  it('missing, empty and cut files are refused with clear errors', async () => {
    await assert.rejects(tezip.openTez(path.join(tmp, 'absent.tez')), { code: 'ENOENT' });
    const empty = path.join(tmp, 'empty.tez');
    fs.writeFileSync(empty, new Uint8Array(0));
    await expectTezipError(() => tezip.openTez(empty), ['TEZ_TRUNCATED']);
    const cut = path.join(tmp, 'cut-ra.tez');
    fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, 500));
    await expectTezipError(() => tezip.openTez(cut), ['TEZ_TRUNCATED']);
    await assert.rejects(tezip.openTez(file, { threads: 0 }), RangeError);
    await assert.rejects(tezip.openTez(file, { nope: 1 } as never), TypeError);
  });
});

describe('recovery: recoverTez', () => {
  it('an intact file comes back byte for byte, and says so', async () => {
    const shape = [9, 5, 6];
    const data = makeFrames('float32', shape, 9);
    const p = path.join(tmp, 'intact.tez');
    const bytes = await tezip.compress({ data, shape }, { chunkFrames: 2, abs: 0.1 });
    fs.writeFileSync(p, bytes);
    const rep = await tezip.recoverTez(p, path.join(tmp, 'intact-fixed.tez'));
    assert.equal(rep.intact, true);
    assert.equal(rep.framesKept, 9);
    assert.equal(rep.framesDeclared, 9);
    assert.ok(fs.readFileSync(path.join(tmp, 'intact-fixed.tez')).equals(Buffer.from(bytes)));
  });

  it('a damaged chunk in the middle: keeps the chunks before it, lists the intact ones after it', async () => {
    const shape = [10, 4, 4];
    const data = makeFrames('uint8', shape, 4);
    const bytes = Buffer.from(await tezip.compress({ data, shape }, { chunkFrames: 2 }));
    const layout = tezip.container.openContainer(bytes, 1 << 30);
    bytes[layout.entries[2].offset + 40] ^= 1;
    const p = path.join(tmp, 'mid.tez');
    fs.writeFileSync(p, bytes);
    const rep = await tezip.recoverTez(p, path.join(tmp, 'mid-fixed.tez'));
    assert.equal(rep.framesKept, 4);
    assert.equal(rep.chunksKept, 2);
    assert.match(rep.stoppedBy, /chunk 2 \(frames 4–5\), damaged/);
    assert.deepEqual(rep.skipped.map((s) => s.chunk), [3, 4]);
    const dec = tezip.decompressSync(fs.readFileSync(path.join(tmp, 'mid-fixed.tez')));
    assert.deepEqual(Array.from(dec.data), Array.from(data.subarray(0, 4 * 16)));
  });

  it('refuses the same path for output, and a file with a damaged header', async () => {
    const p = path.join(tmp, 'intact.tez');
    await assert.rejects(tezip.recoverTez(p, p), RangeError);
    const b = fs.readFileSync(p);
    b[20] ^= 1;
    fs.writeFileSync(path.join(tmp, 'badhead.tez'), b);
    const e = await expectTezipError(() => tezip.recoverTez(path.join(tmp, 'badhead.tez'), path.join(tmp, 'x.tez')), ['TEZ_CHECKSUM']);
    assert.match(e.message, /nothing can be recovered/);
  });
});
