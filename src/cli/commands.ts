// Command table: names, options and help text. Kept free of heavy imports so that `tezip --help` and usage
// errors never load the native addon; each command's implementation is required only when it runs.
import { OptionSpec, formatOptions } from './args.js';
import { PIPELINE_COMMANDS } from './pipeline-commands.js';

export interface CommandDef {
  name: string;
  usage: string;
  summary: string;
  options: readonly OptionSpec[];
  examples: readonly string[];
  load: () => { run(positionals: string[], options: Record<string, string | number | boolean | undefined>): Promise<number> };
}

const help: OptionSpec = { name: 'help', short: 'h', type: 'flag', help: 'show this help' };

export const PREDICTORS = ['auto', 'none', 'prev', 'lorenzo', 'lorenzo2d', 'lorenzo3d', 'prednet'] as const;

export const COMMANDS: readonly CommandDef[] = [
  {
    name: 'compress',
    usage: 'tezip compress IN [-o OUT.tez] [bound] [options]',
    summary: 'compress frames (PNG/TIFF folder, TIFF stack, FILE.h5:/dataset, NAME.raw + NAME.json, - for stdin) into a .tez file',
    options: [
      { name: 'output', short: 'o', type: 'string', arg: 'OUT.tez', help: 'output file, - for stdout (default: NAME.tez next to the input)' },
      { name: 'abs', type: 'number', arg: 'E', help: 'absolute bound: |x̂−x| ≤ E' },
      { name: 'rel', type: 'number', arg: 'E', help: 'relative bound: |x̂−x| ≤ E·(max−min); with --abs both hold' },
      { name: 'pwrel', type: 'number', arg: 'E', help: 'point-wise relative bound: |x̂−x| ≤ E·|x| (not with --abs/--rel)' },
      { name: 'predictor', type: 'string', arg: 'P', choices: PREDICTORS, help: `predictor: ${PREDICTORS.join('|')} (default auto)` },
      { name: 'model', type: 'string', arg: 'M', help: 'PredNet model for --predictor prednet (auto tries it too): a folder (models/NAME) or an installed NAME[@VERSION]' },
      { name: 'window', type: 'number', arg: 'N', help: 'PredNet: a key frame every N frames, predictions chained in between' },
      { name: 'mse-threshold', type: 'number', arg: 'T', help: 'PredNet: a new key frame after a frame whose prediction MSE passes T' },
      { name: 'warmup', type: 'number', arg: 'K', help: 'PredNet: K frames after each key frame predicted by the previous frame' },
      { name: 'level', type: 'string', arg: 'L', choices: ['0', '1', '2'], help: 'effort 0 fastest, 1 default, 2 strongest' },
      { name: 'threads', type: 'number', arg: 'N', help: 'worker threads (default: library default)' },
      { name: 'chunk-frames', type: 'number', arg: 'N', help: 'frames per independent chunk (default: library default)' },
      { name: 'json', type: 'flag', help: 'print one JSON object with sizes, speed and verified errors' },
      { name: 'verify', type: 'flag', help: 'decode the output again and check the bound (always on with --json)' },
      { name: 'shape', type: 'string', arg: 'T,H,W[,C]', help: 'shape of raw data read from stdin (input -)' },
      { name: 'dtype', type: 'string', arg: 'D', choices: ['uint8', 'uint16', 'int16', 'int32', 'float32', 'float64'], help: 'dtype of raw data read from stdin: uint8|uint16|int16|int32|float32|float64' },
      { name: 'quiet', short: 'q', type: 'flag', help: 'no progress bar and no summary line' },
      help,
    ],
    examples: [
      'tezip compress samples/era5_small.raw -o /tmp/era5.tez --rel 1e-3',
      'tezip compress samples/bulk_water_small.json -o /tmp/water.tez --json',
      'tezip compress samples/png_small -o /tmp/png_small.tez',
      'tezip compress run.h5:/entry/data/data -o run.tez --abs 0.5',
      'cat samples/bulk_water_small.raw | tezip compress - --shape 10,128,128 --dtype uint8 -o - > /tmp/water_stdin.tez',
    ],
    load: () => require('./compress.js'),
  },
  {
    name: 'decompress',
    usage: 'tezip decompress IN.tez -o OUT [--format png|tiff|h5|raw] [--frames A:B] [--ignore-damaged] [--threads N]',
    summary: 'write a .tez file\'s frames (or some) back as raw + JSON, PNG/TIFF folders (original names), a TIFF stack or HDF5',
    options: [
      { name: 'model', type: 'string', arg: 'M', help: 'the PredNet model the file was compressed with: a folder (models/NAME) or an installed NAME[@VERSION]' },
      { name: 'output', short: 'o', type: 'string', arg: 'OUT', help: 'OUT.raw (+ OUT.json), a folder (png, tiff), OUT.tif (stack), OUT.h5[:/dataset], or - for raw on stdout' },
      { name: 'format', short: 'f', type: 'string', arg: 'F', choices: ['png', 'tiff', 'h5', 'raw'], help: 'png|tiff|h5|raw (default: from the output name, else the format the input had)' },
      { name: 'plain-names', type: 'flag', help: 'name image files frame_00000.png... instead of the stored original names' },
      { name: 'frames', type: 'string', arg: 'A:B', help: 'only frames A to B−1 (also A:, :B, N); decodes only the chunks holding them' },
      { name: 'ignore-damaged', type: 'flag', help: 'write damaged chunks\' frames as zeros, list them on stderr, exit 0' },
      { name: 'threads', type: 'number', arg: 'N', help: 'chunks decoded at once (default: all cores)' },
      { name: 'json', type: 'flag', help: 'print one JSON object (output, format, files, frames, shape, dtype, bytes, seconds, damaged)' },
      { name: 'quiet', short: 'q', type: 'flag', help: 'no progress bar and no summary line' },
      help,
    ],
    examples: [
      'tezip decompress /tmp/era5.tez -o /tmp/era5_decoded.raw',
      'tezip decompress /tmp/era5.tez --frames 10:20 -o /tmp/era5_10_20.raw',
      'tezip decompress /tmp/png_small.tez -o /tmp/png_small_out --format png',
      'tezip decompress /tmp/era5.tez -o /tmp/era5.tif',
      'tezip decompress /tmp/era5.tez -o /tmp/era5.h5:/entry/data/data',
    ],
    load: () => require('./decompress.js'),
  },
  {
    name: 'recover',
    usage: 'tezip recover BROKEN.tez -o FIXED.tez [--json]',
    summary: 'rebuild a cut-short or damaged .tez file from its complete chunks and say how many frames were kept',
    options: [
      { name: 'output', short: 'o', type: 'string', arg: 'FIXED.tez', help: 'output file (must differ from the input)' },
      { name: 'json', type: 'flag', help: 'print one JSON object (framesKept, chunksKept, framesDeclared, stoppedBy, skipped...)' },
      help,
    ],
    examples: ['tezip recover /tmp/run.tez -o /tmp/run_fixed.tez'],
    load: () => require('./recover.js'),
  },
  {
    name: 'info',
    usage: 'tezip info IN.tez [--json]   (- reads the file from stdin)',
    summary: 'show a .tez file\'s header, source, model hash, ratio and chunk table (frames, bytes, predictor, method)',
    options: [{ name: 'json', type: 'flag', help: 'print one JSON object' }, help],
    examples: ['tezip info /tmp/era5.tez', 'tezip info /tmp/era5.tez --json'],
    load: () => require('./info.js'),
  },
  {
    name: 'train',
    usage: 'tezip train DATA(.raw|.json|image folder|.tif|file.h5:/path|.tez|dataset folder)... -o models/NAME [options]',
    summary: 'train a PredNet frame predictor (TensorFlow.js) and write models/NAME (manifest.json + weights.bin)',
    options: [
      { name: 'output', short: 'o', type: 'string', arg: 'DIR', help: 'model folder to write (checkpoints go in DIR/checkpoint)' },
      { name: 'steps', type: 'number', arg: 'N', help: 'optimiser steps (default 200)' },
      { name: 'epochs', type: 'number', arg: 'N', help: 'instead of --steps: passes over the training sequences' },
      { name: 'nt', type: 'number', arg: 'N', help: 'frames per training sequence (default 10)' },
      { name: 'batch', type: 'number', arg: 'N', help: 'sequences per step (default 4)' },
      { name: 'lr', type: 'number', arg: 'X', help: 'Adam learning rate (default 0.001)' },
      { name: 'crop', type: 'number', arg: 'N', help: 'train on random N×N crops (multiple of 2^(layers−1)); default whole frames' },
      { name: 'stack', type: 'string', arg: 'A,B,C', help: 'channels per layer (default C,16,32; the paper: 3,48,96,192)' },
      { name: 'frames', type: 'string', arg: 'FIRST:END', help: 'use only frames [FIRST, END) of each input' },
      { name: 'sequence-length', type: 'number', arg: 'N', help: 'frames per independent sequence (default: the sidecar\'s frames_per_sequence, else all)' },
      { name: 'validation', type: 'number', arg: 'F', help: 'fraction of sequences held out for validation (default 0.1)' },
      { name: 'seed', type: 'number', arg: 'N', help: 'seed of the initial weights, split and crops (default 1)' },
      { name: 'checkpoint-every', type: 'number', arg: 'N', help: 'checkpoint every N steps (default 50, 0 = never)' },
      { name: 'resume', type: 'flag', help: 'continue from DIR/checkpoint' },
      { name: 'backend', type: 'string', arg: 'B', choices: ['auto', 'node', 'wasm', 'cpu'], help: 'tfjs backend: auto (tfjs-node-gpu, tfjs-node, wasm, cpu), node, wasm, cpu' },
      { name: 'json', type: 'flag', help: 'print one JSON object (no progress)' },
      help,
    ],
    examples: [
      'tezip train ../shared/data/moving_mnist.json --frames 0:3000 --crop 32 --steps 600 -o models/moving_mnist',
    ],
    load: () => require('./train.js'),
  },
  {
    name: 'bench',
    usage: 'tezip bench DATA... [--modes M,..] [--bounds E,..] [--anchors A,..] [--quick] [--out DIR]',
    summary: 'benchmark tezip against zstd, xz, aec, fpzip, zfp, SZ3, x264, x265 and FFV1, verifying every output',
    options: [
      { name: 'modes', type: 'string', arg: 'M,..', help: 'bound modes: lossless,abs,rel,pwrel (default all)' },
      { name: 'bounds', type: 'string', arg: 'E,..', help: 'ε for rel and pwrel (default rel 1e-2,1e-3,1e-4; pwrel 1e-2,1e-3); or rel:E, abs:E (data units), pwrel:E' },
      { name: 'anchors', type: 'string', arg: 'A,..', help: 'all (default), none, or some of zstd,xz,aec,fpzip,zfp,sz3,x264,x265,ffv1; missing ones are skipped' },
      { name: 'predictors', type: 'string', arg: 'P,..', help: 'tezip predictors for extra rows at lossless and rel 1e-3 (default all)' },
      { name: 'threads', type: 'string', arg: 'N,..', help: 'tezip thread counts: the first for every row, others as extra rows (default 1,CORES)' },
      { name: 'quick', type: 'flag', help: 'first 20% of the frames of each dataset, at most ~4 MB' },
      { name: 'out', short: 'o', type: 'string', arg: 'DIR', help: 'output folder: bench.jsonl, bench.md, bench.html, NAME.png (default ./tezip-bench-DATE)' },
      { name: 'no-plots', type: 'flag', help: 'skip the PNG and HTML (they need the devDependencies vega, vega-lite, @resvg/resvg-js)' },
      help,
    ],
    examples: [
      'tezip bench ../shared/data --quick --out /tmp/bench',
      'tezip bench samples/era5_small.json --modes rel --bounds 1e-3 --anchors zfp,sz3',
      'SZ3_BIN=$HOME/SZ3/build/tools/sz3/sz3 tezip bench data/ --out results',
    ],
    load: () => require('./bench.js'),
  },
  {
    name: 'demo',
    usage: 'tezip demo',
    summary: 'compress the samples in every bound mode (ratio, speed, verified error) and round-trip a PNG folder',
    options: [help],
    examples: ['tezip demo'],
    load: () => require('./demo.js'),
  },
  ...PIPELINE_COMMANDS,
];

export const EXIT_CODES = `Exit codes:
  0  success
  1  bad input or data error (missing or unreadable file or image, frames of mixed size or dtype, bad sidecar,
     corrupt .tez, unsafe stored file name, failed verification)
  2  usage error (unknown command or option, bad option value, conflicting bounds)`;

export function mainHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return `tezip — compression of time-evolutionary image data (sequences of 2-D frames)

Usage: tezip COMMAND [options]   (tezip COMMAND --help for details)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`).join('\n')}

Bounds (compress): none = lossless (bit-exact); --abs E; --rel E; --abs E --rel F (both hold); --pwrel E.

Plain compress of NAME.raw and decompress to OUT.raw run in the native CLI (build/Release/tezip-cli), which
writes the same bytes and leaves everything else, errors included, to this one; TEZIP_NATIVE_CLI=0 turns it off.

${EXIT_CODES}
`;
}

export function commandHelp(c: CommandDef): string {
  return `Usage: ${c.usage}

${c.summary[0].toUpperCase()}${c.summary.slice(1)}.

Options:
${formatOptions(c.options)}

Example${c.examples.length > 1 ? 's' : ''}:
${c.examples.map((e) => '  ' + e).join('\n')}

${EXIT_CODES}
`;
}
