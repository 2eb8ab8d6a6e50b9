#!/usr/bin/env node
// Benchmark harness: tezip (through its CLI, as whole processes, one thread) against zstd, xz, libaec and fpzip
// on the shared datasets. Every decoded output is checked here, independently of the tool; a failed check
// shows as FAIL in the table and makes the run exit 1.
//
//   node bench/run.mjs [--quick] [--datasets a,b] [--data DIR] [--out DIR] [--no-anchors]
//
// See bench/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DTYPES, verify } from './verify.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(root, 'dist/cli/main.js');

// ---- arguments -------------------------------------------------------------------------------------------
const USAGE = 'usage: node bench/run.mjs [--quick] [--datasets a,b] [--data DIR] [--out DIR] [--no-anchors]';
function parse(argv) {
  const o = { quick: false, datasets: null, data: path.resolve(root, '../shared/data'), out: path.join(root, 'bench/out'), anchors: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (argv[i + 1] === undefined) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--no-anchors') o.anchors = false;
    else if (a === '--datasets') o.datasets = val().split(',').filter(Boolean);
    else if (a === '--data') o.data = path.resolve(val());
    else if (a === '--out') o.out = path.resolve(val());
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else usage(`unknown option ${a}`);
  }
  return o;
}
function usage(msg) {
  process.stderr.write(`bench: ${msg}\n${USAGE}\n`);
  process.exit(2);
}
const opts = parse(process.argv.slice(2));

// ---- references quoted from issue #2 (full datasets; not measured here) ----------------------------------------
const REF_SZ3_REL_1E3 = { calcium_imaging: 2.79, era5_t2m_uk: 8.45, bulk_water: 2.54, moving_mnist: 7.59 };
const REF_FPZIP_PWREL_1E2 = { calcium_imaging: 1.77, era5_t2m_uk: 31.2, bulk_water: 3.79, moving_mnist: 3.68 };
const DEFAULT_DATASETS = ['moving_mnist', 'bulk_water', 'calcium_imaging', 'era5_t2m_uk'];

// ---- helpers ---------------------------------------------------------------------------------------------------
function has(tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
}
function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return null;
  return ((r.stdout || '') + (r.stderr || '')).split('\n').find((l) => l.trim())?.trim() ?? null;
}
function dpkgVersion(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Runs a whole process, timing it; stdout optionally into a file. Throws with the tool's stderr on failure. */
function timedRun(cmd, args, stdoutFile) {
  const fd = stdoutFile ? fs.openSync(stdoutFile, 'w') : 'ignore';
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', fd, 'pipe'], maxBuffer: 1 << 26 });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.error) throw r.error;
    if (r.status !== 0) {
      const err = String(r.stderr || '').trim().split('\n').slice(-1)[0] || `exit ${r.status}`;
      throw new Error(`${path.basename(cmd)} exited ${r.status}: ${err}`);
    }
    return seconds;
  } finally {
    if (typeof fd === 'number') fs.closeSync(fd);
  }
}

function fmt(v, digits = 3) {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (v === 0) return '0';
  if (v === Infinity) return 'inf';
  if (Number.isNaN(v)) return 'nan';
  return Math.abs(v) >= 0.01 && Math.abs(v) < 1e5 ? String(+v.toPrecision(digits)) : v.toExponential(digits - 1);
}
function jsonSafe(v) {
  return typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf') : v;
}

// ---- datasets --------------------------------------------------------------------------------------------------
function loadDataset(name, work) {
  const meta = JSON.parse(fs.readFileSync(path.join(opts.data, name + '.json'), 'utf8'));
  const T = DTYPES[meta.dtype];
  if (!T) throw new Error(`${name}: unknown dtype ${meta.dtype}`);
  let raw = fs.readFileSync(path.join(opts.data, name + '.raw'));
  let shape = meta.shape.slice();
  const frameBytes = (raw.byteLength / shape[0]) | 0;
  if (opts.quick) {
    // First 20% of the frames, capped at ~4 MB so that the slowest anchors (xz -9, zstd -19) stay quick.
    const frames = Math.max(1, Math.min(Math.ceil(shape[0] * 0.2), Math.floor(4e6 / frameBytes) || 1));
    shape[0] = frames;
    raw = raw.subarray(0, frames * frameBytes);
  }
  const rawPath = path.join(work, name + '.raw');
  fs.writeFileSync(rawPath, raw);
  fs.writeFileSync(path.join(work, name + '.json'), JSON.stringify({ shape, dtype: meta.dtype }));
  return { name, meta, dtype: meta.dtype, shape, raw, rawPath, bytes: raw.byteLength, isFloat: meta.dtype.startsWith('float') };
}

