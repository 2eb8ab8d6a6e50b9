// `tezip decompress`: .tez in; raw + JSON sidecar, PNG or TIFF folders (original file names kept), a TIFF stack
// or an HDF5 dataset out, written a slab of chunks at a time.
// Reads through openTez: only the chunks holding the frames asked for (--frames) are read and decoded.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './args.js';
import { Progress } from './progress.js';
import { readStdin, summaryStream, writeStdout } from './stdio.js';
import { RawInputError, dtypeSize, isRawDType, rawPaths } from '../io/raw.js';
import { readerSlabs } from '../io/tez-slabs.js';
import { OutputFormat, WriteResult, defaultFormat, writeSlabs } from '../io/write-output.js';
import type { Gap } from '../container/file';

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
  if (!output) throw new UsageError('decompress needs -o OUT (a .raw file, a folder for --format png, a .tif, a .h5, or - for stdout)');
  const input = positionals[0];
  const toStdout = output === '-';
  if (toStdout && opts.format !== undefined && opts.format !== 'raw') throw new UsageError('only --format raw can go to stdout (-o -)');
  if (input !== '-' && !toStdout && path.resolve(rawPaths(output).rawPath) === path.resolve(input)) throw new UsageError('output would overwrite the input');
  const range = opts.frames === undefined ? {} : parseFrames(String(opts.frames));
  const threads = opts.threads;
  if (threads !== undefined && (!Number.isInteger(threads) || (threads as number) < 1 || (threads as number) > 1024)) {
    throw new UsageError(`expected a positive integer up to 1024 for --threads but received ${threads}`);
  }
  const lib: typeof import('../index.js') = require('../index.js');
  let file: import('../index.js').TezReader;
  try {
    file = input === '-' ? await memoryReader(await readStdin()) : await lib.openTez(input, { ...(threads === undefined ? {} : { threads: threads as number }), ...(opts.model === undefined ? {} : { model: (require('../pipeline/registry.js') as typeof import('../pipeline/registry.js')).modelFolderFor(String(opts.model)) }) });
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
    const dtype = String(file.dtype);
    if (!isRawDType(dtype)) throw new RawInputError('BAD_DTYPE', `decoded dtype ${dtype} cannot be written`);
    const format = toStdout ? 'raw' : ((opts.format as OutputFormat | undefined) ?? defaultFormat(output, file.metadata));
    const shape = [end - start, ...file.shape.slice(1)];
    const gaps: Gap[] = [];
    const bar = new Progress('decompress', end - start, { quiet: Boolean(opts.quiet) || toStdout });
    async function* tracked() {
      try {
        for await (const s of readerSlabs(file, { start, end, ignoreDamaged: opts['ignore-damaged'] === true, onGap: (g) => gaps.push(g) })) {
          yield { ...s, start: s.start - start };
          bar.update(s.start + s.frames - start);
        }
      } catch (e) {
        if ((e as { chunk?: unknown }).chunk !== undefined) (e as Error).message += ' (--ignore-damaged writes the other chunks)';
        throw e;
      }
    }
    // Stored file names belong to the whole sequence; a --frames subset gets them from its first frame on.
    let metadata = file.metadata;
    const src = metadata.source as Record<string, unknown> | undefined;
    if (opts.frames !== undefined && src && Array.isArray(src.files) && src.files.length === file.frameCount)
      metadata = { ...metadata, source: { ...src, files: src.files.slice(start, end) } };
    const extra: Record<string, unknown> = { source: `decompressed from ${path.basename(input)} by tezip` };
    if (opts.frames !== undefined) extra.frames = [start, end];
    let written: WriteResult;
    const t0 = process.hrtime.bigint();
    try {
      if (toStdout) {
        for await (const s of tracked()) await writeStdout(new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength));
        written = { paths: ['-'], files: 1 };
      } else {
        written = await writeSlabs(format, output, { shape, dtype, metadata }, tracked(), { plainNames: opts['plain-names'] === true, sidecar: extra });
      }
    } finally {
      bar.done();
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (gaps.length && format === 'raw' && !toStdout) {
      // The sidecar lists the damaged ranges too.
      const { jsonPath } = rawPaths(output);
      const side = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      side.damaged = gaps.map((g) => ({ chunk: g.chunk, frames: [g.firstFrame, g.firstFrame + g.frameCount] }));
      fs.writeFileSync(jsonPath, JSON.stringify(side, null, 1) + '\n');
    }
    for (const g of gaps) {
      process.stderr.write(`tezip: chunk ${g.chunk} damaged, frames ${g.firstFrame}:${g.firstFrame + g.frameCount} written as zeros (${g.code}: ${g.message})\n`);
    }
    const bytes = (end - start) * (file.shape.slice(1).reduce((a, b) => a * b, 1)) * dtypeSize(dtype);
    const lost = gaps.reduce((n, g) => n + Math.min(end, g.firstFrame + g.frameCount) - Math.max(start, g.firstFrame), 0);
    const out = summaryStream(toStdout);
    if (opts.json) {
      out.write(
        JSON.stringify({
          input,
          output: written.paths[0],
          format,
          files: written.paths,
          frames: [start, end],
          shape,
          dtype,
          bytes,
          seconds,
          damaged: gaps.map((g) => ({ chunk: g.chunk, frames: [g.firstFrame, g.firstFrame + g.frameCount], code: g.code })),
        }) + '\n',
      );
    } else if (!opts.quiet) {
      const note = gaps.length ? `; ${lost} frames in ${gaps.length} damaged chunks written as zeros` : '';
      const where = toStdout ? 'stdout' : format === 'raw' ? `${written.paths[0]} (+ ${path.basename(written.paths[1])})` : `${written.paths[0]} (${format}${written.files > 1 ? `, ${written.files} files` : ''})`;
      out.write(`${input} → ${where}: frames ${start}:${end} of ${file.frameCount}, shape ${JSON.stringify(shape)}, ${dtype}, ${bytes} bytes${note}\n`);
    }
    return 0;
  } finally {
    await file.close();
  }
}

/** A .tez read from stdin, behind the same interface as openTez. */
async function memoryReader(bytes: Uint8Array): Promise<import('../index.js').TezReader> {
  const lib: typeof import('../index.js') = require('../index.js');
  const info = lib.inspect(bytes);
  let decoded: Awaited<ReturnType<typeof lib.decompress>> | undefined;
  const frameLen = info.shape.slice(1).reduce((a, b) => a * b, 1);
  return {
    path: '-',
    frameCount: info.shape[0],
    shape: info.shape,
    dtype: info.dtype,
    mode: info.mode,
    metadata: info.metadata,
    chunks: info.chunks.map((c) => ({ firstFrame: c.firstFrame, frameCount: c.frameCount })),
    stats: { chunksDecoded: 0, bytesRead: bytes.length },
    async readFrames(start = 0, end = info.shape[0]) {
      decoded ??= await lib.decompress(bytes);
      return { data: decoded.data.subarray(start * frameLen, end * frameLen), shape: [end - start, ...info.shape.slice(1)], dtype: info.dtype, gaps: [] };
    },
    async close() {},
  } as import('../index.js').TezReader;
}
