import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as tezip from '../src/index';
import type { DType, TypedArray } from '../src/index';
import { Bound, CTORS, DTYPES, checkBound, isFloat, makeFrames, optionsFor, sprinkleSpecials } from './support';

function boundsFor(dtype: DType): Bound[] {
  // abs scaled to the data (span ~1000 for floats, up to 60000 for integers).
  const absEb = isFloat(dtype) ? 0.5 : dtype === 'uint8' ? 2 : 7;
  return [
    { mode: 'lossless' },
    { mode: 'abs', abs: absEb },
    { mode: 'rel', rel: 1e-3 },
    { mode: 'absrel', abs: absEb, rel: 1e-4 },
    { mode: 'pwrel', pwrel: 1e-2 },
  ];
}

describe('round trip: every dtype × mode', () => {
  for (const dtype of DTYPES) {
    for (const bound of boundsFor(dtype)) {
      const label = `${dtype} ${bound.mode} ${JSON.stringify(optionsFor(bound))}`;
      it(`${label} (sync and async agree)`, async () => {
        const shape = [6, 9, 11];
        const data = makeFrames(dtype, shape, 3);
        if (isFloat(dtype)) sprinkleSpecials(data as Float32Array | Float64Array);
        const opts = { ...optionsFor(bound), chunkFrames: 4 };
        const packed = tezip.compressSync({ data, shape }, opts);
        const packedAsync = await tezip.compress({ data, shape }, opts);
        assert.ok(Buffer.from(packed).equals(Buffer.from(packedAsync)), 'sync and async output differ');
        const out = tezip.decompressSync(packed);
        assert.deepEqual(out.shape, shape);
        assert.equal(out.dtype, dtype);
        checkBound(data, out.data, bound);
        const outAsync = await tezip.decompress(packed);
        assert.ok(Buffer.from(out.data.buffer).equals(Buffer.from(outAsync.data.buffer)));
      });
    }
  }
});

