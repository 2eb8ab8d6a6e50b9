// The benchmark run: datasets in, one verified row per (tool, comparison point) out, written as JSON lines,
// Markdown and (when the plotting packages are installed) PNG + one self-contained HTML page.
// Every tool, tezip included, runs as whole processes: compress, then decompress, each timed from spawn to exit.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RawInputError, readRaw, rawPaths } from '../io/raw.js';
import { Anchor, Dataset, Point, Spec, anchorSpecs } from './anchors.js';
import { CheckMode, finiteRange, verify } from './verify.js';
import { MachineSummary, machineLine, machineSummary, timedRun } from './tools.js';
import { comparisons, datasetMarkdown, jsonSafe, machineMarkdown } from './report.js';

export type BenchMode = 'lossless' | 'abs' | 'rel' | 'pwrel';
export const BENCH_MODES: readonly BenchMode[] = ['lossless', 'abs', 'rel', 'pwrel'];
export const BENCH_PREDICTORS = ['auto', 'none', 'prev', 'lorenzo2d', 'lorenzo3d'] as const;

export interface BenchOptions {
  /** NAME.raw / NAME.json files, or folders holding such pairs. */
  inputs: string[];
  modes: readonly BenchMode[];
  /** ε lists; `abs` null = per dtype (1, 4 for integers; 1, 0.1 for floats, in data units). */
  bounds: { rel: number[]; abs: number[] | null; pwrel: number[] };
  anchors: ReadonlySet<Anchor>;
  /** tezip predictors run as extra rows at lossless and the middle rel bound ('auto' is the default row). */
  predictors: readonly string[];
  /** Thread counts: the first for every tezip row, the others as extra rows like the predictors. */
  threads: readonly number[];
  quick: boolean;
  out: string;
  plots: boolean;
  sz3Bin: string | null;
  /** Where the tables go (stdout) and the progress dots (stderr). */
  print: (s: string) => void;
  progress: (s: string) => void;
}

export interface Row {
  dataset: string;
  tool: string;
  series: string;
  comparison: string;
  kind: Point['kind'];
  /** The ε asked for (rel: fraction of the range; abs: data units; pwrel: fraction of |x|); null for lossless. */
  bound: number | null;
  /** What every tool in this comparison is checked against: absolute tolerance (abs family) or ε (pwrel). */
  tolerance: number | null;
  /** tolerance ÷ value range for the abs family (the x axis of the rate–distortion plot). */
  relTolerance: number | null;
  args: string;
  fedAs: string;
  threads: number;
  originalBytes: number;
  outputBytes?: number;
  ratio?: number;
  compSeconds?: number;
  decompSeconds?: number;
  compMBps?: number;
  decompMBps?: number;
  maxAbs?: number;
  maxPw?: number;
  psnr?: number;
  verified: 'yes' | 'FAIL';
  error?: string;
  quick: boolean;
}

export interface DatasetResult {
  ds: Dataset;
  rows: Row[];
  skipped: string[];
}

export interface BenchResult {
  machine: MachineSummary;
  datasets: DatasetResult[];
  failed: number;
  files: string[];
  notes: string[];
}

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(__dirname, '..', 'cli', 'main.js');
// tezip rows time the command users run: bin/tezip, which runs the native CLI (build/Release/tezip-cli) for
// plain raw compress/decompress and Node's CLI otherwise. Spawned directly, as the anchors are; its `node` is
// the one running the bench. Windows cannot run the sh script: Node's CLI there, as `tezip` does via npm.
const BIN = path.join(ROOT, 'bin', 'tezip');
const BIN_ENV = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
function tezipRun(args: string[]): number {
  return process.platform === 'win32' ? timedRun(process.execPath, [CLI, ...args]) : timedRun(BIN, args, undefined, BIN_ENV);
}

/** Expands folders into their NAME.json + NAME.raw pairs (sorted), keeps files as they are. */
export function resolveInputs(inputs: readonly string[]): string[] {
  const out: string[] = [];
  for (const inp of inputs) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(inp);
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) {
      const names = fs
        .readdirSync(inp)
        .filter((f) => f.endsWith('.json') && fs.existsSync(path.join(inp, f.slice(0, -5) + '.raw')))
        .sort();
      if (!names.length) throw new RawInputError('ENOENT', `no NAME.raw with a NAME.json sidecar in ${inp}`);
      out.push(...names.map((f) => path.join(inp, f)));
    } else out.push(inp);
  }
  return out;
}

/** A dataset name that is safe as a file name in the output folder. */
function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'data';
}