/** Bits per sample of an integer dtype, for aec. */
const INT_BITS = { uint8: 8, uint16: 16, int16: 16, int32: 32 };

// ---- one row ---------------------------------------------------------------------------------------------------
/**
 * spec: {tool, mode, bound (ε), label (bound column), fedAs, compress(in,out)→s, decompress(out,dec)→s,
 *        decDtype, checkMode, checkBound, inputPath}
 */
function runRow(ds, spec, work) {
  const out = path.join(work, 'out.bin');
  const dec = path.join(work, 'dec.raw');
  const row = {
    dataset: ds.name, tool: spec.tool, mode: spec.mode, bound: spec.label ?? (spec.bound ?? ''), fedAs: spec.fedAs ?? ds.dtype,
    args: spec.args, originalBytes: ds.bytes, quick: opts.quick,
  };
  try {
    for (const f of [out, dec]) fs.rmSync(f, { force: true });
    const cs = spec.compress(spec.inputPath ?? ds.rawPath, out);
    const outBytes = fs.statSync(out).size;
    const ds2 = spec.decompress(out, dec);
    const v = verify(ds.raw, ds.dtype, fs.readFileSync(dec), spec.decDtype ?? ds.dtype, spec.checkMode ?? spec.mode, spec.checkBound ?? spec.bound);
    Object.assign(row, {
      outputBytes: outBytes, ratio: ds.bytes / outBytes, compSeconds: cs, decompSeconds: ds2,
      compMBps: ds.bytes / 1e6 / cs, decompMBps: ds.bytes / 1e6 / ds2,
      maxAbs: v.maxAbs, maxPw: v.maxPw, psnr: v.psnr, bad: v.bad, verified: v.ok ? 'yes' : 'FAIL',
    });
    if (!v.ok) row.error = v.why ?? `${v.bad} values outside the bound`;
  } catch (e) {
    Object.assign(row, { verified: 'FAIL', error: String(e.message ?? e).split('\n')[0] });
  } finally {
    for (const f of [out, dec]) fs.rmSync(f, { force: true });
  }
  return row;
}

// ---- the rows of one dataset ------------------------------------------------------------------------------
function tezipSpecs(ds) {
  const modes = [
    ['lossless', undefined],
    ['rel', 1e-2], ['rel', 1e-3], ['rel', 1e-4],
    ...(ds.isFloat ? [['abs', 1], ['abs', 0.1]] : [['abs', 1], ['abs', 4]]),
    ['pwrel', 1e-2], ['pwrel', 1e-3],
  ];
  return modes.map(([mode, bound]) => {
    const flags = mode === 'lossless' ? [] : [`--${mode}`, String(bound)];
    return {
      tool: 'tezip', mode, bound, args: `compress --threads 1 ${flags.join(' ')}`.trim(),
      compress: (i, o) => timedRun(process.execPath, [CLI, 'compress', i, '-o', o, '--threads', '1', ...flags]),
      decompress: (o, d) => timedRun(process.execPath, [CLI, 'decompress', o, '-o', d]),
    };
  });
}

