// `tezip compress`: raw+json in, .tez out; with --json (or --verify) the output is decoded again in the same
// process and compared with the input, so the printed errors are measured, not promised.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './args.js';
import { Bound, jsonNumber, measure } from './metrics.js';
import { RawInputError, readRaw, rawPaths } from '../io/raw.js';

type Opts = Record<string, string | number | boolean | undefined>;

export class VerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerificationError';
  }
}

function boundValue(opts: Opts, name: string): number | undefined {
  const v = opts[name];
  if (v === undefined) return undefined;
  // Same limits as the library's option checks, reported as usage errors before any file is read.
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new UsageError(`expected a positive number for --${name} but received ${v}`);
  if (name === 'pwrel' && v >= 1) throw new UsageError(`expected a number between 0 and 1 (exclusive) for --pwrel but received ${v}`);
  return v;
}

/** The bound the flags ask for; conflicting flags are a usage error. */
export function boundFromOptions(opts: Opts): Bound {
  const abs = boundValue(opts, 'abs');
  const rel = boundValue(opts, 'rel');
  const pwrel = boundValue(opts, 'pwrel');
  if (pwrel !== undefined && (abs !== undefined || rel !== undefined))
    throw new UsageError('--pwrel cannot be combined with --abs or --rel');
  if (pwrel !== undefined) return { mode: 'pwrel', pwrel };
  if (abs !== undefined && rel !== undefined) return { mode: 'absrel', abs, rel };
  if (abs !== undefined) return { mode: 'abs', abs };
  if (rel !== undefined) return { mode: 'rel', rel };
  return { mode: 'lossless' };
}

function positiveInt(opts: Opts, name: string): number | undefined {
  const v = opts[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw new UsageError(`expected a positive integer for --${name} but received ${v}`);
  return v;
}

export function boundLabel(b: Bound): string {
  switch (b.mode) {
    case 'lossless':
      return 'lossless';
    case 'abs':
      return `abs ${b.abs}`;
    case 'rel':
      return `rel ${b.rel}`;
    case 'absrel':
      return `abs ${b.abs} + rel ${b.rel}`;
    case 'pwrel':
      return `pwrel ${b.pwrel}`;
  }
}

function fmt(v: number, digits = 3): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? String(+v.toPrecision(digits)) : v.toExponential(digits - 1);
}

/** Writes a result file; a missing folder or a read-only place is the user's to fix, so it gets a plain message. */
export function writeOutput(file: string, bytes: Uint8Array): void {
  try {
    fs.writeFileSync(file, bytes);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such folder' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a folder' : err.message;
    throw new RawInputError(err.code ?? 'EIO', `cannot write ${file}: ${why}`);
  }
}

export async function run(positionals: string[], opts: Opts): Promise<number> {
  if (positionals.length !== 1) throw new UsageError(`compress takes one input file, got ${positionals.length} (try tezip compress --help)`);
  const bound = boundFromOptions(opts);
  const threads = positiveInt(opts, 'threads');
  const chunkFrames = positiveInt(opts, 'chunk-frames');
  const input = positionals[0];
  const output = (opts.output as string | undefined) ?? rawPaths(input).rawPath.replace(/(\.raw)?$/i, '.tez');
  if (path.resolve(output) === path.resolve(rawPaths(input).rawPath)) throw new UsageError('output would overwrite the input');

  const arr = readRaw(input);
  const lib: typeof import('../index.js') = require('../index.js');
  const copts: Record<string, unknown> = {};
  if (bound.abs !== undefined) copts.abs = bound.abs;
  if (bound.rel !== undefined) copts.rel = bound.rel;
  if (bound.pwrel !== undefined) copts.pwrel = bound.pwrel;
  if (opts.predictor !== undefined) copts.predictor = opts.predictor;
  if (opts.level !== undefined) copts.level = Number(opts.level);
  if (threads !== undefined) copts.threads = threads;
  if (chunkFrames !== undefined) copts.chunkFrames = chunkFrames;

  const t0 = process.hrtime.bigint();
  const bytes = await lib.compress({ data: arr.data, shape: arr.shape, dtype: arr.dtype } as never, copts as never);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  writeOutput(output, bytes);

  const ratio = arr.bytes / bytes.byteLength;
  const MBps = arr.bytes / 1e6 / seconds;
  const verify = Boolean(opts.json || opts.verify);
  let m: ReturnType<typeof measure> | undefined;
  let decompressSeconds: number | undefined;
  if (verify) {
    const t1 = process.hrtime.bigint();
    const dec = await lib.decompress(bytes);
    decompressSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
    const shapeOk = JSON.stringify(Array.from(dec.shape as ArrayLike<number>)) === JSON.stringify(arr.shape) && dec.dtype === arr.dtype;
    m = shapeOk
      ? measure(arr.data, dec.data as typeof arr.data, bound)
      : { ok: false, bad: arr.data.length, maxAbsError: NaN, maxPwRelError: NaN, psnr: NaN, why: 'decoded shape or dtype differs' };
  }

  if (opts.json) {
    const b = bound.mode === 'lossless' ? null : bound.mode === 'absrel' ? { abs: bound.abs, rel: bound.rel } : (bound.abs ?? bound.rel ?? bound.pwrel);
    const o = {
      input: arr.rawPath,
      output,
      inputBytes: arr.bytes,
      outputBytes: bytes.byteLength,
      ratio,
      seconds,
      MBps,
      maxAbsError: jsonNumber(m!.maxAbsError),
      maxPwRelError: jsonNumber(m!.maxPwRelError),
      psnr: jsonNumber(m!.psnr),
      mode: bound.mode,
      bound: b,
      verified: m!.ok,
      decompressSeconds,
    };
    process.stdout.write(JSON.stringify(o) + '\n');
  } else {
    let line = `${arr.rawPath} → ${output}: ${arr.bytes} → ${bytes.byteLength} bytes, ratio ${fmt(ratio)}, ${fmt(MBps)} MB/s, ${boundLabel(bound)}`;
    if (m) line += m.ok ? `, verified (max abs error ${fmt(m.maxAbsError)})` : ', VERIFICATION FAILED';
    process.stdout.write(line + '\n');
  }
  if (m && !m.ok) throw new VerificationError(`verification failed: ${m.why ?? `${m.bad} values outside ${boundLabel(bound)}`}`);
  return 0;
}