function loadDataset(input: string, quick: boolean, work: string): Dataset {
  const arr = readRaw(input);
  if (arr.shape.length !== 3 && arr.shape.length !== 4)
    throw new RawInputError('BAD_SIDECAR', `${arr.jsonPath}: bench takes frames shaped [T,H,W] or [T,H,W,C], got ${JSON.stringify(arr.shape)}`);
  if (arr.bytes === 0) throw new RawInputError('SIZE_MISMATCH', `${arr.rawPath} is empty`);
  const name = safeName(path.basename(rawPaths(input).rawPath).replace(/\.raw$/i, ''));
  let raw = Buffer.from(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const shape = arr.shape.slice();
  if (quick) {
    // The first 20% of the frames, at most ~4 MB, so that the slowest anchors (xz -9, x265) stay quick.
    const frameBytes = arr.bytes / shape[0];
    const frames = Math.max(1, Math.min(Math.ceil(shape[0] * 0.2), Math.floor(4e6 / frameBytes) || 1));
    shape[0] = frames;
    raw = raw.subarray(0, frames * frameBytes);
  }
  const dsWork = fs.mkdtempSync(path.join(work, name + '-'));
  const rawPath = path.join(dsWork, name + '.raw');
  fs.writeFileSync(rawPath, raw);
  fs.writeFileSync(path.join(dsWork, name + '.json'), JSON.stringify({ shape, dtype: arr.dtype }));
  const [min, max] = finiteRange(arr.data.subarray(0, raw.byteLength / arr.data.BYTES_PER_ELEMENT));
  return {
    name, dtype: arr.dtype, shape, fullShape: arr.shape, raw, rawPath, bytes: raw.byteLength,
    isFloat: arr.dtype.startsWith('float'), min, max, range: max - min, work: dsWork,
  };
}

const g = (x: number) => String(+x.toPrecision(6));

/** The comparison points of one dataset: lossless, the abs family (rel bounds turned into data units), pwrel. */
function pointsFor(ds: Dataset, o: BenchOptions): Point[] {
  const pts: Point[] = [];
  if (o.modes.includes('lossless')) pts.push({ kind: 'lossless', label: 'lossless' });
  if (o.modes.includes('rel'))
    for (const eps of o.bounds.rel) pts.push({ kind: 'abs', from: 'rel', eps, tol: eps * ds.range, label: `rel ${g(eps)}` });
  if (o.modes.includes('abs'))
    for (const eps of o.bounds.abs ?? (ds.isFloat ? [1, 0.1] : [1, 4])) pts.push({ kind: 'abs', from: 'abs', eps, tol: eps, label: `abs ${g(eps)}` });
  if (o.modes.includes('pwrel')) for (const eps of o.bounds.pwrel) pts.push({ kind: 'pwrel', eps, label: `pwrel ${g(eps)}` });
  return pts;
}

function tezipSpecs(ds: Dataset, points: Point[], o: BenchOptions): Spec[] {
  const specs: Spec[] = [];
  const mk = (pt: Point, extra: string[], threads: number, tool: string, series: string): Spec => {
    const flags = pt.kind === 'lossless' ? [] : pt.kind === 'pwrel' ? ['--pwrel', g(pt.eps)] : [`--${pt.from}`, g(pt.eps)];
    const all = [...flags, '--threads', String(threads), ...extra];
    return {
      tool, series, point: pt, args: `tezip compress ${all.join(' ')}`, fedAs: ds.dtype, threads,
      compress: (i, out) => tezipRun(['compress', i, '-o', out, ...all]),
      decompress: (out, d) => tezipRun(['decompress', out, '-o', d]),
    };
  };
  const t0 = o.threads[0] ?? 1;
  for (const pt of points) specs.push(mk(pt, [], t0, 'tezip', 'tezip'));
  // Variants at two points only (lossless and the middle rel bound), so the grid stays affordable.
  const rels = points.filter((p) => p.kind === 'abs' && p.from === 'rel');
  const mid = rels.find((p) => p.kind === 'abs' && p.eps === 1e-3) ?? rels[Math.floor(rels.length / 2)];
  const varPts = [points.find((p) => p.kind === 'lossless'), mid].filter((p): p is Point => p !== undefined);
  for (const pt of varPts) {
    for (const p of o.predictors) if (p !== 'auto') specs.push(mk(pt, ['--predictor', p], t0, `tezip (${p})`, `tezip (${p})`));
    for (const t of o.threads.slice(1)) specs.push(mk(pt, [], t, `tezip (${t} threads)`, `tezip (${t} threads)`));
  }
  return specs;
}

function check(pt: Point): [CheckMode, number] {
  return pt.kind === 'lossless' ? ['lossless', 0] : pt.kind === 'abs' ? ['abs', pt.tol] : ['pwrel', pt.eps];
}

export function runRow(ds: Dataset, spec: Spec, work: string, quick: boolean): Row {
  const out = path.join(work, 'out.bin');
  const dec = path.join(work, 'dec.raw');
  const pt = spec.point;
  const row: Row = {
    dataset: ds.name, tool: spec.tool, series: spec.series, comparison: pt.label, kind: pt.kind,
    bound: pt.kind === 'lossless' ? null : pt.eps,
    tolerance: pt.kind === 'lossless' ? null : pt.kind === 'abs' ? pt.tol : pt.eps,
    relTolerance: pt.kind === 'abs' ? (ds.range > 0 ? pt.tol / ds.range : null) : null,
    args: spec.args, fedAs: spec.fedAs, threads: spec.threads, originalBytes: ds.bytes, verified: 'FAIL', quick,
  };
  try {
    for (const f of [out, dec]) fs.rmSync(f, { force: true });
    const cs = spec.compress(spec.input ?? ds.rawPath, out);
    const outBytes = fs.statSync(out).size;
    const dsec = spec.decompress(out, dec);
    const [mode, bound] = check(pt);
    const v = verify(ds.raw, ds.dtype, fs.readFileSync(dec), spec.decDtype ?? ds.dtype, mode, bound);
    Object.assign(row, {
      outputBytes: outBytes, ratio: ds.bytes / outBytes, compSeconds: cs, decompSeconds: dsec,
      compMBps: ds.bytes / 1e6 / cs, decompMBps: ds.bytes / 1e6 / dsec,
      maxAbs: v.maxAbs, maxPw: v.maxPw, psnr: v.psnr, verified: v.ok ? 'yes' : 'FAIL',
    });
    if (!v.ok) row.error = v.why ?? `${v.bad} values outside the bound`;
  } catch (e) {
    row.verified = 'FAIL';
    row.error = String((e as Error).message ?? e).split('\n')[0];
  } finally {
    for (const f of [out, dec]) fs.rmSync(f, { force: true });
  }
  return row;
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  if (!fs.existsSync(CLI)) throw new RawInputError('ENOENT', `${CLI} not found; build first (npm run build)`);
  if (process.platform !== 'win32' && !fs.existsSync(BIN)) throw new RawInputError('ENOENT', `${BIN} not found`);
  const inputs = resolveInputs(o.inputs);
  fs.mkdirSync(o.out, { recursive: true });
  const jsonl = path.join(o.out, 'bench.jsonl');
  const mdFile = path.join(o.out, 'bench.md');
  fs.writeFileSync(jsonl, '');
  const write = (x: object) => fs.appendFileSync(jsonl, JSON.stringify(x, (_k, v) => jsonSafe(v)) + '\n');
  const machine = machineSummary(ROOT, o.sz3Bin);
  write({ type: 'machine', ...machine, quick: o.quick, date: new Date().toISOString() });
  const head = [
    `# tezip benchmark${o.quick ? ' (--quick)' : ''}`,
    '',
    machineMarkdown(machine),
    '',
    'Every tool runs as whole processes (start-up included): one to compress, one to decompress, each the fastest of ' +
      'up to 5 runs within about a second (slower commands run once); tezip with ' +
      `--threads ${o.threads[0] ?? 1} unless the row says otherwise, anchors single-threaded. MB/s = original bytes / seconds; ` +
      'ratio = original bytes / compressed bytes. Every output is decoded and checked by the harness: bit-exact ' +
      '(lossless), |x̂−x| ≤ tolerance (rel and abs rows: a rel ε is ε × the value range, the same tolerance for every ' +
      'tool) or |x̂−x| ≤ ε|x| (pwrel, only tools that guarantee it). Timings on a shared machine are noisy.',
  ].join('\n');
  o.print(machineLine(machine));
  fs.writeFileSync(mdFile, head + '\n');

  const result: BenchResult = { machine, datasets: [], failed: 0, files: [jsonl, mdFile], notes: [] };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-bench-'));
  try {
    const seen = new Set<string>();
    for (const input of inputs) {
      const ds = loadDataset(input, o.quick, work);
      if (seen.has(ds.name)) throw new RawInputError('DUPLICATE', `two datasets named ${ds.name}`);
      seen.add(ds.name);
      const points = pointsFor(ds, o);
      const skipped: string[] = [];
      const specs = [...tezipSpecs(ds, points, o), ...anchorSpecs(ds, points, new Set(o.anchors), o.sz3Bin, skipped)];
      const rows: Row[] = [];
      o.progress(`${ds.name}: `);
      for (const s of specs) {
        const r = runRow(ds, s, ds.work, o.quick);
        rows.push(r);
        write({ type: 'row', ...r });
        o.progress(r.verified === 'yes' ? '.' : 'F');
      }
      o.progress('\n');
      for (const s of skipped) write({ type: 'skipped', dataset: ds.name, what: s });
      fs.rmSync(ds.work, { recursive: true, force: true });
      ds.raw = Buffer.alloc(0); // the rows are all that is needed from here on
      result.failed += rows.filter((r) => r.verified !== 'yes').length;
      const dr: DatasetResult = { ds, rows, skipped };
      result.datasets.push(dr);
      const md = datasetMarkdown(dr, o.quick) + '\n\n' + comparisons(dr, o.quick);
      o.print('\n' + md);
      fs.appendFileSync(mdFile, '\n' + md + '\n');
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (o.plots) {
    try {
      const plots: typeof import('./plots.js') = require('./plots.js');
      const made = await plots.writePlots(result, o.out, o.quick);
      result.files.push(...made);
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      result.notes.push(`plots skipped: ${msg}`);
    }
  }
  const total = result.datasets.reduce((a, d) => a + d.rows.length, 0);
  const tail = [
    ...result.notes,
    result.failed ? `${result.failed} row(s) FAILED` : `all ${total} rows verified`,
  ];
  fs.appendFileSync(mdFile, '\n' + tail.join('\n\n') + '\n');
  o.print('');
  for (const f of result.files) o.print(`wrote ${f}`);
  for (const l of tail) o.print(l);
  return result;
}
