// The CLI on real inputs: PNG/TIFF folders, TIFF stacks, HDF5 datasets, stdin/stdout; stdout, stderr and exit
// codes for success and for each bad input; the progress bar; 100 bulk_water frames as PNG.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodePng, decodePng } from '../src/io/png';
import { Progress, formatDuration, renderProgress } from '../src/cli/progress';
import { TiffWriter } from '../src/io/tiff';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const DATA = path.resolve(ROOT, '../shared/data');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function tezip(args: string[], input?: Buffer): Run & { out: Buffer } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, input, env: { ...process.env, TEZIP_DEBUG: '' }, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), out: r.stdout };
}

function oneLineError(r: Run, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0], /^tezip: \S/);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(lines[0], /internal error/);
  assert.equal(r.stdout, '');
}

async function pngFolder(dir: string, names: string[], w: number, h: number, depth: 8 | 16, seed = 1): Promise<Buffer[]> {
  fs.mkdirSync(dir, { recursive: true });
  const frames: Buffer[] = [];
  names.forEach(() => undefined);
  for (let i = 0; i < names.length; i++) {
    const a = depth === 8 ? new Uint8Array(w * h) : new Uint16Array(w * h);
    for (let k = 0; k < a.length; k++) a[k] = ((k * 7 + i * 13 + seed) * (depth === 8 ? 1 : 257)) % (depth === 8 ? 256 : 65536);
    fs.writeFileSync(path.join(dir, names[i]), await encodePng(a, w, h, 1));
    frames.push(Buffer.from(a.buffer));
  }
  return frames;
}

