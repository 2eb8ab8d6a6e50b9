// `tezip bench DATA...`: tezip in every mode against the anchors installed here, every output verified by the
// harness (src/bench). Exit 1 when any row fails verification.
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from './args.js';
import { ANCHORS, Anchor } from '../bench/anchors.js';
import { BENCH_MODES, BENCH_PREDICTORS, BenchMode, BenchOptions, runBench } from '../bench/harness.js';

type Opts = Record<string, string | number | boolean | undefined>;

function list(opts: Opts, name: string): string[] | undefined {
  const v = opts[name];
  if (v === undefined) return undefined;
  const items = String(v).split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new UsageError(`expected a comma-separated list for --${name} but received ${JSON.stringify(v)}`);
  return items;
}

function positive(s: string, what: string, below1 = false): number {
  const n = s.trim() === '' ? NaN : Number(s);
  if (!Number.isFinite(n) || n <= 0 || (below1 && n >= 1))
    throw new UsageError(`expected a positive number${below1 ? ' below 1' : ''} for ${what} but received ${JSON.stringify(s)}`);
  return n;
}

/** `--bounds 1e-2,1e-3` (rel and pwrel) or `--bounds rel:1e-3,abs:0.5,pwrel:1e-2`. */
export function parseBounds(items: string[] | undefined): BenchOptions['bounds'] {
  if (!items) return { rel: [1e-2, 1e-3, 1e-4], abs: null, pwrel: [1e-2, 1e-3] };
  const b: BenchOptions['bounds'] = { rel: [], abs: [], pwrel: [] };
  let bare = false;
  for (const it of items) {
    const m = /^(rel|abs|pwrel)[:=](.*)$/.exec(it);
    if (m) {
      const k = m[1] as 'rel' | 'abs' | 'pwrel';
      b[k]!.push(positive(m[2], `--bounds ${k}`, k === 'pwrel'));
    } else {
      bare = true;
      const e = positive(it, '--bounds');
      b.rel.push(e);
      if (e < 1) b.pwrel.push(e);
    }
  }
  if (!b.abs!.length && bare) b.abs = null; // bare numbers say nothing about data units: keep the defaults
  return b;
}

export async function run(positionals: string[], opts: Opts): Promise<number> {
  if (!positionals.length) throw new UsageError('bench needs at least one DATA (NAME.raw, NAME.json or a folder of them)');
  const modes = (list(opts, 'modes') ?? [...BENCH_MODES]) as BenchMode[];
  for (const m of modes)
    if (!BENCH_MODES.includes(m)) throw new UsageError(`expected one of ${BENCH_MODES.join(', ')} in --modes but received ${JSON.stringify(m)}`);
  const bounds = parseBounds(list(opts, 'bounds'));

  const a = list(opts, 'anchors') ?? ['all'];
  let anchors: Set<Anchor>;
  if (a.length === 1 && a[0] === 'all') anchors = new Set(ANCHORS);
  else if (a.length === 1 && a[0] === 'none') anchors = new Set();
  else {
    for (const x of a)
      if (!(ANCHORS as readonly string[]).includes(x))
        throw new UsageError(`expected all, none or some of ${ANCHORS.join(', ')} in --anchors but received ${JSON.stringify(x)}`);
    anchors = new Set(a as Anchor[]);
  }

  const predictors = list(opts, 'predictors') ?? [...BENCH_PREDICTORS];
  for (const p of predictors)
    if (!(BENCH_PREDICTORS as readonly string[]).includes(p))
      throw new UsageError(`expected some of ${BENCH_PREDICTORS.join(', ')} in --predictors but received ${JSON.stringify(p)}`);

  const cores = os.cpus().length;
  const threads = (list(opts, 'threads') ?? (cores > 1 ? ['1', String(cores)] : ['1'])).map((t) => {
    const n = Number(t);
    if (!Number.isSafeInteger(n) || n < 1 || n > 1024) throw new UsageError(`expected positive integers in --threads but received ${JSON.stringify(t)}`);
    return n;
  });

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = path.resolve((opts.out as string | undefined) ?? `tezip-bench-${stamp}${opts.quick ? '-quick' : ''}`);
  const r = await runBench({
    inputs: positionals,
    modes,
    bounds,
    anchors,
    predictors,
    threads,
    quick: Boolean(opts.quick),
    out,
    plots: !opts['no-plots'],
    sz3Bin: process.env.SZ3_BIN ? path.resolve(process.env.SZ3_BIN) : null,
    print: (s) => process.stdout.write(s + '\n'),
    progress: (s) => process.stderr.write(s),
  });
  return r.failed ? 1 : 0;
}
