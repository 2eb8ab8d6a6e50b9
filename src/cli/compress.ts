// `tezip compress`: raw+json, PNG/TIFF folders, TIFF stacks or HDF5 datasets in (read in slabs), .tez out; with --json (or --verify) the output is decoded again in the same
// process and compared with the input, so the printed errors are measured, not promised.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './args.js';
import { Bound, Metrics, jsonNumber } from './metrics.js';
import { Progress } from './progress.js';
import { readStdin, summaryStream, writeStdout } from './stdio.js';
import { verifySource } from './verify.js';
import { ioError } from '../io/fs-util.js';
import { parseH5Spec } from '../io/hdf5.js';
import { InputKind, inputKind, openInput } from '../io/open-input.js';
import { RawDType, RawInputError, rawPaths } from '../io/raw.js';
import { memoryRawSource } from '../io/raw-source.js';
import type { SourceCompressOptions, TezSink } from '../io/tez-slabs.js';

// Loaded when data is coded (it pulls in the container code and the addon), not for help or usage errors.
function slabs(): typeof import('../io/tez-slabs.js') {
  return require('../io/tez-slabs.js');
}

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

/** Default output name: the input's name with `.tez` (a folder `frames/` gives `frames.tez`). */
function defaultOutput(input: string, kind: InputKind): string {
  if (kind === 'hdf5') return (parseH5Spec(input)?.file ?? input).replace(/\.[^./]*$/, '') + '.tez';
  if (kind === 'folder') return input.replace(/[\/\\]+$/, '') + '.tez';
  if (kind === 'tiff') return input.replace(/\.tiff?$/i, '') + '.tez';
  return rawPaths(input).rawPath.replace(/(\.raw)?$/i, '.tez');
}

function parseShape(v: unknown): number[] {
  const parts = String(v).split(/[,x×]/).map((p) => p.trim());
  const shape = parts.map(Number);
  if ((shape.length !== 3 && shape.length !== 4) || !shape.every((n) => Number.isSafeInteger(n) && n > 0))
    throw new UsageError(`expected --shape T,H,W or T,H,W,C (positive integers) but received ${JSON.stringify(v)}`);
  return shape;
}

/** Writes to OUT via a temporary file renamed on success, so a failed run never leaves half a .tez behind. */
class FileOutput implements TezSink {
  private fd: number;
  readonly tmp: string;
  constructor(readonly file: string) {
    this.tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    try {
      this.fd = fs.openSync(this.tmp, 'w');
    } catch (e) {
      throw ioError(e, 'write', file);
    }
  }
  write(b: Uint8Array): void {
    try {
      fs.writeSync(this.fd, b);
    } catch (e) {
      throw ioError(e, 'write', this.file);
    }
  }
  patch(offset: number, b: Uint8Array): void {
    fs.writeSync(this.fd, b, 0, b.length, offset);
  }
  commit(): void {
    fs.closeSync(this.fd);
    try {
      fs.renameSync(this.tmp, this.file);
    } catch (e) {
      fs.rmSync(this.tmp, { force: true });
      throw ioError(e, 'write', this.file);
    }
  }
  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    fs.rmSync(this.tmp, { force: true });
  }
}

/** stdout; keeps a copy when the output is to be verified. */
class StdoutOutput implements TezSink {
  readonly copy?: import('../io/tez-slabs.js').MemorySink;
  constructor(keep: boolean) {
    if (keep) this.copy = new (slabs().MemorySink)();
  }
  async write(b: Uint8Array): Promise<void> {
    this.copy?.write(b);
    await writeStdout(b);
  }
}

