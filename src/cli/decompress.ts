// `tezip decompress`: .tez in, OUT.raw + OUT.json (shape, dtype) out, in the same layout as the inputs.
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

export async function run(positionals: string[], opts: Opts): Promise<number> {
  if (positionals.length !== 1) throw new UsageError(`decompress takes one input file, got ${positionals.length} (try tezip decompress --help)`);
  const output = opts.output as string | undefined;
  if (!output) throw new UsageError('decompress needs -o OUT.raw');
  const input = positionals[0];
  if (path.resolve(rawPaths(output).rawPath) === path.resolve(input)) throw new UsageError('output would overwrite the input');
  const bytes = readTez(input);
  const lib: typeof import('../index.js') = require('../index.js');
  const dec = await lib.decompress(bytes);
  const dtype = String(dec.dtype);
  if (!isRawDType(dtype)) throw new RawInputError('BAD_DTYPE', `decoded dtype ${dtype} cannot be written as raw`);
  const arr: RawArray = { data: dec.data as RawArray['data'], shape: Array.from(dec.shape as ArrayLike<number>), dtype };
  const { rawPath, jsonPath } = writeRaw(output, arr, { source: `decompressed from ${path.basename(input)} by tezip` });
  process.stdout.write(`${input} → ${rawPath} (+ ${path.basename(jsonPath)}): shape ${JSON.stringify(arr.shape)}, ${dtype}, ${arr.data.byteLength} bytes\n`);
  return 0;
}
