// A tiny benchmark run (the shipped samples, --quick): every row verified; anchors that are not installed are
// reported as skipped, never as failures.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

function findRoot(dir: string): string {
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}
const ROOT = findRoot(__dirname);

describe('bench/run.mjs --quick', function () {
  this.timeout(180000);
  let out: string;
  before(function () {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-bench-test-'));
  });
  after(function () {
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('verifies every row on the samples', function () {
    const r = spawnSync(
      process.execPath,
      ['bench/run.mjs', '--quick', '--data', 'samples', '--datasets', 'era5_small,bulk_water_small', '--out', out],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^machine: .*cores, node v/m);
    assert.match(r.stdout, /## era5_small/);
    assert.match(r.stdout, /## bulk_water_small/);
    assert.match(r.stdout, /\| tool +\| mode +\| bound +\| fed-as +\| ratio/);
    assert.match(r.stdout, /all rows verified/);
    assert.doesNotMatch(r.stdout, /\bFAIL\b/);

    const files = fs.readdirSync(out).filter((f) => f.endsWith('.jsonl'));
    assert.equal(files.length, 1);
    const recs = fs.readFileSync(path.join(out, files[0]), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(recs[0].type, 'machine');
    const rows = recs.filter((x) => x.type === 'row');
    const tezipRows = rows.filter((x) => x.tool === 'tezip');
    assert.equal(tezipRows.length, 16, '8 modes × 2 datasets');
    for (const row of rows) assert.equal(row.verified, 'yes', JSON.stringify(row));
    for (const row of tezipRows) assert.ok(row.ratio > 0 && row.compMBps > 0 && row.decompMBps > 0);
  });

  it('shows a bad decoder as FAIL and exits 1', function () {
    // A fake `zstd` first on PATH whose decompression drops bytes: the harness must catch it, not trust it.
    const bin = path.join(out, 'fakebin');
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, 'zstd'),
      [
        '#!/bin/sh',
        '[ "$1" = "--version" ] && { echo "fake zstd"; exit 0; }',
        'prev=""; in=""; o=""; d=0',
        'for a in "$@"; do',
        '  [ "$a" = "-d" ] && d=1',
        '  if [ "$prev" = "-o" ]; then o="$a"; else case "$a" in -*) ;; *) in="$a";; esac; fi',
        '  prev="$a"',
        'done',
        'if [ $d = 1 ]; then head -c 10 "$in" > "$o"; else cat "$in" > "$o"; fi',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const r = spawnSync(
      process.execPath,
      ['bench/run.mjs', '--quick', '--data', 'samples', '--datasets', 'era5_small', '--out', path.join(out, 'fake')],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` } },
    );
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\| zstd -3 +\|.*\| FAIL/);
    assert.match(r.stdout, /\| zstd -19 +\|.*\| FAIL/);
    assert.match(r.stdout, /2 row\(s\) FAILED/);
  });
});
