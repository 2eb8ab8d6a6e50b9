// `tezip recover`: rebuilds a .tez file whose index or end is missing (a writer killed mid-stream, a copy cut
// short) from the chunk records whose checksums hold, and says how many frames it kept.
import * as path from 'node:path';
import { UsageError } from './args.js';
import { RawInputError } from '../io/raw.js';

type Opts = Record<string, string | number | boolean | undefined>;

export async function run(positionals: string[], opts: Opts): Promise<number> {
  if (positionals.length !== 1) throw new UsageError(`recover takes one input file, got ${positionals.length} (try tezip recover --help)`);
  const output = opts.output as string | undefined;
  if (!output) throw new UsageError('recover needs -o FIXED.tez');
  const input = positionals[0];
  if (path.resolve(output) === path.resolve(input)) throw new UsageError('output would overwrite the input');
  const lib: typeof import('../index.js') = require('../index.js');
  let r: import('../index.js').RecoverReport;
  try {
    r = await lib.recoverTez(input, output);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && (e as NodeJS.ErrnoException).path === input) {
      throw new RawInputError('ENOENT', `input not found: ${input}`);
    }
    throw e;
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify({ input, output, ...r }) + '\n');
    return 0;
  }
  const of = r.framesDeclared !== null ? ` of ${r.framesDeclared}` : '';
  process.stdout.write(
    `${input} → ${output}: kept ${r.framesKept}${of} frames (frames 0:${r.framesKept}) in ${r.chunksKept} chunks; ` +
      (r.intact ? 'the input was intact\n' : `stopped at ${r.stoppedBy}\n`),
  );
  if (r.skipped.length) {
    const frames = r.skipped.reduce((n, s) => n + s.frameCount, 0);
    const list = r.skipped.map((s) => `${s.firstFrame}:${s.firstFrame + s.frameCount}`).join(', ');
    process.stdout.write(`  ${r.skipped.length} intact chunks (${frames} frames: ${list}) lie after the damage and were not kept\n`);
  }
  return 0;
}
