// Readers and writers: PNG folders (8/16-bit, gray to RGBA), TIFF stacks and folders (every dtype), HDF5
// datasets read in slabs, raw; natural sort; refusal of mixed frames, bad images and unsafe stored names.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compress } from '../src/index';
import { naturalCompare, naturalSort } from '../src/io/natural-sort';
import { encodePng } from '../src/io/png';
import { openInput } from '../src/io/open-input';
import { H5Writer } from '../src/io/hdf5';
import { TiffWriter } from '../src/io/tiff';
import { MemorySink, compressSource, decodeSlabs } from '../src/io/tez-slabs';
import { writeSlabs } from '../src/io/write-output';
import { FrameSource } from '../src/io/source';
import { RawDType, RawTypedArray } from '../src/io/raw';
import { CTORS, makeFrames } from './support';

function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function frames(dtype: RawDType, shape: number[], seed = 3): RawTypedArray {
  return makeFrames(dtype, shape, seed) as RawTypedArray;
}

/** Compresses a source in small slabs, decodes it back; returns the .tez bytes and the decoded array. */
async function roundTrip(src: FrameSource, opts: Record<string, unknown> = {}) {
  const sink = new MemorySink();
  await compressSource(src, sink, { slabFrames: 2, chunkFrames: 2, ...opts });
  const tez = sink.bytes();
  const parts: Buffer[] = [];
  for await (const s of decodeSlabs(tez, { slabBytes: 1 })) parts.push(bytesOf(s.data));
  return { tez, decoded: Buffer.concat(parts) };
}

