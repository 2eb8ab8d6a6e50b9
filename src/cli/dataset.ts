// `tezip dataset export INPUT... -o DIR --nt N --val F`: training sequences as .tez shards + manifest.json.
import { UsageError } from './args.js';
import { intOption } from './send.js';
import type { ExportOptions } from '../pipeline/dataset.js';

type Opts = Record<string, string | number | boolean | undefined>;

export async function run(positionals: string[], opts: Opts): Promise<number> {
  const [sub, ...inputs] = positionals;
  if (sub !== 'export') throw new UsageError(sub === undefined ? 'dataset needs a subcommand: export' : `unknown dataset subcommand ${JSON.stringify(sub)} (expected export)`);
  if (inputs.length === 0) throw new UsageError('dataset export needs at least one INPUT (NAME.raw with NAME.json)');
  if (typeof opts.output !== 'string') throw new UsageError('missing -o DIR');
  const nt = intOption(opts, 'nt', 1, 10000);
  if (nt === undefined) throw new UsageError('missing --nt N (frames per training sequence)');
  const val = opts.val === undefined ? 0.1 : opts.val;
  if (typeof val !== 'number' || !(val >= 0 && val < 1)) throw new UsageError(`expected a fraction 0 ≤ F < 1 for --val but received ${val}`);
  const o: ExportOptions = { nt, val };
  const stride = intOption(opts, 'stride', 1, 1 << 30);
  if (stride !== undefined) o.stride = stride;
  const seed = intOption(opts, 'seed', 0, 2 ** 32 - 1);
  if (seed !== undefined) o.seed = seed;
  const per = intOption(opts, 'shard-sequences', 1, 1 << 30);
  if (per !== undefined) o.shardSequences = per;
  if (typeof opts.normalize === 'string') o.normalize = opts.normalize as ExportOptions['normalize'];
  if (opts.force) o.force = true;
  const { exportDataset } = require('../pipeline/dataset.js') as typeof import('../pipeline/dataset.js');
  const m = await exportDataset(inputs, opts.output, o);
  const summary = {
    output: opts.output,
    nt: m.nt,
    frameShape: m.frameShape,
    dtype: m.dtype,
    normalization: m.normalization,
    train: m.counts.train,
    val: m.counts.val,
    shards: m.shards.length,
    bytes: m.shards.reduce((n, s) => n + s.bytes, 0),
    sources: m.sources.length,
  };
  if (opts.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else
    process.stdout.write(
      `${opts.output}: ${summary.train} train + ${summary.val} val sequences of ${m.nt} frames ${m.frameShape.join('×')} ${m.dtype} in ${summary.shards} shard(s), ${summary.bytes} bytes, from ${summary.sources} source(s)\n`,
    );
  return 0;
}