export async function run(positionals: string[], opts: Opts): Promise<number> {
  if (positionals.length !== 1) throw new UsageError(`compress takes one input, got ${positionals.length} (try tezip compress --help)`);
  const bound = boundFromOptions(opts);
  const threads = positiveInt(opts, 'threads');
  const chunkFrames = positiveInt(opts, 'chunk-frames');
  const input = positionals[0];
  const fromStdin = input === '-';
  if (!fromStdin && (opts.shape !== undefined || opts.dtype !== undefined))
    throw new UsageError('--shape and --dtype describe raw data on stdin (input -); files carry their own');
  if (fromStdin && (opts.shape === undefined || opts.dtype === undefined))
    throw new UsageError('raw data on stdin needs --shape T,H,W[,C] and --dtype');
  const shape = fromStdin ? parseShape(opts.shape) : undefined;
  const kind = fromStdin ? 'raw' : inputKind(input);
  const output = (opts.output as string | undefined) ?? (fromStdin ? undefined : defaultOutput(input, kind));
  if (output === undefined) throw new UsageError('compressing stdin needs -o OUT.tez (or -o - for stdout)');
  const toStdout = output === '-';
  if (!fromStdin && !toStdout) {
    const inPath = kind === 'hdf5' ? parseH5Spec(input)!.file : kind === 'raw' ? rawPaths(input).rawPath : input;
    if (path.resolve(output) === path.resolve(inPath)) throw new UsageError('output would overwrite the input');
  }
  const verify = Boolean(opts.json || opts.verify);
  const quiet = Boolean(opts.quiet);

  const src = fromStdin ? memoryRawSource(await readStdin(), shape!, opts.dtype as RawDType, 'stdin') : await openInput(input);
  const lib: typeof import('../index.js') = require('../index.js');
  const copts: SourceCompressOptions = { metadata: src.meta };
  if (bound.abs !== undefined) copts.abs = bound.abs;
  if (bound.rel !== undefined) copts.rel = bound.rel;
  if (bound.pwrel !== undefined) copts.pwrel = bound.pwrel;
  if (opts.predictor !== undefined) copts.predictor = opts.predictor as SourceCompressOptions['predictor'];
  if (opts.level !== undefined) copts.level = Number(opts.level) as 0 | 1 | 2;
  if (threads !== undefined) copts.threads = threads;
  if (chunkFrames !== undefined) copts.chunkFrames = chunkFrames;
  if (opts.model !== undefined) copts.model = (require('../pipeline/registry.js') as typeof import('../pipeline/registry.js')).modelFolderFor(String(opts.model));
  if (opts.window !== undefined) copts.window = opts.window as number;
  if (opts['mse-threshold'] !== undefined) copts.mseThreshold = opts['mse-threshold'] as number;
  if (opts.warmup !== undefined) copts.warmup = opts.warmup as number;
  const bar = new Progress('compress', src.shape[0], { quiet });
  copts.onProgress = (p) => bar.update(p.frames, p.total, p.phase === 'scan' ? 'scan    ' : 'compress');

  const sink = toStdout ? new StdoutOutput(verify) : new FileOutput(output);
  const t0 = process.hrtime.bigint();
  const { compressSource, decodeSlabs, readerSlabs } = slabs();
  let res: Awaited<ReturnType<typeof compressSource>>;
  try {
    res = await compressSource(src, sink, copts);
    if (sink instanceof FileOutput) sink.commit();
  } catch (e) {
    if (sink instanceof FileOutput) sink.abort();
    await src.close();
    throw e;
  } finally {
    bar.done();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;

  const ratio = res.inputBytes / res.outputBytes;
  const MBps = res.inputBytes / 1e6 / seconds;
  let m: Metrics | undefined;
  let decompressSeconds: number | undefined;
  try {
    if (verify) {
      const t1 = process.hrtime.bigint();
      if (sink instanceof StdoutOutput) {
        m = await verifySource(src, decodeSlabs(sink.copy!.bytes(), { threads }), bound);
      } else {
        const reader = await lib.openTez(output, { ...(threads === undefined ? {} : { threads }), ...(opts.model === undefined ? {} : { model: (require('../pipeline/registry.js') as typeof import('../pipeline/registry.js')).modelFolderFor(String(opts.model)) }) });
        try {
          m = await verifySource(src, readerSlabs(reader), bound);
        } finally {
          await reader.close();
        }
      }
      decompressSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
    }
  } finally {
    await src.close();
  }

  const out = summaryStream(toStdout);
  if (opts.json) {
    const b = bound.mode === 'lossless' ? null : bound.mode === 'absrel' ? { abs: bound.abs, rel: bound.rel } : (bound.abs ?? bound.rel ?? bound.pwrel);
    const o = {
      input: src.label,
      format: src.format,
      output,
      shape: src.shape,
      dtype: src.dtype,
      frames: res.frames,
      chunks: res.chunks,
      inputBytes: res.inputBytes,
      outputBytes: res.outputBytes,
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
    out.write(JSON.stringify(o) + '\n');
  } else if (!quiet) {
    let line = `${src.label} → ${output === '-' ? 'stdout' : output}: ${res.frames} frames ${src.dtype}, ${res.inputBytes} → ${res.outputBytes} bytes, ratio ${fmt(ratio)}, ${fmt(MBps)} MB/s, ${boundLabel(bound)}`;
    if (m) line += m.ok ? `, verified (max abs error ${fmt(m.maxAbsError)})` : ', VERIFICATION FAILED';
    out.write(line + '\n');
  }
  if (m && !m.ok) throw new VerificationError(`verification failed: ${m.why ?? `${m.bad} values outside ${boundLabel(bound)}`}`);
  return 0;
}
