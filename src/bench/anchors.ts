// The comparison points of a run and the tools that take part in each: tezip (CLI processes) and the anchors
// found on the machine, each fed data it accepts (said in the row), each bound turned into the same absolute
// tolerance for every tool, point-wise relative bounds only for tools that guarantee them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DTYPES, Dtype, view } from './verify.js';
import { has, timedRun } from './tools.js';

export interface Dataset {
  name: string;
  dtype: Dtype;
  /** Shape benchmarked ([T,H,W] or [T,H,W,C]); `fullShape` before --quick cut frames. */
  shape: number[];
  fullShape: number[];
  raw: Buffer;
  rawPath: string;
  bytes: number;
  isFloat: boolean;
  min: number;
  max: number;
  /** max − min of the finite values: what `rel` bounds are fractions of. */
  range: number;
  /** Scratch folder for this dataset's widened copies. */
  work: string;
}

/** One comparison: every tool in it is held to the same check. */
export type Point =
  | { kind: 'lossless'; label: string }
  /** `abs` family: a range-relative bound (from 'rel') or a bound in data units (from 'abs'); tol is absolute. */
  | { kind: 'abs'; label: string; from: 'rel' | 'abs'; eps: number; tol: number }
  | { kind: 'pwrel'; label: string; eps: number };

export interface Spec {
  /** Table label, e.g. 'zstd -19', 'zfp -a', 'tezip', 'tezip prev'. */
  tool: string;
  /** Line in the plots (variants of one tool share none: only default rows are drawn as curves). */
  series: string;
  point: Point;
  args: string;
  fedAs: string;
  /** A file fed instead of the dataset's raw bytes (a widened copy). */
  input?: string;
  /** dtype of what the tool gives back when it differs from the dataset's. */
  decDtype?: Dtype;
  threads: number;
  compress(input: string, output: string): number;
  decompress(output: string, decoded: string): number;
}

export const ANCHORS = ['zstd', 'xz', 'aec', 'fpzip', 'zfp', 'sz3', 'x264', 'x265', 'ffv1'] as const;
export type Anchor = (typeof ANCHORS)[number];

const INT_BITS: Partial<Record<Dtype, number>> = { uint8: 8, uint16: 16, int16: 16, int32: 32 };

