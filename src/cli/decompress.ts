// `tezip decompress`: .tez in, OUT.raw + OUT.json (shape, dtype) out, in the same layout as the inputs.
// Reads through openTez: only the chunks holding the frames asked for (--frames) are read and decoded.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './args.js';
import { RawArray, RawInputError, isRawDType, rawPaths, writeRaw } from '../io/raw.js';

type Opts = Record<string, string | number | boolean | undefined>;

export function readTez(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RawInputError('ENOENT', `input not found: ${file}`);
    throw e;
  }
}

/** `A:B` (frames A to B−1, as in Python slices), `A:`, `:B` or `N` (one frame). */
export function parseFrames(spec: string): { start?: number; end?: number } {
  const m = /^\s*(\d*)\s*(:?)\s*(\d*)\s*$/.exec(spec);
  if (!m || (m[1] === '' && m[3] === '' && m[2] === '') || (m[2] === '' && m[3] !== '')) {
    throw new UsageError(`expected --frames START:END (end exclusive), START:, :END or N but received ${JSON.stringify(spec)}`);
  }
  const start = m[1] === '' ? undefined : Number(m[1]);
  if (m[2] === '') return { start, end: start! + 1 };
  return { start, end: m[3] === '' ? undefined : Number(m[3]) };
}

export async function run(positionals: string[], opts: Opts): Promise<number> {
  if (positionals.length !== 1) throw new UsageError(`decompress takes one input file, got ${positionals.length} (try tezip decompress --help)`);
  const output = opts.output as string | undefined;
  if (!output) throw new UsageError('decompress needs -o OUT.raw');
  const input = positionals[0];
  if (path.resolve(rawPaths(output).rawPath) === path.resolve(input)) throw new UsageError('output would overwrite the input');
  const range = opts.frames === undefined ? {} : parseFrames(String(opts.frames));
  const threads = opts.threads;
  if (threads !== undefined && (!Number.isInteger(threads) || (threads as number) < 1 || (threads as number) > 1024)) {
    throw new UsageError(`expected a positive integer up to 1024 for --threads but received ${threads}`);
  }
  const lib: typeof import('../index.js') = require('../index.js');
  let file: import('../index.js').TezReader;
  try {
    file = await lib.openTez(input, threads === undefined ? {} : { threads: threads as number });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new RawInputError('ENOENT', `input not found: ${input}`);
    if (err.code === 'TEZ_TRUNCATED' || /index|trailer/i.test(err.message)) err.message += ` (tezip recover ${input} -o FIXED.tez keeps its complete chunks)`;
    throw e;
  }
  try {
    const start = range.start ?? 0;
    const end = range.end ?? file.frameCount;
    if (start >= end || end > file.frameCount) {
      throw new UsageError(`--frames ${opts.frames} is outside the file's frames 0:${file.frameCount}`);
    }
    let dec;
    try {
      dec = await file.readFrames(start, end, { ignoreDamaged: opts['ignore-damaged'] === true });
    } catch (e) {
      if ((e as { chunk?: unknown }).chunk !== undefined) (e as Error).message += ' (--ignore-damaged writes the other chunks)';
      throw e;
    }
    const dtype = String(dec.dtype);
    if (!isRawDType(dtype)) throw new RawInputError('BAD_DTYPE', `decoded dtype ${dtype} cannot be written as raw`);
    const arr: RawArray = { data: dec.data as RawArray['data'], shape: dec.shape, dtype };
    const extra: Record<string, unknown> = { source: `decompressed from ${path.basename(input)} by tezip` };
    if (opts.frames !== undefined) extra.frames = [start, end];
    if (dec.gaps.length) extra.damaged = dec.gaps.map((g) => ({ chunk: g.chunk, frames: [g.firstFrame, g.firstFrame + g.frameCount] }));
    const { rawPath, jsonPath } = writeRaw(output, arr, extra);
    for (const g of dec.gaps) {
      process.stderr.write(`tezip: chunk ${g.chunk} damaged, frames ${g.firstFrame}:${g.firstFrame + g.frameCount} written as zeros (${g.code}: ${g.message})\n`);
    }
    const lost = dec.gaps.reduce((n, g) => n + Math.min(end, g.firstFrame + g.frameCount) - Math.max(start, g.firstFrame), 0);
    const note = dec.gaps.length ? `; ${lost} frames in ${dec.gaps.length} damaged chunks written as zeros` : '';
    process.stdout.write(
      `${input} → ${rawPath} (+ ${path.basename(jsonPath)}): frames ${start}:${end} of ${file.frameCount}, shape ${JSON.stringify(arr.shape)}, ${dtype}, ${arr.data.byteLength} bytes${note}\n`,
    );
    return 0;
  } finally {
    await file.close();
  }
}
