// Helpers shared by the test files: data generators and an element-by-element bound check done in double.
import assert from 'node:assert/strict';
import type { DType, TypedArray } from '../src/index';

export const DTYPES: DType[] = ['uint8', 'uint16', 'int16', 'int32', 'float32', 'float64'];

export const CTORS = {
  uint8: Uint8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

export const isFloat = (d: DType) => d === 'float32' || d === 'float64';

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LIMITS: Record<DType, [number, number]> = {
  uint8: [0, 255],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  float32: [-1e30, 1e30],
  float64: [-1e300, 1e300],
};

/** Smooth moving pattern plus noise, in the dtype's range; floats get an offset so pwrel is not trivial. */
export function makeFrames(dtype: DType, shape: number[], seed = 1, noise = 0.05): TypedArray {
  const [T, H, W, C = 1] = shape;
  const n = T * H * W * C;
  const out = new CTORS[dtype](n);
  const r = rng(seed);
  const [lo, hi] = LIMITS[dtype];
  const span = isFloat(dtype) ? 1000 : Math.min(hi - lo, 60000);
  const base = isFloat(dtype) ? -300 : lo + (hi - lo - span) / 2;
  let i = 0;
  for (let t = 0; t < T; t++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < C; c++) {
          const v = 0.5 + 0.4 * Math.sin((x + t * 0.7) / 5 + c) * Math.cos((y - t * 0.3) / 7) + noise * (r() - 0.5);
          const val = base + v * span;
          out[i++] = isFloat(dtype) ? val : Math.round(val);
        }
  return out;
}

/** Float specials: ±0, ±Inf, NaNs with payloads, subnormals, extremes. */
export function sprinkleSpecials(a: Float32Array | Float64Array, seed = 7): void {
  const r = rng(seed);
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const dv = new DataView(a.buffer, a.byteOffset, a.byteLength);
  const f32 = a instanceof Float32Array;
  const specials = f32
    ? [0, -0, Infinity, -Infinity, NaN, 1e-40, -1e-45, 3.4028234663852886e38, -1.1754943508222875e-38]
    : [0, -0, Infinity, -Infinity, NaN, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308];
  const n = Math.max(specials.length + 2, Math.floor(a.length / 20));
  for (let k = 0; k < n && k < a.length; k++) {
    const i = Math.floor(r() * a.length);
    a[i] = specials[k % specials.length];
  }
  // NaNs with payloads and the sign bit set.
  if (a.length > 3) {
    const i = Math.floor(r() * a.length);
    if (f32) dv.setUint32(i * 4, 0xffc12345, true);
    else dv.setBigUint64(i * 8, 0xfff8000000abcdefn, true);
    const j = Math.floor(r() * a.length);
    if (f32) dv.setUint32(j * 4, 0x7f800001, true); // signalling NaN
    else dv.setBigUint64(j * 8, 0x7ff0000000000001n, true);
  }
  void bytes;
}

export function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export interface Bound {
  mode: 'lossless' | 'abs' | 'rel' | 'absrel' | 'pwrel';
  abs?: number;
  rel?: number;
  pwrel?: number;
}

export function finiteRange(a: TypedArray): [number, number] | null {
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v === v && v !== Infinity && v !== -Infinity) {
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
  }
  return mn <= mx ? [mn, mx] : null;
}

/** Checks decoded `b` against original `a` element by element, in double. Throws on the first violation. */
export function checkBound(a: TypedArray, b: TypedArray, bound: Bound): void {
  assert.equal(b.constructor, a.constructor, 'dtype changed');
  assert.equal(b.length, a.length, 'length changed');
  if (bound.mode === 'lossless') {
    assert.ok(Buffer.from(bytesOf(a)).equals(Buffer.from(bytesOf(b))), 'lossless output differs');
    return;
  }
  const range = finiteRange(a);
  const width = range ? range[1] - range[0] : 0;
  let eb = 0;
  if (bound.mode === 'abs') eb = bound.abs!;
  else if (bound.mode === 'rel') eb = bound.rel! * width;
  else if (bound.mode === 'absrel') eb = Math.min(bound.abs!, bound.rel! * width);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Number.isNaN(x)) {
      if (!Number.isNaN(y)) assert.fail(`element ${i}: NaN decoded as ${y}`);
      continue;
    }
    if (x === Infinity || x === -Infinity) {
      if (y !== x) assert.fail(`element ${i}: ${x} decoded as ${y}`);
      continue;
    }
    const lim: number = bound.mode === 'pwrel' ? bound.pwrel! * Math.abs(x) : eb;
    const err: number = Math.abs(y - x);
    if (!(err <= lim)) assert.fail(`element ${i}: |${y} - ${x}| = ${err} > ${lim} (${bound.mode})`);
  }
}

export function optionsFor(bound: Bound): Record<string, number> {
  const o: Record<string, number> = {};
  if (bound.abs !== undefined) o.abs = bound.abs;
  if (bound.rel !== undefined) o.rel = bound.rel;
  if (bound.pwrel !== undefined) o.pwrel = bound.pwrel;
  return o;
}

/** Asserts that `fn` throws (or rejects with) a TezipError with one of `codes`. */
export async function expectTezipError(fn: () => unknown, codes: string[], what = ''): Promise<Error> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  if (!err) assert.fail(`expected a TezipError ${codes.join('|')} ${what} but it succeeded`);
  const e = err as Error & { code?: string };
  assert.equal(e.name, 'TezipError', `expected a TezipError ${what}, got ${e.stack}`);
  assert.ok(codes.includes(e.code!), `expected code ${codes.join('|')} ${what}, got ${e.code}: ${e.message}`);
  return e;
}
