// Verification of a compressed output against its source, a slab at a time, so it works for inputs larger
// than memory. The bound is the README's, over the whole input: a `rel` bound needs the source's range first
// (one more read of the input); the other modes check each value on its own.
import { Bound, Metrics, measure } from './metrics.js';
import { DecodedSlab } from '../io/tez-slabs.js';
import { FrameSource } from '../io/source.js';

export async function verifySource(src: FrameSource, slabs: AsyncIterable<DecodedSlab>, bound: Bound, slabFrames = 256): Promise<Metrics> {
  const total = src.shape[0];
  let min = Infinity;
  let max = -Infinity;
  const widen = (a: ArrayLike<number>) => {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  };
  let check: Bound = bound;
  if (bound.mode === 'rel' || bound.mode === 'absrel') {
    for (let s = 0; s < total; s += slabFrames) widen(await src.read(s, Math.min(slabFrames, total - s)));
    const range = min <= max ? max - min : 0;
    let lim = bound.rel! * range;
    if (bound.mode === 'absrel') lim = Math.min(lim, bound.abs!);
    check = { mode: 'abs', abs: lim };
  }
  const out: Metrics = { ok: true, bad: 0, maxAbsError: 0, maxPwRelError: 0, psnr: Infinity, sse: 0, count: 0 };
  let seen = 0;
  for await (const s of slabs) {
    if (s.dtype !== src.dtype || s.shape.slice(1).join() !== src.shape.slice(1).join()) {
      return { ...out, ok: false, bad: 1, why: 'decoded shape or dtype differs' };
    }
    const orig = await src.read(s.start, s.frames);
    if (bound.mode !== 'rel' && bound.mode !== 'absrel') widen(orig);
    const m = measure(orig, s.data, check);
    out.bad += m.bad;
    out.maxAbsError = Math.max(out.maxAbsError, m.maxAbsError);
    out.maxPwRelError = Math.max(out.maxPwRelError, m.maxPwRelError);
    out.sse! += m.sse ?? 0;
    out.count! += m.count ?? 0;
    if (m.why) out.why = m.why;
    seen += s.frames;
  }
  if (seen !== total) return { ...out, ok: false, bad: Math.max(1, out.bad), why: `decoded ${seen} frames of ${total}` };
  const range = min <= max ? max - min : 0;
  const mse = out.count ? out.sse! / out.count : 0;
  out.psnr = mse === 0 ? Infinity : 20 * Math.log10(range || 1) - 10 * Math.log10(mse);
  out.ok = out.bad === 0;
  if (check.mode !== 'pwrel') out.absLimit = check.mode === 'lossless' ? 0 : check.abs;
  return out;
}
