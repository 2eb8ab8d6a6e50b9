// The tezip codec stores and reads arrays through zarrita (zarr v3), lossless and within a bound.
import * as assert from 'node:assert/strict';
import { TezipCodec } from '../src/index';
import { importEsm } from '../src/io/esm';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Zarr = any;

function wave(n: number, f: (i: number) => number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => f(i));
}

describe('zarr codec (zarrita)', function () {
  let zarr: Zarr;
  before(async function () {
    zarr = await importEsm<Zarr>('zarrita');
    zarr.registry.set('tezip', async () => TezipCodec);
  });

  async function roundTrip(dtype: string, data: ArrayBufferView & ArrayLike<number>, shape: number[], chunkShape: number[], config: object) {
    const store = new Map<string, Uint8Array>();
    const arr = await zarr.create(store, {
      shape,
      chunkShape,
      dtype,
      codecs: [
        { name: 'bytes', configuration: { endian: 'little' } },
        { name: 'tezip', configuration: config },
      ],
    });
    await zarr.set(arr, null, { data, shape, stride: strides(shape) });
    const opened = await zarr.open(store, { kind: 'array' });
    const back = await zarr.get(opened);
    const chunks = [...store.keys()].filter((k) => k.includes('/c/'));
    // Every stored chunk is a .tez file.
    for (const k of chunks) assert.deepEqual(Array.from(store.get(k)!.subarray(1, 4)), [0x54, 0x45, 0x5a], k);
    return { back, store, chunks };
  }

  function strides(shape: number[]): number[] {
    const s = new Array(shape.length).fill(1);
    for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
    return s;
  }

  it('stores a uint16 [T,H,W] array in tezip chunks and reads it back bit-exactly', async function () {
    const shape = [6, 20, 30];
    const data = Uint16Array.from({ length: 6 * 20 * 30 }, (_, i) => (i * 37) % 4099);
    const { back, chunks } = await roundTrip('uint16', data, shape, [3, 10, 16], {});
    assert.equal(chunks.length, 2 * 2 * 2);
    assert.deepEqual(back.shape, shape);
    assert.ok(back.data instanceof Uint16Array);
    assert.deepEqual(Array.from(back.data), Array.from(data));
  });

  it('float32 with an absolute bound: every value within it, and smaller than lossless', async function () {
    const shape = [8, 16, 16];
    const data = wave(8 * 16 * 16, (i) => Math.sin(i / 17) * 100 + Math.cos(i / 5));
    const lossy = await roundTrip('float32', data, shape, [4, 16, 16], { abs: 0.05 });
    const exact = await roundTrip('float32', data, shape, [4, 16, 16], {});
    let maxErr = 0;
    for (let i = 0; i < data.length; i++) maxErr = Math.max(maxErr, Math.abs(lossy.back.data[i] - data[i]));
    assert.ok(maxErr <= 0.05, `max error ${maxErr}`);
    assert.ok(maxErr > 0, 'the bound was used');
    assert.deepEqual(Buffer.from(exact.back.data.buffer), Buffer.from(data.buffer));
    const size = (s: Map<string, Uint8Array>) => [...s.values()].reduce((n, b) => n + b.length, 0);
    assert.ok(size(lossy.store) < size(exact.store));
  });

  it('1-D and 4-D arrays fold into frames', async function () {
    const d1 = Int32Array.from({ length: 100 }, (_, i) => i * i - 500);
    assert.deepEqual(Array.from((await roundTrip('int32', d1, [100], [40], {})).back.data), Array.from(d1));
    const d4 = Uint8Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i);
    assert.deepEqual(Array.from((await roundTrip('uint8', d4, [2, 3, 4, 5], [2, 3, 4, 5], {})).back.data), Array.from(d4));
  });

  it('numcodecs.js shape: codecId, fromConfig, getConfig, encode/decode bytes', async function () {
    assert.equal(TezipCodec.codecId, 'tezip');
    const c = TezipCodec.fromConfig({ dtype: 'int16', shape: [2, 3, 4], abs: 1 });
    assert.equal(c.codecId, 'tezip');
    assert.deepEqual(c.getConfig(), { id: 'tezip', abs: 1, dtype: 'int16', shape: [2, 3, 4] });
    const raw = Int16Array.from({ length: 24 }, (_, i) => i * 100 - 1000);
    const enc = await c.encode(new Uint8Array(raw.buffer));
    const dec = new Int16Array((await c.decode(enc)).slice().buffer);
    for (let i = 0; i < 24; i++) assert.ok(Math.abs(dec[i] - raw[i]) <= 1);
  });

  it('bad configurations and chunks are refused clearly', async function () {
    assert.throws(() => TezipCodec.fromConfig({ abs: -1 }), RangeError);
    assert.throws(() => TezipCodec.fromConfig({ bogus: 1 } as never), /configuration keys/);
    assert.throws(() => TezipCodec.fromConfig({}, { dataType: 'int64', shape: [4] }), /int64/);
    const c = TezipCodec.fromConfig({}, { dataType: 'float32', shape: [2, 2] });
    await assert.rejects(c.encode(new Uint8Array(12)), /does not match the chunk shape/);
    await assert.rejects(c.decode(new Uint8Array(40)), (e: Error) => e.name === 'TezipError');
  });
});
