// The harness's own check of a decoded array against the original (same logic as
// ../shared/tools/verify-bounds.mjs, kept independent of the library under test).
// mode: lossless | abs | rel | pwrel; bound: the ε of the mode (rel: fraction of the original's finite range).

export const DTYPES = {
  uint8: Uint8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

export function view(buf, dtype) {
  const T = DTYPES[dtype];
  if (!T) throw new Error(`unknown dtype ${dtype}`);
  if (buf.byteOffset % T.BYTES_PER_ELEMENT) buf = new Uint8Array(buf);
  return new T(buf.buffer, buf.byteOffset, Math.floor(buf.byteLength / T.BYTES_PER_ELEMENT));
}

export function finiteRange(a) {
  let mn = Infinity, mx = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!Number.isFinite(v)) continue;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  return mn <= mx ? [mn, mx] : [0, 0];
}

/**
 * origBuf/decBuf: Buffers; dtype of the original; decDtype of the decoded file (differs when a tool was fed a
 * widened copy, e.g. uint8 → float32 for fpzip). Returns {ok, bad, maxAbs, maxPw, psnr, why?}.
 */
export function verify(origBuf, origDtype, decBuf, decDtype, mode, bound) {
  const a = view(origBuf, origDtype);
  if (decBuf.byteLength % DTYPES[decDtype].BYTES_PER_ELEMENT) return { ok: false, bad: a.length, why: 'decoded size is not whole values' };
  const b = view(decBuf, decDtype);
  if (a.length !== b.length) return { ok: false, bad: a.length, why: `decoded ${b.length} values, expected ${a.length}` };
  if (mode === 'lossless' && origDtype === decDtype && !origBuf.equals(decBuf)) {
    // Still measure the errors so the row says how far off it is.
    const r = verify(origBuf, origDtype, decBuf, decDtype, 'abs', Infinity);
    return { ...r, ok: false, bad: Math.max(1, r.bad), why: 'not bit-exact' };
  }
  const [mn, mx] = finiteRange(a);
  const range = mx - mn;
  const lim = mode === 'lossless' ? 0 : mode === 'abs' ? bound : mode === 'rel' ? bound * range : NaN;
  let maxAbs = 0, maxPw = 0, bad = 0, se = 0, n = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
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
  return { ok: bad === 0, bad, maxAbs, maxPw, psnr, range };
}