function anchorSpecs(ds, work, skipped) {
  const specs = [];
  const need = (tool, why) => {
    if (has(tool)) return true;
    skipped.push(`${tool} (not installed${why ? '; ' + why : ''})`);
    return false;
  };
  if (need('zstd', 'apt-get install zstd'))
    for (const lvl of [3, 19])
      specs.push({
        tool: `zstd -${lvl}`, mode: 'lossless', args: `-${lvl} -T1`,
        compress: (i, o) => timedRun('zstd', [`-${lvl}`, '-T1', '-q', '-f', i, '-o', o]),
        decompress: (o, d) => timedRun('zstd', ['-d', '-q', '-f', o, '-o', d]),
      });
  if (need('xz', 'apt-get install xz-utils'))
    specs.push({
      tool: 'xz -9', mode: 'lossless', args: '-9 -T1',
      compress: (i, o) => timedRun('xz', ['-9', '-T1', '-c', i], o),
      decompress: (o, d) => timedRun('xz', ['-d', '-c', o], d),
    });
  if (INT_BITS[ds.dtype]) {
    if (need('aec', 'apt-get install libaec-tools')) {
      const n = INT_BITS[ds.dtype];
      const signed = ds.dtype.startsWith('int') ? ['-s'] : [];
      for (const [j, r] of [[16, 128], [64, 4096]]) {
        const flags = ['-n', String(n), '-j', String(j), '-r', String(r), ...signed];
        specs.push({
          tool: `aec -j ${j} -r ${r}`, mode: 'lossless', args: flags.join(' '),
          compress: (i, o) => timedRun('aec', [...flags, i, o]),
          decompress: (o, d) => timedRun('aec', ['-d', ...flags, o, d]),
        });
      }
    }
  } else skipped.push(`aec (integer samples only; ${ds.dtype} data)`);

  if (need('fpzip', 'apt-get install fpzip-utils')) {
    // fpzip takes floats: integer data is fed widened to float32 (said in the fed-as column).
    let input = ds.rawPath, fedAs = ds.dtype, type = ds.dtype === 'float64' ? 'double' : 'float', decDtype = ds.dtype;
    if (!ds.isFloat) {
      const src = new DTYPES[ds.dtype](ds.raw.buffer, ds.raw.byteOffset, ds.raw.byteLength / DTYPES[ds.dtype].BYTES_PER_ELEMENT);
      input = path.join(work, ds.name + '.f32');
      fs.writeFileSync(input, Buffer.from(Float32Array.from(src).buffer));
      fedAs = `float32 (widened from ${ds.dtype})`;
      decDtype = 'float32';
    }
    const [T, H, W, C = 1] = ds.shape;
    const dims = C === 1 ? ['-3', String(W), String(H), String(T)] : ['-4', String(W), String(H), String(T), String(C)];
    const fp = (p) => ({
      tool: 'fpzip', fedAs, inputPath: input, decDtype, args: `-t ${type}${p ? ` -p ${p}` : ''} ${dims.join(' ')}`,
      compress: (i, o) => timedRun('fpzip', ['-q', '-t', type, ...(p ? ['-p', String(p)] : []), ...dims, '-i', i, '-o', o]),
      decompress: (o, d) => timedRun('fpzip', ['-q', '-d', '-t', type, ...(p ? ['-p', String(p)] : []), ...dims, '-i', o, '-o', d]),
    });
    specs.push({ ...fp(0), mode: 'lossless', checkMode: ds.isFloat ? 'lossless' : 'abs', checkBound: 0 });
    // pwrel ε: the smallest precision (bits kept, sign and exponent included) whose output meets the bound,
    // searched from 9 + ⌈log2 1/ε⌉ − 2 upwards; the row is labelled with the precision it was fed.
    const full = type === 'double' ? 64 : 32;
    const exp = type === 'double' ? 12 : 9;
    for (const eps of [1e-2, 1e-3]) {
      specs.push({
        tool: 'fpzip', mode: 'pwrel', bound: eps, search: true,
        make: () => {
          let last;
          for (let p = Math.max(2, exp + Math.ceil(Math.log2(1 / eps)) - 2); p <= full; p++) {
            const s = { ...fp(p), mode: 'pwrel', bound: eps, label: `${eps} (-p ${p}, smallest passing)` };
            last = runRow(ds, s, work);
            if (last.verified === 'yes') return last;
          }
          return last;
        },
      });
    }
  }
  return specs;
}

// ---- output ---------------------------------------------------------------------------------------------------
const COLS = ['tool', 'mode', 'bound', 'fed-as', 'ratio', 'comp MB/s', 'decomp MB/s', 'max abs err', 'max pw-rel err', 'PSNR', 'verified'];
function tableRow(r) {
  return [
    r.tool, r.mode, String(r.bound ?? ''), r.fedAs, fmt(r.ratio), fmt(r.compMBps), fmt(r.decompMBps),
    fmt(r.maxAbs), fmt(r.maxPw), r.psnr === Infinity ? 'inf' : fmt(r.psnr, 4), r.verified + (r.error ? ` (${r.error})` : ''),
  ];
}
function markdown(rows) {
  const cells = rows.map(tableRow);
  const w = COLS.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((s, i) => s.padEnd(w[i])).join(' | ') + ' |';
  return [line(COLS), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...cells.map(line)].join('\n');
}

