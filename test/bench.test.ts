// A tiny benchmark run (the shipped samples, --quick): every row verified, JSON + Markdown + PNG + HTML written;
// anchors that are not installed are reported as skipped, never as failures. A bad anchor shows as FAIL.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { verify } from '../src/bench/verify';
import { parseBounds } from '../src/cli/bench';

function findRoot(dir: string): string {
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}
const ROOT = findRoot(__dirname);
const CLI = path.join(ROOT, 'dist/cli/main.js');

function jsonl(file: string): Record<string, unknown>[] {
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

/** A fake tool first on PATH: compresses by copying, and decompresses by `decode` (a shell snippet). */
function fakeTool(dir: string, name: string, decode: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, name),
    [
      '#!/bin/sh',
      '[ "$1" = "--version" ] && { echo "fake"; exit 0; }',
      'prev=""; in=""; o=""; d=0',
      'for a in "$@"; do',
      '  [ "$a" = "-d" ] && d=1',
      '  if [ "$prev" = "-o" ]; then o="$a"; else case "$a" in -*) ;; *) in="$a";; esac; fi',
      '  prev="$a"',
      'done',
      `if [ $d = 1 ]; then ${decode}; else cat "$in" > "$o"; fi`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
}

describe('bench: harness verification', function () {
  const u8 = (a: number[]) => new Uint8Array(Uint8Array.from(a).buffer);
  const f32 = (a: number[]) => new Uint8Array(Float32Array.from(a).buffer);

  it('passes bit-exact output and fails a truncated or changed one', function () {
    assert.equal(verify(u8([1, 2, 3, 4]), 'uint8', u8([1, 2, 3, 4]), 'uint8', 'lossless', 0).ok, true);
    const cut = verify(u8([1, 2, 3, 4]), 'uint8', u8([1, 2, 3]), 'uint8', 'lossless', 0);
    assert.equal(cut.ok, false);
    assert.match(cut.why!, /decoded 3 values, expected 4/);
    const off = verify(u8([1, 2, 3, 4]), 'uint8', u8([1, 2, 3, 5]), 'uint8', 'lossless', 0);
    assert.equal(off.ok, false);
    assert.equal(off.maxAbs, 1);
  });

  it('checks widened copies value by value, and bounds element by element', function () {
    assert.equal(verify(u8([0, 255]), 'uint8', f32([0, 255]), 'float32', 'lossless', 0).ok, true);
    assert.equal(verify(u8([0, 255]), 'uint8', f32([0, 254.5]), 'float32', 'lossless', 0).ok, false);
    assert.equal(verify(f32([10, 20]), 'float32', f32([10.5, 20]), 'float32', 'abs', 0.5).ok, true);
    assert.equal(verify(f32([10, 20]), 'float32', f32([10.51, 20]), 'float32', 'abs', 0.5).bad, 1);
    assert.equal(verify(f32([10, 0]), 'float32', f32([10.05, 0]), 'float32', 'pwrel', 0.01).ok, true);
    assert.equal(verify(f32([10, 0]), 'float32', f32([10, 1e-30]), 'float32', 'pwrel', 0.01).ok, false);
    assert.equal(verify(f32([NaN, Infinity]), 'float32', f32([NaN, Infinity]), 'float32', 'abs', 1).ok, true);
    assert.equal(verify(f32([NaN, Infinity]), 'float32', f32([NaN, 3e38]), 'float32', 'abs', 1).ok, false);
  });

  it('parses --bounds lists', function () {
    assert.deepEqual(parseBounds(['1e-3']), { rel: [1e-3], abs: null, pwrel: [1e-3] });
    assert.deepEqual(parseBounds(['rel:1e-2', 'abs:0.5', 'pwrel=1e-2']), { rel: [1e-2], abs: [0.5], pwrel: [1e-2] });
    assert.throws(() => parseBounds(['pwrel:2']), /below 1/);
    assert.throws(() => parseBounds(['-1']), /positive number/);
  });
});

describe('bench: runs', function () {
  this.timeout(240000);
  let tmp: string;
  before(function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-bench-test-'));
  });
  after(function () {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('npm run bench -- --quick on the samples: every row verified, JSON + Markdown + PNG + HTML in --out', function () {
    const out = path.join(tmp, 'quick');
    const r = spawnSync(
      process.execPath,
      ['bench/run.mjs', '--quick', '--data', 'samples', '--datasets', 'era5_small,bulk_water_small', '--threads', '1', '--out', out],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^machine: .*cores.*node v/m);
    assert.match(r.stdout, /## era5_small: shape \[5,33,49\], float32/);
    assert.match(r.stdout, /## bulk_water_small/);
    assert.match(r.stdout, /\| comparison +\| tool +\| fed as +\| ratio/);
    assert.match(r.stdout, /all \d+ rows verified/);
    assert.doesNotMatch(r.stdout, /\bFAIL\b/);

    const recs = jsonl(path.join(out, 'bench.jsonl'));
    assert.equal(recs[0].type, 'machine');
    assert.ok(Array.isArray(recs[0].cpuFlags) && typeof recs[0].tools === 'object');
    const rows = recs.filter((x) => x.type === 'row');
    for (const row of rows) assert.equal(row.verified, 'yes', JSON.stringify(row));
    const tezip = rows.filter((x) => x.tool === 'tezip');
    assert.equal(tezip.length, 16, '8 comparison points × 2 datasets');
    for (const row of tezip) assert.ok((row.ratio as number) > 0 && (row.compMBps as number) > 0 && (row.decompMBps as number) > 0);
    // Predictor variants at lossless and rel 1e-3.
    assert.equal(rows.filter((x) => x.tool === 'tezip (lorenzo3d)').length, 4);
    // The same absolute tolerance for every tool in a rel comparison.
    const rel = rows.filter((x) => x.dataset === 'era5_small' && x.comparison === 'rel 0.001');
    assert.ok(rel.length >= 1);
    for (const x of rel) assert.equal(x.tolerance, rel[0].tolerance);
    // Skipped anchors are listed, not failed.
    const skipped = recs.filter((x) => x.type === 'skipped').map((x) => String(x.what));
    assert.ok(skipped.some((s) => /^SZ3/.test(s)) || process.env.SZ3_BIN);

    assert.match(fs.readFileSync(path.join(out, 'bench.md'), 'utf8'), /^# tezip benchmark \(--quick\)[\s\S]*- machine: [\s\S]*\| comparison/);
    for (const n of ['era5_small', 'bulk_water_small']) {
      const png = fs.readFileSync(path.join(out, `${n}.png`));
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.ok(png.byteLength > 20000, `${n}.png is ${png.byteLength} bytes`);
    }
    const html = fs.readFileSync(path.join(out, 'bench.html'), 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<svg/g) ?? []).length >= 2, true);
    assert.doesNotMatch(html, /<script|src="http|href="http/); // self-contained
  });

  it('shows a bad decoder as FAIL and exits 1', function () {
    // A fake `zstd` first on PATH whose decompression drops bytes: the harness must catch it, not trust it.
    const bin = path.join(tmp, 'fakebin');
    fakeTool(bin, 'zstd', 'head -c 10 "$in" > "$o"');
    const r = spawnSync(
      process.execPath,
      [CLI, 'bench', 'samples/era5_small.json', '--quick', '--modes', 'lossless', '--anchors', 'zstd', '--predictors', 'auto', '--threads', '1', '--no-plots', '--out', path.join(tmp, 'fake')],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` } },
    );
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\| lossless +\| zstd -3 +\|.*\| FAIL \(decoded 10 bytes/);
    assert.match(r.stdout, /\| lossless +\| zstd -19 +\|.*\| FAIL/);
    assert.match(r.stdout, /\| lossless +\| tezip +\|.*\| yes/);
    assert.match(r.stdout, /2 row\(s\) FAILED/);
  });

  it('runs SZ3 through SZ3_BIN with the same absolute tolerance, and skips it with a note without', function () {
    // A stand-in for SZ3's CLI (`-i IN -z CMP` compresses, `-z CMP -o OUT` decompresses) that stores the data
    // as it is: enough to check the harness's plumbing, not SZ3.
    const bin = path.join(tmp, 'sz3bin');
    fs.mkdirSync(bin, { recursive: true });
    const sz3 = path.join(bin, 'sz3');
    fs.writeFileSync(
      sz3,
      ['#!/bin/sh', 'i=""; z=""; o=""; prev=""', 'for a in "$@"; do', '  case "$prev" in -i) i="$a";; -z) z="$a";; -o) o="$a";; esac', '  prev="$a"', 'done',
        '[ "$1" = "-v" ] && { echo "SZ3 stand-in"; exit 0; }', 'if [ -n "$i" ]; then cat "$i" > "$z"; else cat "$z" > "$o"; fi', ''].join('\n'),
      { mode: 0o755 },
    );
    const args = [CLI, 'bench', 'samples/bulk_water_small.json', '--quick', '--modes', 'rel', '--bounds', '1e-2', '--anchors', 'sz3', '--predictors', 'auto', '--threads', '1', '--no-plots'];
    const r = spawnSync(process.execPath, [...args, '--out', path.join(tmp, 'sz3')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SZ3_BIN: sz3 } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const rows = jsonl(path.join(tmp, 'sz3', 'bench.jsonl')).filter((x) => x.type === 'row');
    const s = rows.find((x) => x.tool === 'SZ3')!;
    const t = rows.find((x) => x.tool === 'tezip')!;
    assert.equal(s.verified, 'yes');
    assert.equal(s.fedAs, 'int32 (widened from uint8)');
    assert.equal(s.tolerance, t.tolerance);
    assert.ok(String(s.args).endsWith(`-I 32 -3 128 128 2 -M ABS ${t.tolerance}`), String(s.args));

    const env = { ...process.env };
    delete env.SZ3_BIN;
    const r2 = spawnSync(process.execPath, [...args, '--out', path.join(tmp, 'nosz3')], { cwd: ROOT, encoding: 'utf8', env });
    assert.equal(r2.status, 0, r2.stdout + r2.stderr);
    assert.match(r2.stdout, /skipped: SZ3 \(not packaged in Debian; build it and set SZ3_BIN/);
  });

  it('anchors that are not installed are skipped with the package to install, not failed', function () {
    const empty = path.join(tmp, 'emptybin');
    fs.mkdirSync(empty, { recursive: true });
    const r = spawnSync(
      process.execPath,
      [CLI, 'bench', 'samples/bulk_water_small.json', '--quick', '--modes', 'lossless,pwrel', '--bounds', '1e-2', '--predictors', 'auto', '--threads', '1', '--no-plots', '--out', path.join(tmp, 'none')],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PATH: empty, SZ3_BIN: '' } },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const s of ['zstd (zstd not installed; apt-get install zstd)', 'xz (xz not installed; apt-get install xz-utils)', 'aec (aec not installed', 'fpzip (fpzip not installed', 'x265 (ffmpeg not installed; apt-get install ffmpeg)'])
      assert.ok(r.stdout.includes(s), s);
    assert.match(r.stdout, /all 2 rows verified/);
  });

  it('bench/kernels.mjs measures the native kernels in MB/s', function () {
    const out = path.join(tmp, 'kernels');
    const r = spawnSync(process.execPath, ['bench/kernels.mjs', '--quick', '--grep', '^(crc32c 4096|(en|de)codeChunk era5_small float32 lossless lorenzo3d)', '--out', out], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const recs = jsonl(path.join(out, 'kernels.jsonl'));
    assert.equal(recs[0].type, 'machine');
    const k = recs.filter((x) => x.type === 'kernel');
    assert.deepEqual(k.map((x) => x.name).sort(), ['crc32c 4096 bytes', 'decodeChunk era5_small float32 lossless lorenzo3d', 'encodeChunk era5_small float32 lossless lorenzo3d']);
    for (const x of k) assert.ok((x.MBps as number) > 0 && (x.hz as number) > 0, JSON.stringify(x));
    assert.match(fs.readFileSync(path.join(out, 'kernels.md'), 'utf8'), /\| crc32c 4096 bytes +\| \d/);
  });

  it('usage errors exit 2 with one line', function () {
    for (const extra of [[], ['samples', '--modes', 'lossy'], ['samples', '--anchors', 'gzip'], ['samples', '--bounds', '0'], ['samples', '--threads', '0']]) {
      const r = spawnSync(process.execPath, [CLI, 'bench', ...extra], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(r.status, 2, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^tezip: .+\n$/);
    }
    const r = spawnSync(process.execPath, [CLI, 'bench', path.join(tmp, 'nothing-here.json'), '--out', path.join(tmp, 'x')], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^tezip: sidecar not found/);
  });
});