describe('io: formats', function () {
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-io-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const dir = (name: string) => {
    const d = path.join(tmp, name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };

  describe('natural sort', function () {
    it('orders numbered frames by value', function () {
      assert.deepEqual(naturalSort(['frame_10.png', 'frame_2.png', 'frame_1.png', 'frame_100.png', 'frame_02.png']), [
        'frame_1.png',
        'frame_02.png',
        'frame_2.png',
        'frame_10.png',
        'frame_100.png',
      ]);
      assert.ok(naturalCompare('a99999999999999999999', 'a100000000000000000000') < 0, 'digit runs beyond 2^53');
      assert.ok(naturalCompare('b', 'a10') > 0);
      assert.equal(naturalCompare('x1', 'x1'), 0);
    });
  });

  describe('PNG folders', function () {
    for (const depth of [8, 16] as const) {
      for (const channels of [1, 2, 3, 4]) {
        it(`${depth}-bit, ${channels} channel(s): lossless round trip, names kept`, async function () {
          const dtype: RawDType = depth === 8 ? 'uint8' : 'uint16';
          const T = 5;
          const H = 9;
          const W = 11;
          const data = frames(dtype, [T, H, W, channels], depth + channels);
          const d = dir(`png${depth}_${channels}`);
          const names = ['shot_10.png', 'shot_9.png', 'shot_1.png', 'shot_100.png', 'shot_11.png'];
          const order = naturalSort(names);
          const frameLen = H * W * channels;
          for (let t = 0; t < T; t++) fs.writeFileSync(path.join(d, order[t]), await encodePng(data.subarray(t * frameLen, (t + 1) * frameLen), W, H, channels));
          fs.writeFileSync(path.join(d, 'notes.txt'), 'ignored');
          const src = await openInput(d);
          assert.equal(src.dtype, dtype);
          assert.deepEqual(src.shape, channels === 1 ? [T, H, W] : [T, H, W, channels]);
          assert.deepEqual((src.meta.source as { files: string[] }).files, order);
          const { tez, decoded } = await roundTrip(src);
          assert.ok(decoded.equals(bytesOf(data)));
          // Written back under the stored names, pixel for pixel.
          const out = path.join(tmp, `png${depth}_${channels}_out`);
          const { inspect } = await import('../src/index');
          const info = inspect(tez);
          await writeSlabs('png', out, { shape: info.shape, dtype, metadata: info.metadata }, decodeSlabs(tez));
          assert.deepEqual(fs.readdirSync(out).sort(), [...names].sort());
          const again = await openInput(out);
          assert.ok(bytesOf(await again.read(0, T)).equals(bytesOf(data)));
        });
      }
    }
    it('a folder with natural-sort names is read in natural order, not code-point order', async function () {
      const d = dir('natural');
      const H = 4;
      const W = 4;
      for (const i of [1, 2, 10, 11, 3]) fs.writeFileSync(path.join(d, `f${i}.png`), await encodePng(new Uint8Array(H * W).fill(i), W, H, 1));
      const src = await openInput(d);
      const all = await src.read(0, 5);
      assert.deepEqual([0, 1, 2, 3, 4].map((t) => all[t * H * W]), [1, 2, 3, 10, 11]);
    });
  });

  describe('TIFF', function () {
    for (const dtype of ['uint8', 'uint16', 'int16', 'int32', 'float32', 'float64'] as RawDType[]) {
      it(`multi-page ${dtype} stack: lossless bit-exact, then written back as a stack`, async function () {
        const shape = [7, 6, 10];
        const data = frames(dtype, shape, 11);
        const file = path.join(tmp, `stack_${dtype}.tif`);
        const w = new TiffWriter(file, 6, 10, 1, dtype);
        for (let t = 0; t < 7; t++) w.addPage(data.subarray(t * 60, (t + 1) * 60));
        w.close();
        const src = await openInput(file);
        assert.equal(src.dtype, dtype);
        assert.deepEqual(src.shape, shape);
        const { tez, decoded } = await roundTrip(src);
        await src.close();
        assert.ok(decoded.equals(bytesOf(data)));
        const out = path.join(tmp, `stack_${dtype}_out.tif`);
        await writeSlabs('tiff', out, { shape, dtype, metadata: {} }, decodeSlabs(tez));
        const back = await openInput(out);
        assert.ok(bytesOf(await back.read(0, 7)).equals(bytesOf(data)));
        await back.close();
      });
    }
    it('float32 stack with an abs bound and with a rel bound: every value within it', async function () {
      const shape = [9, 12, 13];
      const data = frames('float32', shape, 5) as Float32Array;
      const file = path.join(tmp, 'lossy.tif');
      const w = new TiffWriter(file, 12, 13, 1, 'float32');
      for (let t = 0; t < 9; t++) w.addPage(data.subarray(t * 156, (t + 1) * 156));
      w.close();
      let min = Infinity;
      let max = -Infinity;
      for (const v of data) (min = Math.min(min, v)), (max = Math.max(max, v));
      for (const [opts, lim] of [
        [{ abs: 0.01 }, 0.01],
        [{ rel: 1e-3 }, 1e-3 * (max - min)],
      ] as const) {
        const src = await openInput(file);
        const { decoded } = await roundTrip(src, opts);
        await src.close();
        const dec = new Float32Array(decoded.buffer, decoded.byteOffset, data.length);
        let err = 0;
        for (let i = 0; i < data.length; i++) err = Math.max(err, Math.abs(dec[i] - data[i]));
        assert.ok(err <= lim && err > 0, `${JSON.stringify(opts)}: max error ${err}, bound ${lim}`);
      }
    });
    it('RGB uint16 TIFF folder keeps names and channels', async function () {
      const d = dir('tiffdir');
      const data = frames('uint16', [3, 5, 4, 3], 9);
      const names = ['b_2.tif', 'b_10.tiff', 'b_1.tif'];
      const order = naturalSort(names);
      for (let t = 0; t < 3; t++) {
        const w = new TiffWriter(path.join(d, order[t]), 5, 4, 3, 'uint16');
        w.addPage(data.subarray(t * 60, (t + 1) * 60));
        w.close();
      }
      const src = await openInput(d);
      assert.deepEqual(src.shape, [3, 5, 4, 3]);
      const { tez, decoded } = await roundTrip(src);
      assert.ok(decoded.equals(bytesOf(data)));
      const out = path.join(tmp, 'tiffdir_out');
      const { inspect } = await import('../src/index');
      await writeSlabs('tiff', out, { shape: [3, 5, 4, 3], dtype: 'uint16', metadata: inspect(tez).metadata }, decodeSlabs(tez));
      assert.deepEqual(fs.readdirSync(out).sort(), ['b_1.tif', 'b_10.tif', 'b_2.tif']);
    });
  });

  describe('HDF5', function () {
    it('a dataset is read in slabs (never whole) and gives the same file as one-shot compress', async function () {
      const shape = [23, 16, 12];
      const data = frames('int16', shape, 21);
      const file = path.join(tmp, 'run.nxs');
      const w = await H5Writer.create(file, '/entry/data/data', [16, 12], 'int16');
      for (let t = 0; t < 23; t += 5) w.append(data.subarray(t * 192, Math.min(23, t + 5) * 192), Math.min(5, 23 - t));
      w.close();
      const src = await openInput(`${file}:/entry/data/data`);
      assert.deepEqual(src.shape, shape);
      assert.equal(src.dtype, 'int16');
      const reads: number[] = [];
      const read = src.read.bind(src);
      src.read = (s, n) => (reads.push(n), read(s, n));
      for (const opts of [{}, { rel: 1e-3 }, { abs: 3 }, { pwrel: 0.01 }]) {
        reads.length = 0;
        const sink = new MemorySink();
        const r = await compressSource(src, sink, { ...opts, chunkFrames: 3, slabFrames: 6 });
        assert.ok(Math.max(...reads) <= 6, `reads of ${reads.join(',')} frames`);
        assert.ok(r.slabs >= 4);
        const one = await compress({ data, shape, dtype: 'int16' }, { ...opts, chunkFrames: 3, metadata: src.meta });
        assert.ok(sink.bytes().equals(Buffer.from(one)), `identical to one-shot compress for ${JSON.stringify(opts)}`);
      }
      src.close();
      // Without a dataset path, the NeXus default is found.
      const dflt = await openInput(file);
      assert.equal(dflt.label, `${file}:/entry/data/data`);
      dflt.close();
    });
    it('written back to HDF5 and read again bit-exactly (float32, uint8 [T,H,W,C])', async function () {
      for (const [dtype, shape] of [
        ['float32', [6, 7, 8]],
        ['uint8', [4, 5, 6, 3]],
      ] as Array<[RawDType, number[]]>) {
        const data = frames(dtype, shape, 2);
        const tez = await compress({ data, shape, dtype });
        const out = path.join(tmp, `back_${dtype}.h5`);
        const r = await writeSlabs('h5', `${out}:/scan/frames`, { shape, dtype, metadata: {} }, decodeSlabs(tez, { slabBytes: 1 }));
        assert.deepEqual(r.paths, [`${out}:/scan/frames`]);
        const src = await openInput(`${out}:/scan/frames`);
        assert.deepEqual(src.shape, shape);
        assert.ok(bytesOf(await src.read(0, shape[0])).equals(bytesOf(data)));
        src.close();
      }
    });
    it('clear errors: missing dataset, not HDF5, missing file', async function () {
      const file = path.join(tmp, 'run.nxs');
      await assert.rejects(openInput(`${file}:/entry/nothing`), /has no dataset \/entry\/nothing/);
      const junk = path.join(tmp, 'junk.h5');
      fs.writeFileSync(junk, 'not hdf5 at all');
      await assert.rejects(openInput(junk), /not an HDF5 file/);
      await assert.rejects(openInput(path.join(tmp, 'none.h5:/x')), /input not found/);
    });
  });

  describe('bad inputs', function () {
    it('frames of mixed sizes or dtypes in a folder are refused, naming the file', async function () {
      const d = dir('mixed_size');
      fs.writeFileSync(path.join(d, 'a1.png'), await encodePng(new Uint8Array(16), 4, 4, 1));
      fs.writeFileSync(path.join(d, 'a2.png'), await encodePng(new Uint8Array(20), 5, 4, 1));
      await assert.rejects(async () => (await openInput(d)).read(0, 2), /frames differ in .*a1\.png is 4×4 uint8 but a2\.png is 5×4 uint8/);
      const e = dir('mixed_dtype');
      fs.writeFileSync(path.join(e, 'a1.png'), await encodePng(new Uint8Array(16), 4, 4, 1));
      fs.writeFileSync(path.join(e, 'a2.png'), await encodePng(new Uint16Array(16), 4, 4, 1));
      await assert.rejects(async () => (await openInput(e)).read(0, 2), /uint8 but a2\.png is 4×4 uint16/);
    });
    it('unreadable images, empty folders and mixed kinds are refused', async function () {
      const d = dir('broken');
      fs.writeFileSync(path.join(d, 'x.png'), Buffer.from('\x89PNG\r\n\x1a\n garbage garbage garbage garbage', 'latin1'));
      await assert.rejects(openInput(d), /x\.png/);
      await assert.rejects(openInput(dir('empty')), /no PNG or TIFF files/);
      const m = dir('kinds');
      fs.writeFileSync(path.join(m, 'a.png'), await encodePng(new Uint8Array(4), 2, 2, 1));
      fs.writeFileSync(path.join(m, 'b.tif'), 'x');
      await assert.rejects(openInput(m), /both PNG and TIFF/);
      const t = path.join(tmp, 'bad.tif');
      fs.writeFileSync(t, 'II*\0garbage');
      await assert.rejects(openInput(t), /bad\.tif/);
    });
    for (const bad of ['../evil.png', '/etc/passwd', 'a/b.png', 'a\\b.png', '..', '.hidden.png', 'C:x.png', 'nul\0.png']) {
      it(`a stored name ${JSON.stringify(bad)} is refused before anything is written`, async function () {
        const tez = await compress({ data: new Uint8Array(2 * 4), shape: [2, 2, 2] }, { metadata: { source: { format: 'png-folder', files: ['ok.png', bad] } } });
        const out = path.join(tmp, 'unsafe_out');
        fs.rmSync(out, { recursive: true, force: true });
        await assert.rejects(writeSlabs('png', out, { shape: [2, 2, 2], dtype: 'uint8', metadata: (await import('../src/index')).inspect(tez).metadata }, decodeSlabs(tez)), /refusing file name/);
        assert.equal(fs.existsSync(out), false);
        // --plain-names writes frame_NNNNN names instead.
        await writeSlabs('png', out, { shape: [2, 2, 2], dtype: 'uint8', metadata: {} }, decodeSlabs(tez), { plainNames: true });
        assert.deepEqual(fs.readdirSync(out), ['frame_00000.png', 'frame_00001.png']);
      });
    }
    it('an HDF5 dataset declaring frames beyond the limit is refused before anything is allocated', async function () {
      const file = path.join(tmp, 'huge.h5');
      const w = await H5Writer.create(file, '/entry/data/data', [40000, 40000], 'uint8'); // chunked, nothing stored
      w.close();
      const { importEsm } = await import('../src/io/esm');
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const h5: any = await importEsm('h5wasm/node');
      const f = new h5.File(file, 'a');
      f.get('/entry/data/data').resize([3, 40000, 40000]);
      f.close();
      const src = await openInput(file);
      await assert.rejects(compressSource(src, new MemorySink()), /frames of 1600000000 bytes are more than/);
      src.close();
    });
    it('PNG output refuses dtypes and channel counts PNG cannot hold', async function () {
      const tez = await compress({ data: new Float32Array(8), shape: [2, 2, 2] });
      await assert.rejects(writeSlabs('png', path.join(tmp, 'f32png'), { shape: [2, 2, 2], dtype: 'float32', metadata: {} }, decodeSlabs(tez)), /uint8 or uint16/);
    });
  });

  it('raw sources read slabs from the file', async function () {
    const data = frames('float64', [5, 3, 4]);
    const raw = path.join(tmp, 'arr.raw');
    fs.writeFileSync(raw, bytesOf(data));
    fs.writeFileSync(path.join(tmp, 'arr.json'), JSON.stringify({ shape: [5, 3, 4], dtype: 'float64' }));
    const src = await openInput(raw);
    assert.ok(bytesOf(await src.read(2, 2)).equals(bytesOf(data.subarray(24, 48))));
    const { decoded } = await roundTrip(src);
    assert.ok(decoded.equals(bytesOf(data)));
    src.close();
  });

  it('CTORS cover every dtype the readers produce', function () {
    assert.deepEqual(Object.keys(CTORS).sort(), ['float32', 'float64', 'int16', 'int32', 'uint16', 'uint8']);
  });
});
