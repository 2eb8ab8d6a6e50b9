// `tezip decompress --frames / --ignore-damaged` and `tezip recover` as users run them: whole processes,
// checked on stdout, stderr, exit code and the bytes written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tezip from '../src/index';
import { makeFrames } from './support';

function findRoot(dir: string): string {
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}
const ROOT = findRoot(__dirname);
const CLI = path.join(ROOT, 'dist/cli/main.js');

function tezipCli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, TEZIP_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI: decompress --frames, --ignore-damaged; recover', function () {
  this.timeout(60000);
  let tmp: string;
  let tez: string;
  const shape = [12, 6, 7];
  const data = makeFrames('int16', shape, 2);
  const fl = 6 * 7;
  let bytes: Buffer;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-ccli-'));
    tez = path.join(tmp, 'a.tez');
    bytes = Buffer.from(await tezip.compress({ data, shape }, { chunkFrames: 3 }));
    fs.writeFileSync(tez, bytes);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const rawOf = (p: string) => new Int16Array(new Uint8Array(fs.readFileSync(p)).buffer);

  it('--frames A:B writes frames A to B−1 and a sidecar with their shape', () => {
    for (const [spec, a, b] of [['4:9', 4, 9], ['10:', 10, 12], [':2', 0, 2], ['7', 7, 8]] as const) {
      const out = path.join(tmp, `f${a}.raw`);
      const r = tezipCli(['decompress', tez, '--frames', spec, '-o', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`frames ${a}:${b} of 12`));
      assert.deepEqual(Array.from(rawOf(out)), Array.from(data.subarray(a * fl, b * fl)));
      assert.deepEqual(JSON.parse(fs.readFileSync(out.replace(/\.raw$/, '.json'), 'utf8')).shape, [b - a, 6, 7]);
    }
  });

  it('bad --frames are usage errors (exit 2)', () => {
    for (const spec of ['5-9', 'a:b', '3:3', '0:13', '12', '-1:3']) {
      const r = tezipCli(['decompress', tez, '--frames', spec, '-o', path.join(tmp, 'x.raw')]);
      assert.equal(r.code, 2, `${spec}: ${r.stderr}`);
      assert.match(r.stderr, /^tezip: .*frames/);
    }
  });

  it('a damaged chunk: exit 1 naming it; --ignore-damaged writes the rest, zeros for it, and lists it', () => {
    const layout = tezip.container.openContainer(bytes, 1 << 30);
    const x = Buffer.from(bytes);
    x[layout.entries[2].offset + 40] ^= 0x20;
    const bad = path.join(tmp, 'bad.tez');
    fs.writeFileSync(bad, x);
    const r = tezipCli(['decompress', bad, '-o', path.join(tmp, 'bad.raw')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^tezip: .*chunk 2 \(frames 6–8\).*--ignore-damaged/);
    assert.equal(r.stderr.trim().split('\n').length, 1);

    const ok = tezipCli(['decompress', bad, '-o', path.join(tmp, 'bad.raw'), '--ignore-damaged']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /^tezip: chunk 2 damaged, frames 6:9 written as zeros \(TEZ_CHECKSUM/);
    assert.match(ok.stdout, /3 frames in 1 damaged chunks written as zeros/);
    const want = Int16Array.from(data);
    want.fill(0, 6 * fl, 9 * fl);
    assert.deepEqual(Array.from(rawOf(path.join(tmp, 'bad.raw'))), Array.from(want));
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(tmp, 'bad.json'), 'utf8')).damaged, [{ chunk: 2, frames: [6, 9] }]);
    // Frames outside the damaged chunk need no flag.
    assert.equal(tezipCli(['decompress', bad, '--frames', '9:12', '-o', path.join(tmp, 'tail.raw')]).code, 0);
  });

  it('recover: a cut file keeps its complete chunks and says how many frames', () => {
    const layout = tezip.container.openContainer(bytes, 1 << 30);
    const cutAt = layout.entries[3].offset + 10; // chunks 0–2 complete
    const cut = path.join(tmp, 'cut.tez');
    fs.writeFileSync(cut, bytes.subarray(0, cutAt));
    const d = tezipCli(['decompress', cut, '-o', path.join(tmp, 'cut.raw')]);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /TEZ_TRUNCATED|truncated/i);
    assert.match(d.stderr, /tezip recover/);
    const fixed = path.join(tmp, 'fixed.tez');
    const r = tezipCli(['recover', cut, '-o', fixed]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kept 9 of 12 frames \(frames 0:9\) in 3 chunks; stopped at the end of the file inside the record/);
    const dec = tezip.decompressSync(fs.readFileSync(fixed));
    assert.deepEqual(Array.from(dec.data), Array.from(data.subarray(0, 9 * fl)));
  });

  it('recover: usage and data errors', () => {
    assert.equal(tezipCli(['recover', tez]).code, 2);
    assert.equal(tezipCli(['recover', tez, '-o', tez]).code, 2);
    const missing = tezipCli(['recover', path.join(tmp, 'absent.tez'), '-o', path.join(tmp, 'y.tez')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^tezip: input not found/);
    const tiny = path.join(tmp, 'tiny.tez');
    fs.writeFileSync(tiny, bytes.subarray(0, 200));
    const r = tezipCli(['recover', tiny, '-o', path.join(tmp, 'y.tez')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^tezip: No complete chunk to recover/);
    const intact = tezipCli(['recover', tez, '-o', path.join(tmp, 'same.tez')]);
    assert.match(intact.stdout, /the input was intact/);
    assert.ok(fs.readFileSync(path.join(tmp, 'same.tez')).equals(bytes));
  });
});