describe('tezip CLI with image, TIFF, HDF5 and piped inputs', function () {
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-clif-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('success', function () {
    it('16-bit PNG folder → .tez → PNG folder with the original names, bit-exact; info and --json', async function () {
      const src = path.join(tmp, 'p16');
      const names = ['img_1.png', 'img_2.png', 'img_10.png', 'img_20.png'];
      const frames = await pngFolder(src, names, 13, 7, 16);
      const tez = path.join(tmp, 'p16.tez');
      const c = tezip(['compress', src, '-o', tez]);
      assert.equal(c.code, 0, c.stderr);
      assert.equal(c.stderr, '', 'no progress bar when stderr is not a terminal');
      assert.match(c.stdout, /p16 → .*p16\.tez: 4 frames uint16, 728 → \d+ bytes, ratio [\d.]+/);
      const i = tezip(['info', tez]);
      assert.equal(i.code, 0, i.stderr);
      assert.match(i.stdout, /source: +png-folder \(4 files: img_1\.png … img_20\.png\)/);
      assert.match(i.stdout, /model sha256: +—/);
      assert.match(i.stdout, /chunk +frames +bytes +ratio +predictor +method/);
      assert.match(i.stdout, /\b(stored|coded|zstd)\b/);
      const j = JSON.parse(tezip(['info', tez, '--json']).stdout);
      assert.deepEqual(j.metadata.source.files, names);
      assert.ok(['stored', 'coded', 'zstd', 'coded-rows'].includes(j.chunks[0].methodName));
      const out = path.join(tmp, 'p16_out');
      const d = tezip(['decompress', tez, '-o', out]);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /\(png, 4 files\)/);
      assert.deepEqual(fs.readdirSync(out).sort(), [...names].sort());
      for (let k = 0; k < names.length; k++) {
        const img = await decodePng(fs.readFileSync(path.join(out, names[k])), names[k]);
        assert.equal(img.dtype, 'uint16');
        assert.ok(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength).equals(frames[k]), names[k]);
      }
    });

    it('compress --json reports the input format, shape and a verified bound', async function () {
      const src = path.join(tmp, 'p8');
      await pngFolder(src, ['a1.png', 'a2.png', 'a3.png'], 20, 10, 8);
      const r = tezip(['compress', src, '-o', path.join(tmp, 'p8.tez'), '--abs', '2', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const o = JSON.parse(r.stdout);
      assert.equal(o.format, 'png');
      assert.deepEqual(o.shape, [3, 10, 20]);
      assert.equal(o.dtype, 'uint8');
      assert.equal(o.verified, true);
      assert.ok(o.maxAbsError <= 2);
    });

    it('float32 TIFF stack → .tez (rel bound) → TIFF stack, HDF5 and raw; each read back', function () {
      const T = 6;
      const H = 9;
      const W = 11;
      const data = Float32Array.from({ length: T * H * W }, (_, k) => Math.sin(k / 10) * 50 + 280);
      const stack = path.join(tmp, 'f32.tif');
      const w = new TiffWriter(stack, H, W, 1, 'float32');
      for (let t = 0; t < T; t++) w.addPage(data.subarray(t * H * W, (t + 1) * H * W));
      w.close();
      const tez = path.join(tmp, 'f32.tez');
      const c = tezip(['compress', stack, '-o', tez, '--rel', '1e-3', '--verify']);
      assert.equal(c.code, 0, c.stderr);
      assert.match(c.stdout, /verified/);
      // Back to a stack, to HDF5 and to raw; the stack and the dataset compress back within the same bound.
      assert.equal(tezip(['decompress', tez, '-o', path.join(tmp, 'f32_out.tif')]).code, 0);
      const h = tezip(['decompress', tez, '-o', path.join(tmp, 'f32.h5:/entry/data/data'), '--json']);
      assert.equal(h.code, 0, h.stderr);
      assert.equal(JSON.parse(h.stdout).format, 'h5');
      const again = tezip(['compress', path.join(tmp, 'f32.h5:/entry/data/data'), '-o', path.join(tmp, 'f32_h5.tez'), '--json']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(JSON.parse(again.stdout).format, 'hdf5');
      const fromTiff = tezip(['compress', path.join(tmp, 'f32_out.tif'), '-o', path.join(tmp, 'f32_2.tez'), '--json']);
      assert.equal(JSON.parse(fromTiff.stdout).verified, true);
      const raw = tezip(['decompress', tez, '-o', path.join(tmp, 'f32_out.raw'), '--format', 'raw']);
      assert.equal(raw.code, 0, raw.stderr);
      const rb = fs.readFileSync(path.join(tmp, 'f32_out.raw'));
      const back = new Float32Array(rb.buffer.slice(rb.byteOffset, rb.byteOffset + rb.byteLength));
      let min = Infinity;
      let max = -Infinity;
      for (const v of data) (min = Math.min(min, v)), (max = Math.max(max, v));
      for (let k = 0; k < data.length; k++) assert.ok(Math.abs(back[k] - data[k]) <= 1e-3 * (max - min), `value ${k}`);
    });

    it('- reads raw data from stdin and writes .tez / raw to stdout', function () {
      const raw = fs.readFileSync(path.join(ROOT, 'samples/bulk_water_small.raw'));
      const c = tezip(['compress', '-', '--shape', '10,128,128', '--dtype', 'uint8', '-o', '-'], raw);
      assert.equal(c.code, 0, c.stderr);
      assert.deepEqual([...c.out.subarray(1, 4)], [0x54, 0x45, 0x5a]);
      assert.match(c.stderr, /stdin → stdout/, 'the summary goes to stderr when stdout carries data');
      const i = tezip(['info', '-', '--json'], c.out);
      assert.deepEqual(JSON.parse(i.stdout).shape, [10, 128, 128]);
      const d = tezip(['decompress', '-', '-o', '-', '--quiet'], c.out);
      assert.equal(d.code, 0, d.stderr);
      assert.equal(d.stderr, '');
      assert.ok(d.out.equals(raw));
    });

    it('--frames with an image folder keeps the names of the frames written', async function () {
      const src = path.join(tmp, 'sub');
      await pngFolder(src, ['s1.png', 's2.png', 's3.png', 's4.png'], 4, 4, 8);
      const tez = path.join(tmp, 'sub.tez');
      assert.equal(tezip(['compress', src, '-o', tez, '--quiet']).stdout, '');
      const r = tezip(['decompress', tez, '-o', path.join(tmp, 'sub_out'), '--frames', '1:3']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(fs.readdirSync(path.join(tmp, 'sub_out')).sort(), ['s2.png', 's3.png']);
    });
  });

  describe('bad inputs: one line on stderr, non-zero exit, no output left behind', function () {
    it('a wrong path', function () {
      oneLineError(tezip(['compress', path.join(tmp, 'nope'), '-o', path.join(tmp, 'x.tez')]), 1, /input not found: .*nope/);
      oneLineError(tezip(['compress', path.join(tmp, 'nope.h5:/entry/data/data'), '-o', path.join(tmp, 'x.tez')]), 1, /input not found/);
      assert.equal(fs.existsSync(path.join(tmp, 'x.tez')), false);
    });
    it('an unreadable image', function () {
      const d = path.join(tmp, 'bad_png');
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'f1.png'), 'not a png');
      oneLineError(tezip(['compress', d, '-o', path.join(tmp, 'bad.tez')]), 1, /f1\.png is not a PNG file/);
      assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('.bad.tez') || f === 'bad.tez'), []);
    });
    it('frames of mixed sizes (found mid-run: the partial output is removed)', async function () {
      const d = path.join(tmp, 'mixed');
      await pngFolder(d, ['m1.png', 'm2.png'], 8, 8, 8);
      fs.writeFileSync(path.join(d, 'm3.png'), await encodePng(new Uint8Array(9 * 8), 9, 8, 1));
      const out = path.join(tmp, 'mixed.tez');
      oneLineError(tezip(['compress', d, '-o', out]), 1, /frames differ in .*m1\.png is 8×8 uint8 but m3\.png is 9×8 uint8/);
      assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('mixed.tez')), []);
    });
    it('frames of mixed dtypes', async function () {
      const d = path.join(tmp, 'mixed_dt');
      await pngFolder(d, ['m1.png'], 8, 8, 8);
      await pngFolder(d, ['m2.png'], 8, 8, 16);
      oneLineError(tezip(['compress', d, '-o', path.join(tmp, 'mdt.tez')]), 1, /uint8 but m2\.png is 8×8 uint16/);
    });
    it('an empty folder, a non-HDF5 file, a missing dataset', function () {
      const e = path.join(tmp, 'empty');
      fs.mkdirSync(e);
      oneLineError(tezip(['compress', e, '-o', path.join(tmp, 'e.tez')]), 1, /no PNG or TIFF files/);
      fs.writeFileSync(path.join(tmp, 'fake.h5'), 'hello');
      oneLineError(tezip(['compress', path.join(tmp, 'fake.h5'), '-o', path.join(tmp, 'e.tez')]), 1, /not an HDF5 file/);
      const h = path.join(tmp, 'f32.h5');
      if (fs.existsSync(h)) oneLineError(tezip(['compress', `${h}:/entry/none`, '-o', path.join(tmp, 'e.tez')]), 1, /has no dataset \/entry\/none/);
    });
    it('--format png for float data, an unknown --format, stdin without --shape', function () {
      const tez = path.join(tmp, 'era.tez');
      assert.equal(tezip(['compress', path.join(ROOT, 'samples/era5_small.raw'), '-o', tez, '--quiet']).code, 0);
      oneLineError(tezip(['decompress', tez, '-o', path.join(tmp, 'era_png'), '--format', 'png']), 1, /PNG holds uint8 or uint16 samples, not float32/);
      oneLineError(tezip(['decompress', tez, '-o', path.join(tmp, 'x'), '--format', 'gif']), 2, /expected one of png, tiff, h5, raw for --format/);
      oneLineError(tezip(['compress', '-', '-o', '-'], Buffer.alloc(4)), 2, /needs --shape/);
      oneLineError(tezip(['compress', '-', '--shape', '2,2,2', '--dtype', 'uint8', '-o', '-'], Buffer.alloc(5)), 1, /5 bytes but shape \[2,2,2\] of uint8 needs 8/);
      oneLineError(tezip(['compress', path.join(ROOT, 'samples/era5_small.raw'), '--shape', '1,2,3']), 2, /stdin/);
    });
    it('an unsafe file name stored in a .tez', function () {
      const lib = require(path.join(ROOT, 'dist/index.js'));
      const bytes = lib.compressSync({ data: new Uint8Array(8), shape: [2, 2, 2] }, { metadata: { source: { format: 'png-folder', files: ['a.png', '../../escape.png'] } } });
      const tez = path.join(tmp, 'evil.tez');
      fs.writeFileSync(tez, bytes);
      const out = path.join(tmp, 'evil_out');
      oneLineError(tezip(['decompress', tez, '-o', out]), 1, /refusing file name "..\/..\/escape.png"/);
      assert.equal(fs.existsSync(path.join(tmp, '..', 'escape.png')), false);
      const ok = tezip(['decompress', tez, '-o', out, '--plain-names']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(fs.readdirSync(out), ['frame_00000.png', 'frame_00001.png']);
    });
  });

  describe('progress bar', function () {
    it('renders frames, frames/s and ETA, fitted to the terminal', function () {
      const line = renderProgress('compress', 25, 100, 5, 80);
      assert.match(line, /^compress \[#+\.+\] 25\/100 frames {2}5\.00 frames\/s {2}ETA 0:15$/);
      assert.ok(line.length <= 79);
      assert.ok(renderProgress('compress', 1, 1e9, 1, 30).length <= 29);
      assert.equal(formatDuration(3725), '1:02:05');
      assert.equal(formatDuration(NaN), '--:--');
    });
    it('draws only on a terminal and not with --quiet', function () {
      const seen: string[] = [];
      const tty = { isTTY: true, columns: 60, write: (s: string) => seen.push(s) };
      const p = new Progress('decompress', 10, { stream: tty });
      p.update(10);
      p.done();
      assert.match(seen[0], /10\/10 frames/);
      assert.equal(seen[seen.length - 1], '\r\x1b[K');
      const quiet: string[] = [];
      new Progress('x', 10, { stream: { isTTY: true, write: (s: string) => quiet.push(s) }, quiet: true }).update(10);
      const pipe: string[] = [];
      new Progress('x', 10, { stream: { isTTY: false, write: (s: string) => pipe.push(s) } }).update(10);
      assert.deepEqual([quiet, pipe], [[], []]);
    });
  });

  describe('README examples with pipes', function () {
    it('each piped example in the README runs and exits 0', function () {
      const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
      const blocks = [...readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].map((m) => m[1]);
      const lines = blocks.flatMap((b) => b.split('\n')).map((l) => l.trim()).filter((l) => /\|\s*tezip |^cat .*\| *tezip/.test(l));
      assert.ok(lines.length >= 1, 'the README shows tezip in a pipe');
      const bin = path.join(tmp, 'bin');
      fs.mkdirSync(bin, { recursive: true });
      fs.writeFileSync(path.join(bin, 'tezip'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
      const dir = fs.mkdtempSync(path.join(tmp, 'readme-'));
      for (const line of lines) {
        const cmd = line.replace(/(^|\s)\/tmp\//g, `$1${dir}/`);
        const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { cwd: ROOT, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' });
        assert.equal(r.status, 0, `${line}\n${r.stderr}`);
      }
    });
  });

  describe('100 bulk_water frames as PNG', function () {
    const raw = path.join(DATA, 'bulk_water.raw');
    before(function () {
      if (!fs.existsSync(raw)) this.skip();
    });
    it('compress to the same ratio as the raw input; decoded PNGs hold identical pixels', async function () {
      this.timeout(300000);
      const meta = JSON.parse(fs.readFileSync(path.join(DATA, 'bulk_water.json'), 'utf8'));
      const [T, H, W] = meta.shape as number[];
      assert.equal(T, 100);
      const pixels = fs.readFileSync(raw);
      const dir = path.join(tmp, 'bulk_water_png');
      fs.mkdirSync(dir);
      const names = Array.from({ length: T }, (_, t) => `bulk_water_${t}.png`); // unpadded: natural sort matters
      for (let t = 0; t < T; t++) fs.writeFileSync(path.join(dir, names[t]), await encodePng(pixels.subarray(t * H * W, (t + 1) * H * W), W, H, 1));
      const fromPng = tezip(['compress', dir, '-o', path.join(tmp, 'bw_png.tez'), '--json']);
      const fromRaw = tezip(['compress', raw, '-o', path.join(tmp, 'bw_raw.tez'), '--json']);
      assert.equal(fromPng.code, 0, fromPng.stderr);
      assert.equal(fromRaw.code, 0, fromRaw.stderr);
      const p = JSON.parse(fromPng.stdout);
      const r = JSON.parse(fromRaw.stdout);
      assert.equal(p.inputBytes, r.inputBytes);
      assert.equal(p.verified, true);
      // Same frames in the same order → the same chunks, byte for byte; the files differ only by the header's
      // metadata (the PNG names), so the ratios agree to within that.
      const ip = JSON.parse(tezip(['info', path.join(tmp, 'bw_png.tez'), '--json']).stdout);
      const ir = JSON.parse(tezip(['info', path.join(tmp, 'bw_raw.tez'), '--json']).stdout);
      assert.deepEqual(ip.chunks.map((c: { payloadBytes: number }) => c.payloadBytes), ir.chunks.map((c: { payloadBytes: number }) => c.payloadBytes));
      const a = fs.readFileSync(path.join(tmp, 'bw_png.tez'));
      const b = fs.readFileSync(path.join(tmp, 'bw_raw.tez'));
      assert.ok(a.subarray(ip.chunks[0].offset, ip.fileBytes - 24 - (8 + 24 * ip.chunks.length + 4)).equals(b.subarray(ir.chunks[0].offset, ir.fileBytes - 24 - (8 + 24 * ir.chunks.length + 4))), 'chunk records identical');
      const metaBytes = Buffer.byteLength(JSON.stringify(ip.metadata)) - Buffer.byteLength(JSON.stringify(ir.metadata));
      assert.equal(p.outputBytes - r.outputBytes, metaBytes, 'sizes differ by the stored names only');
      assert.ok(Math.abs(p.ratio - r.ratio) / r.ratio < 0.01, `ratio ${p.ratio} vs ${r.ratio}`);
      process.stdout.write(`        bulk_water 100 frames: ratio from PNG ${p.ratio.toFixed(3)}, from raw ${r.ratio.toFixed(3)}\n`);
      // Decoded back to PNG under the same names, with identical pixels.
      const out = path.join(tmp, 'bw_out');
      const d = tezip(['decompress', path.join(tmp, 'bw_png.tez'), '-o', out]);
      assert.equal(d.code, 0, d.stderr);
      assert.deepEqual(fs.readdirSync(out).sort(), [...names].sort());
      for (let t = 0; t < T; t++) {
        const img = await decodePng(fs.readFileSync(path.join(out, names[t])), names[t]);
        assert.equal(img.channels, 1);
        assert.ok(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength).equals(pixels.subarray(t * H * W, (t + 1) * H * W)), names[t]);
      }
    });
  });
});
