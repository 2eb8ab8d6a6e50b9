// The harness's own check of a decoded array against the original, kept independent of the library under
// test (it never calls tezip): bit-exact for lossless, every element within the bound otherwise.

export type Dtype = 'uint8' | 'uint16' | 'int16' | 'int32' | 'float32' | 'float64';
type Arr = Uint8Array | Uint16Array | Int16Array | Int32Array | Float32Array | Float64Array;

export const DTYPES: Record<Dtype, { new (b: ArrayBufferLike, o: number, n: number): Arr; BYTES_PER_ELEMENT: number }> = {
  uint8: Uint8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

export function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, s);
}

/** A typed view of `buf` (copied first when misaligned). */
export function view(buf: Uint8Array, dtype: Dtype): Arr {
  const T = DTYPES[dtype];
  if (buf.byteOffset % T.BYTES_PER_ELEMENT) buf = new Uint8Array(buf);
  return new T(buf.buffer, buf.byteOffset, Math.floor(buf.byteLength / T.BYTES_PER_ELEMENT));
}

/** Minimum and maximum of the finite values; [0, 0] when there is none. */
export function finiteRange(a: ArrayLike<number>): [number, number] {
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!Number.isFinite(v)) continue;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  return mn <= mx ? [mn, mx] : [0, 0];
}

/** lossless: bit-exact (or, when a tool was fed a widened copy, equal values); abs: |x̂−x| ≤ bound; pwrel: |x̂−x| ≤ bound·|x|. */
export type CheckMode = 'lossless' | 'abs' | 'pwrel';

export interface Verdict {
  ok: boolean;
  /** Values outside the bound (or all of them when the sizes differ). */
  bad: number;
  maxAbs?: number;
  maxPw?: number;
  /** dB over the original's finite value range; Infinity when exact. */
  psnr?: number;
  why?: string;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/**
 * orig/dec: the bytes of the original (origDtype) and of what the tool gave back (decDtype, which differs when the
 * tool was fed a widened copy, e.g. uint8 → float32 for zfp). `range` is the original's finite value range.
 */
export function verify(orig: Uint8Array, origDtype: Dtype, dec: Uint8Array, decDtype: Dtype, mode: CheckMode, bound: number): Verdict {
  const a = view(orig, origDtype);
  if (dec.byteLength % DTYPES[decDtype].BYTES_PER_ELEMENT) return { ok: false, bad: a.length, why: `decoded ${dec.byteLength} bytes: not whole ${decDtype} values` };
  const b = view(dec, decDtype);
  if (a.length !== b.length) return { ok: false, bad: a.length, why: `decoded ${b.length} values, expected ${a.length}` };
  if (mode === 'lossless' && origDtype === decDtype && !sameBytes(orig, dec)) {
    // Still measure the errors so that the row says how far off it is.
    const r = verify(orig, origDtype, dec, decDtype, 'abs', Infinity);
    return { ...r, ok: false, bad: Math.max(1, r.bad), why: 'not bit-exact' };
  }
  const [mn, mx] = finiteRange(a);
  const range = mx - mn;
  const lim = mode === 'lossless' ? 0 : bound;
  let maxAbs = 0;
  let maxPw = 0;
  let bad = 0;
  let se = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (!Number.isFinite(x)) {
      if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) bad++;
      continue;
    }
    const e = Math.abs(y - x);
    if (!(e <= maxAbs)) maxAbs = Number.isNaN(e) ? Infinity : e;
    const p = x === 0 ? (e === 0 ? 0 : Infinity) : e / Math.abs(x);
    if (!(p <= maxPw)) maxPw = Number.isNaN(p) ? Infinity : p;
    se += e * e;
    n++;
    if (mode === 'pwrel' ? !(e <= bound * Math.abs(x)) : !(e <= lim)) bad++;
  }
  const mse = n ? se / n : 0;
  const psnr = mse === 0 ? Infinity : 20 * Math.log10(range || 1) - 10 * Math.log10(mse);
  const r: Verdict = { ok: bad === 0, bad, maxAbs, maxPw, psnr };
  if (bad) r.why = `${bad} values outside the bound`;
  return r;
}