function comparisons(ds, rows) {
  const pick = (tool, mode, bound) => rows.find((r) => r.tool === tool && r.mode === mode && (bound === undefined || r.bound === bound) && r.verified === 'yes');
  const lines = [];
  const tl = pick('tezip', 'lossless');
  const anchors = rows.filter((r) => r.mode === 'lossless' && r.verified === 'yes' && /^(zstd -19|xz -9|aec\b)/.test(r.tool));
  const best = anchors.sort((a, b) => b.ratio - a.ratio)[0];
  lines.push(
    `- lossless: tezip ${tl ? fmt(tl.ratio) : 'n/a'} vs best of zstd -19 / xz -9 / aec: ${best ? `${fmt(best.ratio)} (${best.tool})` : 'n/a (anchors not run)'}` +
      (tl && best ? ` → ${tl.ratio >= best.ratio ? 'tezip ahead' : 'tezip behind'} by ×${fmt(Math.max(tl.ratio / best.ratio, best.ratio / tl.ratio))}` : ''),
  );
  const t3 = pick('tezip', 'rel', 1e-3);
  const sz = REF_SZ3_REL_1E3[ds.name];
  lines.push(`- rel 1e-3: tezip ${t3 ? fmt(t3.ratio) : 'n/a'} vs SZ3 ${sz ?? 'n/a'} — reference figure from issue #2 (not measured here)`);
  const p2 = pick('tezip', 'pwrel', 1e-2);
  const fpRef = REF_FPZIP_PWREL_1E2[ds.name];
  const fpMeas = rows.find((r) => r.tool === 'fpzip' && r.mode === 'pwrel' && String(r.bound).startsWith('0.01') && r.verified === 'yes');
  lines.push(
    `- pwrel 1e-2: tezip ${p2 ? fmt(p2.ratio) : 'n/a'} vs fpzip ${fpRef ?? 'n/a'} — reference figure from issue #2 (not measured here)` +
      (fpMeas ? `; fpzip measured here: ${fmt(fpMeas.ratio)} (${fpMeas.bound}, fed ${fpMeas.fedAs})` : ''),
  );
  if (opts.quick) lines.push('- (--quick: a subset of the frames; the references are for the whole datasets)');
  return lines.join('\n');
}

function machineSummary(anchors) {
  const cpus = os.cpus();
  const tools = anchors
    ? {
        zstd: firstLine('zstd', ['--version']),
        xz: firstLine('xz', ['--version']),
        aec: has('aec') ? `libaec-tools ${dpkgVersion('libaec-tools') ?? '?'}` : null,
        fpzip: has('fpzip') ? firstLine('fpzip', ['-h']) : null,
      }
    : {};
  let tezipVersion = null;
  try {
    tezipVersion = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  } catch {}
  return { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, platform: `${os.platform()} ${os.release()}`, tezip: tezipVersion, tools };
}

// ---- main -----------------------------------------------------------------------------------------------------
function main() {
  if (!fs.existsSync(CLI)) {
    process.stderr.write(`bench: ${path.relative(process.cwd(), CLI)} not found; build first (npm run build:ts)\n`);
    process.exit(1);
  }
  const names = opts.datasets ?? DEFAULT_DATASETS;
  for (const n of names)
    if (!fs.existsSync(path.join(opts.data, n + '.json'))) usage(`dataset ${n} not found in ${opts.data}`);
  fs.mkdirSync(opts.out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const jsonl = path.join(opts.out, `bench-${stamp}${opts.quick ? '-quick' : ''}.jsonl`);
  const summary = machineSummary(opts.anchors);
  const write = (o) => fs.appendFileSync(jsonl, JSON.stringify(o, (k, v) => jsonSafe(v)) + '\n');
  write({ type: 'machine', ...summary, quick: opts.quick, date: new Date().toISOString() });
  console.log(`machine: ${summary.cpu}, ${summary.cores} cores, node ${summary.node}, ${summary.platform}; tezip ${summary.tezip}; ` +
    Object.entries(summary.tools).map(([k, v]) => `${k}: ${v ?? 'not installed'}`).join('; '));
  console.log('Whole processes are timed (start-up included), tezip with --threads 1, anchors single-threaded; MB/s = original bytes / seconds.');

  let failed = 0;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-bench-'));
  try {
    for (const name of names) {
      const ds = loadDataset(name, work);
      const skipped = [];
      const specs = [...tezipSpecs(ds), ...(opts.anchors ? anchorSpecs(ds, work, skipped) : [])];
      const rows = [];
      process.stderr.write(`${name}: `);
      for (const s of specs) {
        const r = s.search ? s.make() : runRow(ds, s, work);
        rows.push(r);
        write({ type: 'row', ...r });
        process.stderr.write(r.verified === 'yes' ? '.' : 'F');
      }
      process.stderr.write('\n');
      failed += rows.filter((r) => r.verified !== 'yes').length;
      const sub = opts.quick ? ` (--quick: frames 0..${ds.shape[0] - 1} of ${ds.meta.shape[0]})` : '';
      console.log(`\n## ${name}: shape ${JSON.stringify(ds.shape)}, ${ds.dtype}, ${ds.bytes} bytes${sub}\n`);
      console.log(markdown(rows));
      if (skipped.length) console.log(`\nskipped: ${skipped.join('; ')}`);
      console.log('\n' + comparisons(ds, rows));
      for (const s of skipped) write({ type: 'skipped', dataset: name, what: s });
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nJSON lines: ${path.relative(process.cwd(), jsonl)}`);
  console.log(failed ? `${failed} row(s) FAILED` : 'all rows verified');
  process.exitCode = failed ? 1 : 0;
}

main();