describe('round trip: shapes and special content', () => {
  it('lossless floats keep -0.0 and NaN payloads bit for bit', () => {
    const f32 = new Float32Array(4 * 4 * 4);
    const dv = new DataView(f32.buffer);
    for (let i = 0; i < f32.length; i++) dv.setUint32(i * 4, [0x80000000, 0x7fc00001, 0xffbfffff, 0x00000001][i % 4], true);
    const out = tezip.decompressSync(tezip.compressSync({ data: f32, shape: [4, 4, 4] }));
    assert.ok(Buffer.from(out.data.buffer).equals(Buffer.from(f32.buffer)));
    const f64 = new Float64Array(3 * 2 * 5);
    const dv64 = new DataView(f64.buffer);
    for (let i = 0; i < f64.length; i++) dv64.setBigUint64(i * 8, [0x8000000000000000n, 0x7ff8dead0000beefn, 0xfff0000000000001n][i % 3], true);
    const out64 = tezip.decompressSync(tezip.compressSync({ data: f64, shape: [3, 2, 5] }));
    assert.ok(Buffer.from(out64.data.buffer).equals(Buffer.from(f64.buffer)));
  });

  const cases: Array<[string, number[]]> = [
    ['a single frame', [1, 16, 12]],
    ['1×1 frames', [40, 1, 1]],
    ['a single value', [1, 1, 1]],
    ['channels > 1', [5, 6, 7, 3]],
    ['an explicit channel axis of 1', [3, 4, 5, 1]],
    ['a wide single row', [3, 1, 300]],
  ];
  for (const [name, shape] of cases) {
    for (const dtype of ['uint8', 'int16', 'float32', 'float64'] as DType[]) {
      it(`${name} ${JSON.stringify(shape)} ${dtype}`, async () => {
        const data = makeFrames(dtype, shape, shape.length);
        for (const bound of boundsFor(dtype)) {
          const out = await tezip.decompress(await tezip.compress({ data, shape }, optionsFor(bound)));
          assert.deepEqual(out.shape, shape);
          checkBound(data, out.data, bound);
        }
      });
    }
  }

  it('constant frames: rel on a zero range is lossless', () => {
    for (const dtype of DTYPES) {
      const data = new CTORS[dtype](5 * 8 * 8).fill(dtype === 'uint8' ? 200 : 17);
      const packed = tezip.compressSync({ data, shape: [5, 8, 8] }, { rel: 1e-2 });
      const info = tezip.inspect(packed);
      assert.equal(info.mode, 'rel');
      assert.equal(info.effectiveAbs, 0);
      checkBound(data, tezip.decompressSync(packed).data, { mode: 'lossless' });
    }
  });

  it('all non-finite floats: rel has no range and stays lossless', () => {
    const data = new Float32Array([NaN, Infinity, -Infinity, NaN, NaN, Infinity, -Infinity, NaN]);
    const packed = tezip.compressSync({ data, shape: [2, 2, 2] }, { rel: 0.1 });
    const info = tezip.inspect(packed);
    assert.ok(Number.isNaN(info.valueRange.min));
    checkBound(data, tezip.decompressSync(packed).data, { mode: 'lossless' });
  });

  it('pwrel keeps zeros zero and signs', () => {
    const data = makeFrames('float64', [4, 10, 10], 5) as Float64Array;
    for (let i = 0; i < data.length; i += 3) data[i] = 0;
    for (let i = 1; i < data.length; i += 7) data[i] = -data[i];
    const out = tezip.decompressSync(tezip.compressSync({ data, shape: [4, 10, 10] }, { pwrel: 1e-3 })).data;
    for (let i = 0; i < data.length; i++) {
      if (data[i] === 0) assert.ok(out[i] === 0, `element ${i}: 0 decoded as ${out[i]}`);
      else assert.equal(Math.sign(out[i]), Math.sign(data[i]));
    }
    checkBound(data, out, { mode: 'pwrel', pwrel: 1e-3 });
  });

  it('integers with a bound below 1 are lossless', () => {
    const data = makeFrames('uint16', [3, 10, 10], 9);
    const out = tezip.decompressSync(tezip.compressSync({ data, shape: [3, 10, 10] }, { abs: 0.4 })).data;
    checkBound(data, out, { mode: 'lossless' });
  });

  it('accepts an ndarray-like C-contiguous view with an offset', () => {
    const backing = makeFrames('float32', [3, 4, 5], 2) as Float32Array;
    const padded = new Float32Array(backing.length + 7);
    padded.set(backing, 7);
    const nd = { data: padded, shape: [3, 4, 5], stride: [20, 5, 1], offset: 7, dtype: 'float32' };
    const out = tezip.decompressSync(tezip.compressSync(nd));
    checkBound(backing, out.data, { mode: 'lossless' });
  });

  it('accepts raw little-endian bytes with a dtype (a Buffer from a .raw file)', () => {
    const values = makeFrames('int32', [2, 3, 4], 4) as Int32Array;
    const buf = Buffer.from(values.buffer.slice(0));
    const out = tezip.decompressSync(tezip.compressSync({ data: buf, shape: [2, 3, 4], dtype: 'int32' }));
    assert.equal(out.dtype, 'int32');
    checkBound(values, out.data, { mode: 'lossless' });
  });

  it('stores requested bounds, effective bound, value range and metadata in the header', () => {
    const data = makeFrames('float32', [4, 6, 6], 11);
    let mn = Infinity;
    let mx = -Infinity;
    for (const v of data) {
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
    }
    const packed = tezip.compressSync({ data, shape: [4, 6, 6] }, { abs: 0.5, rel: 1e-4, metadata: { name: 'x' }, predictor: 'prev' });
    const info = tezip.inspect(packed);
    assert.equal(info.mode, 'absrel');
    assert.deepEqual(info.requested, { abs: 0.5, rel: 1e-4, pwrel: 0 });
    assert.equal(info.effectiveAbs, Math.min(0.5, 1e-4 * (mx - mn)));
    assert.deepEqual(info.valueRange, { min: mn, max: mx });
    assert.deepEqual(info.metadata, { name: 'x' });
    assert.equal(info.predictor, 'prev');
    assert.equal(info.chunks.reduce((n, c) => n + c.frameCount, 0), 4);
  });

  it('default chunking is balanced, 8 MiB per chunk at most', () => {
    // 33 frames of 1 MiB: max 8 per chunk → 5 chunks → 7 frames each (the last 5).
    const data = new Uint8Array(33 * 1024 * 1024);
    const info = tezip.inspect(tezip.compressSync({ data, shape: [33, 1024, 1024] }, { predictor: 'none', level: 0 }));
    assert.equal(info.chunkFrames, 7);
    assert.deepEqual(info.chunks.map((c) => c.frameCount), [7, 7, 7, 7, 5]);
  });
});

describe('threads and the event loop', () => {
  it('output is identical for threads = 1, 2 and the sync form', async () => {
    const shape = [24, 32, 32];
    const data = makeFrames('float32', shape, 21);
    for (const opts of [{}, { rel: 1e-3 }, { pwrel: 1e-2 }]) {
      const a = await tezip.compress({ data, shape }, { ...opts, chunkFrames: 3, threads: 1 });
      const b = await tezip.compress({ data, shape }, { ...opts, chunkFrames: 3, threads: 2 });
      const c = tezip.compressSync({ data, shape }, { ...opts, chunkFrames: 3 });
      assert.ok(Buffer.from(a).equals(Buffer.from(b)));
      assert.ok(Buffer.from(a).equals(Buffer.from(c)));
      const d1 = await tezip.decompress(a, { threads: 1 });
      const d2 = await tezip.decompress(a, { threads: 2 });
      assert.ok(Buffer.from(d1.data.buffer).equals(Buffer.from(d2.data.buffer)));
    }
  });

  it('async compress and decompress do not block the event loop', async () => {
    const shape = [16, 256, 256]; // 4 MiB of float32
    const data = makeFrames('float32', shape, 5, 0.3);
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const packed = await tezip.compress({ data, shape }, { rel: 1e-4, chunkFrames: 2, threads: 2 });
    const afterCompress = ticks;
    await tezip.decompress(packed, { threads: 2 });
    running = false;
    assert.ok(afterCompress > 5, `event loop advanced only ${afterCompress} times during compress`);
    assert.ok(ticks > afterCompress, 'event loop did not advance during decompress');
  });
});

describe('package', () => {
  it('version matches package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    assert.equal(tezip.version, pkg.version);
  });
  it('reports the CPU features it uses', () => {
    assert.equal(typeof tezip.cpuFeatures(), 'string');
  });
});

export type { TypedArray };
