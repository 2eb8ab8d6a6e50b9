// Verification: compares a decoded array with the original and checks the bound the user asked for.
// The inequalities are the README's: abs |x̂−x| ≤ ε; rel |x̂−x| ≤ ε·(max−min of the original's finite values);
// absrel both; pwrel |x̂−x| ≤ ε·|x|; lossless the same bytes. Non-finite values must come back as they were.

export type BoundMode = 'lossless' | 'abs' | 'rel' | 'absrel' | 'pwrel';

export interface Bound {
  mode: BoundMode;
  abs?: number;
  rel?: number;
  pwrel?: number;
}

export interface Metrics {
  ok: boolean;
  /** Elements outside the bound (or non-finite values not reproduced, or a size/dtype mismatch). */
  bad: number;
  maxAbsError: number;
  maxPwRelError: number;
  /** dB over the original's finite range; Infinity when exact. */
  psnr: number;
  /** The absolute bound that was checked (abs, rel and absrel), else undefined. */
  absLimit?: number;
  why?: string;
  /** Sum of squared errors and count of finite original values (to combine slabs). */
  sse?: number;
  count?: number;
}

type Num = ArrayLike<number>;

export function finiteRange(a: Num): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < min) min = v; // NaN fails both comparisons; ±Inf are filtered below
    if (v > max) max = v;
  }
  if (min === -Infinity || max === Infinity) {
    // Recompute skipping infinities (rare: only arrays that hold ±Inf get here).
    min = Infinity;
    max = -Infinity;
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min <= max ? { min, max } : { min: 0, max: 0 };
}

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

export function measure(orig: Num & ArrayBufferView, dec: Num & ArrayBufferView, bound: Bound): Metrics {
  const out: Metrics = { ok: false, bad: 0, maxAbsError: 0, maxPwRelError: 0, psnr: Infinity };
  if (orig.length !== dec.length || orig.byteLength !== dec.byteLength || orig.constructor !== dec.constructor) {
    return { ...out, bad: orig.length, maxAbsError: NaN, maxPwRelError: NaN, psnr: NaN, why: 'decoded size or dtype differs' };
  }
  const { min, max } = finiteRange(orig);
  const range = max - min;
  let lim = Infinity;
  if (bound.mode === 'abs' || bound.mode === 'absrel') lim = Math.min(lim, bound.abs!);
  if (bound.mode === 'rel' || bound.mode === 'absrel') lim = Math.min(lim, bound.rel! * range);
  if (bound.mode === 'lossless') lim = 0;
  if (bound.mode !== 'pwrel') out.absLimit = lim;
  const pw = bound.mode === 'pwrel' ? bound.pwrel! : 0;

  let bad = 0;
  let maxAbs = 0;
  let maxPw = 0;
  let se = 0;
  let n = 0;
  for (let i = 0; i < orig.length; i++) {
    const x = orig[i];
    const y = dec[i];
    if (!Number.isFinite(x)) {
      if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) bad++;
      continue;
    }
    const e = Math.abs(y - x); // NaN when y is NaN: fails every comparison below
    if (!(e <= maxAbs)) maxAbs = Number.isNaN(e) ? Infinity : e;
    const p = x === 0 ? (e === 0 ? 0 : Infinity) : e / Math.abs(x);
    if (!(p <= maxPw)) maxPw = Number.isNaN(p) ? Infinity : p;
    se += e * e;
    n++;
    if (bound.mode === 'pwrel' ? !(e <= pw * Math.abs(x)) : !(e <= lim)) bad++;
  }
  if (bound.mode === 'lossless' && !sameBytes(orig, dec)) bad = Math.max(bad, 1); // −0.0 and NaN payloads count
  const mse = n ? se / n : 0;
  out.bad = bad;
  out.ok = bad === 0;
  out.maxAbsError = maxAbs;
  out.maxPwRelError = maxPw;
  out.psnr = mse === 0 ? Infinity : 20 * Math.log10(range || 1) - 10 * Math.log10(mse);
  out.sse = se;
  out.count = n;
  return out;
}

/** JSON has no Infinity/NaN: write them as the strings "inf", "-inf", "nan". */
export function jsonNumber(v: number | undefined): number | string | null {
  if (v === undefined) return null;
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}