/** A copy of the dataset converted to a wider type that a tool accepts; values are exact in the wider type. */
function widened(ds: Dataset, to: Dtype): string {
  const file = path.join(ds.work, `${ds.name}.${to}`);
  if (!fs.existsSync(file)) {
    const src = view(ds.raw, ds.dtype);
    const T = DTYPES[to] as unknown as { from(a: ArrayLike<number>): ArrayBufferView };
    const out = T.from(src);
    fs.writeFileSync(file, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  }
  return file;
}

/** Dimensions fastest first (nx ny nz [nw]), as zfp, fpzip and SZ3 take them. */
function dimsFastestFirst(shape: number[]): string[] {
  const [T, H, W, C = 1] = shape;
  return C === 1 ? ['-3', String(W), String(H), String(T)] : ['-4', String(C), String(W), String(H), String(T)];
}

/** Bits an unsigned integer dataset needs (its maximum), for the video codecs' bit-depth limits. */
function bitsNeeded(ds: Dataset): number {
  return ds.max <= 0 ? 1 : Math.floor(Math.log2(ds.max)) + 1;
}

const g = (x: number) => String(+x.toPrecision(6));

export function anchorSpecs(ds: Dataset, points: Point[], want: Set<Anchor>, sz3Bin: string | null, skipped: string[]): Spec[] {
  const specs: Spec[] = [];
  const lossless = points.filter((p) => p.kind === 'lossless');
  const absPts = points.filter((p): p is Extract<Point, { kind: 'abs' }> => p.kind === 'abs');
  const pwPts = points.filter((p): p is Extract<Point, { kind: 'pwrel' }> => p.kind === 'pwrel');
  const need = (a: Anchor, tool: string, pkg: string): boolean => {
    if (!want.has(a)) return false;
    if (has(tool)) return true;
    skipped.push(`${a} (${tool} not installed; apt-get install ${pkg})`);
    return false;
  };
  const int = INT_BITS[ds.dtype];

  if (lossless.length && need('zstd', 'zstd', 'zstd'))
    for (const lvl of [3, 19])
      specs.push({
        tool: `zstd -${lvl}`, series: `zstd -${lvl}`, point: lossless[0], args: `zstd -${lvl} -T1`, fedAs: ds.dtype, threads: 1,
        compress: (i, o) => timedRun('zstd', [`-${lvl}`, '-T1', '-q', '-f', i, '-o', o]),
        decompress: (o, d) => timedRun('zstd', ['-d', '-q', '-f', o, '-o', d]),
      });
  if (lossless.length && need('xz', 'xz', 'xz-utils'))
    specs.push({
      tool: 'xz -9', series: 'xz -9', point: lossless[0], args: 'xz -9 -T1', fedAs: ds.dtype, threads: 1,
      compress: (i, o) => timedRun('xz', ['-9', '-T1', '-c', i], o),
      decompress: (o, d) => timedRun('xz', ['-d', '-c', o], d),
    });
  if (lossless.length && want.has('aec')) {
    if (!int) skipped.push(`aec (integer samples only; ${ds.dtype} data)`);
    else if (need('aec', 'aec', 'libaec-tools')) {
      const signed = ds.dtype.startsWith('int') ? ['-s'] : [];
      for (const [j, r] of [[16, 128], [64, 4096]]) {
        const flags = ['-n', String(int), '-j', String(j), '-r', String(r), ...signed];
        specs.push({
          tool: `aec -j ${j} -r ${r}`, series: `aec -j ${j} -r ${r}`, point: lossless[0], args: `aec ${flags.join(' ')}`, fedAs: ds.dtype, threads: 1,
          compress: (i, o) => timedRun('aec', [...flags, i, o]),
          decompress: (o, d) => timedRun('aec', ['-d', ...flags, o, d]),
        });
      }
    }
  }

  // fpzip and zfp take floats; integers are fed widened (exactly) to float32, int32 to float64.
  const floatFeed = (): { input?: string; fedAs: string; decDtype?: Dtype; double: boolean } => {
    if (ds.isFloat) return { fedAs: ds.dtype, double: ds.dtype === 'float64' };
    const to: Dtype = ds.dtype === 'int32' ? 'float64' : 'float32';
    return { input: widened(ds, to), fedAs: `${to} (widened from ${ds.dtype})`, decDtype: to, double: to === 'float64' };
  };

  if ((lossless.length || pwPts.length) && need('fpzip', 'fpzip', 'fpzip-utils')) {
    const f = floatFeed();
    const type = f.double ? 'double' : 'float';
    const dims = dimsFastestFirst(ds.shape);
    const mk = (point: Point, p: number, note: string): Spec => ({
      tool: 'fpzip', series: 'fpzip', point, fedAs: f.fedAs, input: f.input, decDtype: f.decDtype, threads: 1,
      args: `fpzip -t ${type}${p ? ` -p ${p}` : ''} ${dims.join(' ')}${note}`,
      compress: (i, o) => timedRun('fpzip', ['-q', '-t', type, ...(p ? ['-p', String(p)] : []), ...dims, '-i', i, '-o', o]),
      decompress: (o, d) => timedRun('fpzip', ['-q', '-d', '-t', type, ...(p ? ['-p', String(p)] : []), ...dims, '-i', o, '-o', d]),
    });
    if (lossless.length) specs.push(mk(lossless[0], 0, ''));
    // fpzip -p P keeps P leading bits (sign, exponent, P−9 or P−12 mantissa bits), so its relative error stays
    // below 2^−(P−9) (float) or 2^−(P−12) (double): the smallest P that guarantees ε is what it is given.
    const head = f.double ? 12 : 9;
    for (const pt of pwPts) {
      const p = head + Math.ceil(Math.log2(1 / pt.eps));
      if (p > (f.double ? 64 : 32)) skipped.push(`fpzip ${pt.label} (no precision guarantees it)`);
      else specs.push(mk(pt, p, ` (2^-${p - head} ≤ ε)`));
    }
  }

  if ((lossless.length || absPts.length) && need('zfp', 'zfp', 'zfp')) {
    const f = floatFeed();
    const t = f.double ? '-d' : '-f';
    const dims = dimsFastestFirst(ds.shape);
    const mk = (point: Point, mode: string[]): Spec => ({
      tool: mode[0] === '-R' ? 'zfp -R' : 'zfp -a', series: 'zfp', point, fedAs: f.fedAs, input: f.input, decDtype: f.decDtype, threads: 1,
      args: `zfp ${t} ${dims.join(' ')} ${mode.join(' ')} -h`,
      compress: (i, o) => timedRun('zfp', ['-q', '-h', t, ...dims, ...mode, '-i', i, '-z', o]),
      decompress: (o, d) => timedRun('zfp', ['-q', '-h', '-z', o, '-o', d]),
    });
    if (lossless.length) specs.push(mk(lossless[0], ['-R']));
    for (const pt of absPts) specs.push(mk(pt, ['-a', g(pt.tol)]));
  }

  if (absPts.length && want.has('sz3')) {
    if (!sz3Bin) skipped.push('SZ3 (not packaged in Debian; build it and set SZ3_BIN to its sz3 executable)');
    else if (!has(sz3Bin)) skipped.push(`SZ3 (SZ3_BIN=${sz3Bin} is not an executable file)`);
    else {
      // SZ3's CLI takes float, double, int32 and int64: smaller integers are fed widened to int32.
      const type = ds.dtype === 'float32' ? ['-f'] : ds.dtype === 'float64' ? ['-d'] : ['-I', '32'];
      const input = ds.isFloat || ds.dtype === 'int32' ? undefined : widened(ds, 'int32');
      const fedAs = input ? `int32 (widened from ${ds.dtype})` : ds.dtype;
      const dims = dimsFastestFirst(ds.shape);
      for (const pt of absPts)
        specs.push({
          tool: 'SZ3', series: 'SZ3', point: pt, fedAs, input, decDtype: input ? 'int32' : undefined, threads: 1,
          args: `sz3 ${type.join(' ')} ${dims.join(' ')} -M ABS ${g(pt.tol)}`,
          compress: (i, o) => timedRun(sz3Bin, [...type, '-i', i, '-z', o, ...dims, '-M', 'ABS', g(pt.tol)]),
          decompress: (o, d) => timedRun(sz3Bin, [...type, '-z', o, '-o', d, ...dims]),
        });
    }
  }

  // Video codecs, lossless, on gray frames. Each takes unsigned samples up to a bit depth: the row says what
  // pixel format it was fed; data that does not fit is skipped with the reason.
  const video: [Anchor, string, number, string[], string][] = [
    ['x264', 'libx264', 10, ['-c:v', 'libx264', '-preset', 'medium', '-qp', '0', '-threads', '1', '-f', 'h264'], 'x264 lossless'],
    ['x265', 'libx265', 12, ['-c:v', 'libx265', '-preset', 'medium', '-x265-params', 'lossless=1:pools=1:frame-threads=1:log-level=error', '-threads', '1', '-f', 'hevc'], 'x265 lossless'],
    ['ffv1', 'ffv1', 16, ['-c:v', 'ffv1', '-level', '3', '-coder', '1', '-context', '1', '-slicecrc', '0', '-threads', '1', '-f', 'nut'], 'FFV1'],
  ];
  for (const [a, , maxBits, enc, label] of video) {
    if (!lossless.length || !want.has(a)) continue;
    if (!need(a, 'ffmpeg', 'ffmpeg')) continue;
    const [T, H, W, C = 1] = ds.shape;
    if (C !== 1) {
      skipped.push(`${label} (gray frames only; ${C} channels)`);
      continue;
    }
    if (ds.dtype !== 'uint8' && ds.dtype !== 'uint16') {
      skipped.push(`${label} (unsigned 8- or 16-bit samples only; ${ds.dtype} data)`);
      continue;
    }
    const bits = ds.dtype === 'uint8' ? 8 : bitsNeeded(ds);
    if (bits > maxBits) {
      skipped.push(`${label} (lossless up to ${maxBits} bits; ${ds.name} needs ${bits})`);
      continue;
    }
    // 16-bit words hold the samples as they are; only the declared depth changes.
    const fmt = ds.dtype === 'uint8' ? 'gray' : a === 'ffv1' ? 'gray16le' : bits <= 10 ? 'gray10le' : 'gray12le';
    // The h264 decoder hands 4:0:0 back as yuv420p: take its Y plane, untouched, rather than convert.
    const decFilter = a === 'x264' ? ['-vf', 'extractplanes=y'] : [];
    specs.push({
      tool: label, series: label, point: lossless[0], fedAs: `${fmt} ${W}x${H}, ${T} frames`, threads: 1,
      args: `ffmpeg -f rawvideo -pix_fmt ${fmt} ${enc.join(' ')}`,
      compress: (i, o) =>
        timedRun('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'rawvideo', '-pix_fmt', fmt, '-s', `${W}x${H}`, '-r', '25', '-i', i, ...enc, o]),
      decompress: (o, d) =>
        timedRun('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-threads', '1', '-i', o, ...decFilter, '-f', 'rawvideo', '-pix_fmt', fmt, d]),
    });
  }
  return specs;
}
