// `tezip watch DIR --to TARGET`: detector-side loop (see src/pipeline/watch.ts for the completeness rule).
import { UsageError } from './args.js';
import { boundFromOptions } from './compress.js';
import { intOption, remoteError, sendOptions, targetOption } from './send.js';
import type { CompressOptions } from '../types.js';
import type { WatchOptions } from '../pipeline/watch.js';

type Opts = Record<string, string | number | boolean | undefined>;

export async function run(positionals: string[], opts: Opts): Promise<number> {
  if (positionals.length !== 1) throw new UsageError(`watch takes one folder, got ${positionals.length} (try tezip watch --help)`);
  const target = targetOption(opts);
  const bound = boundFromOptions(opts);
  const o: WatchOptions = { ...sendOptions(opts) };
  const c: CompressOptions = {};
  if (bound.abs !== undefined) c.abs = bound.abs;
  if (bound.rel !== undefined) c.rel = bound.rel;
  if (bound.pwrel !== undefined) c.pwrel = bound.pwrel;
  if (typeof opts.predictor === 'string') c.predictor = opts.predictor as CompressOptions['predictor'];
  o.compress = c;
  const cf = intOption(opts, 'chunk-frames', 1, 1 << 20);
  if (cf !== undefined) o.chunkFrames = cf;
  const settle = intOption(opts, 'settle-ms', 0, 3600_000);
  if (settle !== undefined) o.settleMs = settle;
  const interval = intOption(opts, 'interval-ms', 10, 3600_000);
  if (interval !== undefined) o.intervalMs = interval;
  const maxWait = intOption(opts, 'max-wait-ms', 0, 86400_000);
  if (maxWait !== undefined) o.maxWaitMs = maxWait;
  const idle = intOption(opts, 'idle-exit', 0, 86400 * 365);
  if (idle !== undefined) o.idleExitMs = idle * 1000;
  const maxRun = intOption(opts, 'max-runtime', 0, 86400 * 365);
  if (maxRun !== undefined) o.maxRuntimeMs = maxRun * 1000;
  if (opts.once) o.once = true;
  if (opts['delete-after-verify']) o.deleteAfterVerify = true;
  if (typeof opts.prefix === 'string') {
    if (!/^[A-Za-z0-9._-]+$/.test(opts.prefix) || opts.prefix.startsWith('.')) throw new UsageError(`expected a plain name for --prefix but received ${JSON.stringify(opts.prefix)}`);
    o.prefix = opts.prefix;
  }
  o.log = (line) => {
    if (!opts.quiet) process.stderr.write(`tezip: ${line}\n`);
  };
  // SIGINT/SIGTERM: finish the chunk in hand (so the journal stays simple to resume), then stop.
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  o.signal = ac.signal;
  const { watchFolder } = require('../pipeline/watch.js') as typeof import('../pipeline/watch.js');
  try {
    const r = await watchFolder(positionals[0], target, o);
    process.stdout.write(
      `${r.chunks} chunk(s) of ${r.frames} frame(s) from ${r.files} file(s) sent to ${target.label} and verified` +
        `${r.resumedChunks ? `, ${r.resumedChunks} resumed from an earlier run` : ''}; ${r.deleted} source file(s) deleted\n`,
    );
  } catch (e) {
    throw remoteError(e);
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
  return 0;
}
