// The native fast path of the `tezip` command (build/Release/tezip-cli, native/cli/main.cc) against Node's CLI
// (dist/cli/main.js): for plain raw compress/decompress it must write byte for byte what Node writes, and for
// everything else (other inputs and outputs, options it does not take, every error) it must decline with exit
// code 100 before writing anything, so that bin/tezip's fallback to Node gives exactly Node's result.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTez } from '../src/index';
import type { DType, TypedArray } from '../src/index';
import { crc32c } from '../src/native';
import { DTYPES, bytesOf, isFloat, makeFrames, rng, sprinkleSpecials } from './support';

function findRoot(dir: string): string {
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + __dirname);
    dir = up;
  }
  return dir;
}

const ROOT = findRoot(__dirname);
const NODE_CLI = path.join(ROOT, 'dist/cli/main.js');
// The sanitizer tier (scripts/sanitize.sh) points TEZIP_NATIVE_CLI_BIN at its ASan/UBSan build of the native CLI.
const NATIVE = process.env.TEZIP_NATIVE_CLI_BIN || path.join(ROOT, 'build/Release/tezip-cli');
const BIN = path.join(ROOT, 'bin/tezip');
const DATA_DIR = path.resolve(ROOT, '..', 'shared', 'data');
const DECLINE = 100;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// bin/tezip runs `node` from PATH: the one running the tests comes first.
const ENV = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`, TEZIP_DEBUG: '', TEZIP_NATIVE_CLI: '' };

function spawn(cmd: string, args: string[], opts: { env?: Record<string, string>; input?: Buffer; cwd?: string } = {}): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...ENV, ...opts.env }, input: opts.input, cwd: opts.cwd, timeout: 120000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const node = (args: string[], opts: Parameters<typeof spawn>[2] = {}) => spawn(process.execPath, [NODE_CLI, ...args], opts);
// TEZIP_DEBUG=1: a decline says why on stderr, which then shows in a failed assertion. LD_PRELOAD cleared: under
// npm run test:sanitize it preloads the ASan runtime for node, and this binary is not instrumented.
const native = (args: string[], opts: Parameters<typeof spawn>[2] = {}) =>
  spawn(NATIVE, args, { ...opts, env: { TEZIP_DEBUG: '1', LD_PRELOAD: '', ...opts.env } });
const bin = (args: string[], opts: Parameters<typeof spawn>[2] = {}) => spawn(BIN, args, opts);

/** The summary line with the timing-dependent speed masked. */
const unTimed = (s: string) => s.replace(/, [^ ,]+ MB\/s,/g, ', X MB/s,').replace(/"(seconds|MBps|decompressSeconds)":[^,}]+/g, '"$1":X');

function writePair(dir: string, name: string, data: TypedArray | Uint8Array, shape: number[], dtype: DType, ext = '.raw'): string {
  const raw = path.join(dir, name + ext);
  fs.writeFileSync(raw, bytesOf(data as TypedArray));
  fs.writeFileSync(path.join(dir, name + '.json'), JSON.stringify({ shape, dtype }));
  return raw;
}

/** Every file under `dir` (names relative to it, dotfiles included) with its bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        out.set(path.relative(dir, p) + '/', Buffer.alloc(0));
        walk(p);
      } else out.set(path.relative(dir, p), e.isFile() ? fs.readFileSync(p) : Buffer.from('link'));
    }
  };
  walk(dir);
  return out;
}

function assertSameFiles(a: Map<string, Buffer>, b: Map<string, Buffer>, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: the same files`);
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), `${what}: ${k} differs`);
}

describe('native CLI (build/Release/tezip-cli) against Node\'s CLI', function () {
  this.timeout(300000);
  let tmp: string;
  let caseNo = 0;
  const newDir = (label: string) => {
    const d = path.join(tmp, `${String(++caseNo).padStart(3, '0')}-${label.replace(/[^\w.-]+/g, '_').slice(0, 40)}`);
    fs.mkdirSync(d);
    return d;
  };

  before(function () {
    if (!fs.existsSync(NODE_CLI)) throw new Error(`${NODE_CLI} missing: run npm run build:ts`);
    if (!fs.existsSync(NATIVE)) {
      // Not built on Windows (CMakeLists.txt), nor where cmake-js did not run; bin/tezip then always runs Node.
      console.log(`    skipped: ${path.relative(ROOT, NATIVE)} is not built on this platform (npm install builds it on POSIX systems)`);
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-native-cli-'));
  });
  after(function () {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /**
   * Compresses `input` with both CLIs (same extra arguments), checks the .tez files and summary lines are
   * identical, then decompresses that .tez with both and checks the .raw, the .json and the summary lines.
   */
  function sameBytes(input: string, extra: string[], label: string, opts: { decompressAs?: string } = {}): string {
    const dir = newDir(label);
    const nDir = path.join(dir, 'node');
    const cDir = path.join(dir, 'native');
    fs.mkdirSync(nDir);
    fs.mkdirSync(cDir);
    const outN = path.join(nDir, 'out.tez');
    const outC = path.join(cDir, 'out.tez');
    const rn = node(['compress', input, '-o', outN, ...extra]);
    assert.equal(rn.code, 0, `node compress ${label}: ${rn.stderr}`);
    const rc = native(['compress', input, '-o', outC, ...extra]);
    assert.equal(rc.code, 0, `native compress ${label}: ${rc.stderr}`);
    assert.equal(rc.stderr, '');
    const tn = fs.readFileSync(outN);
    assert.ok(tn.equals(fs.readFileSync(outC)), `${label}: native .tez differs from Node's (${fs.statSync(outC).size} vs ${tn.length} bytes)`);
    assert.equal(unTimed(rc.stdout).replace(outC, 'OUT'), unTimed(rn.stdout).replace(outN, 'OUT'), `${label}: summary line`);
    assert.deepEqual(fs.readdirSync(cDir), ['out.tez'], 'no temporary file left');

    const as = opts.decompressAs ?? 'dec.raw';
    const dn = node(['decompress', outN, '-o', path.join(nDir, as)]);
    assert.equal(dn.code, 0, `node decompress ${label}: ${dn.stderr}`);
    const dc = native(['decompress', outN, '-o', path.join(cDir, as)]);
    assert.equal(dc.code, 0, `native decompress ${label}: ${dc.stderr}`);
    assert.equal(dc.stderr, '');
    for (const f of ['dec.raw', 'dec.json']) {
      assert.ok(fs.readFileSync(path.join(nDir, f)).equals(fs.readFileSync(path.join(cDir, f))), `${label}: decompressed ${f} differs`);
    }
    assert.equal(dc.stdout.split(path.join(cDir, 'dec')).join('OUT'), dn.stdout.split(path.join(nDir, 'dec')).join('OUT'), `${label}: decompress summary line`);
    assert.deepEqual(fs.readdirSync(cDir).sort(), ['dec.json', 'dec.raw', 'out.tez'], 'no temporary file left');
    return cDir;
  }

  describe('writes what Node writes', function () {
    // Bound flags per mode; absolute bounds in units of the data.
    const MODES: Record<string, (d: DType) => string[]> = {
      lossless: () => [],
      abs: (d) => ['--abs', isFloat(d) ? '0.25' : '3'],
      rel: () => ['--rel', '1e-3'],
      absrel: (d) => ['--abs', isFloat(d) ? '0.5' : '40', '--rel', '1e-2'],
      pwrel: () => ['--pwrel', '1e-2'],
    };
    const SETTINGS = [
      [],
      ['--predictor', 'prev', '--chunk-frames', '2', '--threads', '1'],
      ['--predictor', 'lorenzo3d', '--level', '2', '--threads', '3', '--chunk-frames', '3'],
      ['--predictor', 'none', '--level', '0', '-q'],
      ['--predictor', 'lorenzo2d', '--chunk-frames=1', '--threads=2'],
    ];
    const SHAPES = [
      [6, 9, 11],
      [5, 7, 6, 3],
    ];
    let k = 0;
    DTYPES.forEach((dtype, di) => {
      for (const [mode, flags] of Object.entries(MODES)) {
        SHAPES.forEach((shape, si) => {
          const settings = SETTINGS[k++ % SETTINGS.length];
          const label = `${dtype} [${shape}] ${mode} ${settings.join(' ')}`.trim();
          it(label, function () {
            const data = makeFrames(dtype, shape, 100 * di + 10 * si + 1);
            if (isFloat(dtype)) sprinkleSpecials(data as Float32Array | Float64Array, di + si);
            const dir = newDir('in');
            sameBytes(writePair(dir, 'a', data, shape, dtype), [...flags(dtype), ...settings], label);
          });
        });
      }
    });

    it('[T, H, W, 1]: an explicit single channel stays in the shape', function () {
      const shape = [4, 8, 8, 1];
      const dir = newDir('in');
      const out = sameBytes(writePair(dir, 'c1', makeFrames('uint16', shape, 5), shape, 'uint16'), ['--rel', '1e-3'], 'uint16 [4,8,8,1]');
      const side = JSON.parse(fs.readFileSync(path.join(out, 'dec.json'), 'utf8'));
      assert.deepEqual(side.shape, shape);
    });

    for (const dtype of ['float32', 'float64'] as const) {
      for (const first of [-0, 0]) {
        it(`${dtype}: −0 and +0 both the minimum, ${Object.is(first, -0) ? '−0' : '+0'} first (rel, absrel, lossless)`, function () {
          const shape = [4, 3, 5];
          const data = makeFrames(dtype, shape, 9);
          for (let i = 0; i < data.length; i++) data[i] = Math.abs(data[i]) + 1;
          data[2] = first;
          data[31] = Object.is(first, -0) ? 0 : -0;  // in another chunk with --chunk-frames 1
          data[50] = NaN;
          data[51] = -Infinity;
          const dir = newDir('in');
          const input = writePair(dir, 'z', data, shape, dtype);
          for (const extra of [['--rel', '1e-2'], ['--abs', '1', '--rel', '1e-3', '--chunk-frames', '1'], ['--chunk-frames', '1'], ['--pwrel', '0.1']])
            sameBytes(input, extra, `${dtype} ±0 ${extra.join(' ')}`);
        });
      }
      it(`${dtype}: no finite value, and a constant array (rel has no range)`, function () {
        const shape = [3, 4, 4];
        const nan = new (dtype === 'float32' ? Float32Array : Float64Array)(48).fill(NaN);
        nan[5] = Infinity;
        const dir = newDir('in');
        for (const extra of [['--rel', '1e-3'], ['--abs', '1', '--rel', '1e-3'], []]) sameBytes(writePair(dir, 'nan', nan, shape, dtype), extra, `${dtype} no finite ${extra}`);
        const flat = new (dtype === 'float32' ? Float32Array : Float64Array)(48).fill(-2.5);
        for (const extra of [['--rel', '1e-3'], ['--pwrel', '1e-3']]) sameBytes(writePair(dir, 'flat', flat, shape, dtype), extra, `${dtype} constant ${extra}`);
      });
    }

    it('the other ways of naming the input and the output', function () {
      const shape = [3, 5, 4];
      const data = makeFrames('int16', shape, 3);
      const dir = newDir('names');
      const input = writePair(dir, 'x', data, shape, 'int16');
      // NAME.json, NAME (no extension), NAME.bin + NAME.json, and decompressing to NAME.json
      sameBytes(path.join(dir, 'x.json'), [], 'input as x.json');
      sameBytes(path.join(dir, 'x'), ['--abs', '2'], 'input as x');
      sameBytes(writePair(dir, 'y', data, shape, 'int16', '.bin'), [], 'input as y.bin');
      sameBytes(input, ['--quiet', '--abs=1', '--predictor=lorenzo'], 'long option forms, decompressing to NAME.json', { decompressAs: 'dec.json' });
      // file names that JSON escapes (stored in the header's metadata): quote, backslash, tab, non-ASCII
      sameBytes(writePair(dir, 'we"ird\\ é\tname', data, shape, 'int16'), [], 'odd file name');
      // no -o: NAME.tez next to the input, from either CLI
      for (const who of ['node', 'native'] as const) {
        const d = path.join(dir, who);
        fs.mkdirSync(d, { recursive: true });
        writePair(d, 'dflt', data, shape, 'int16');
        const r = (who === 'node' ? node : native)(['compress', path.join(d, 'dflt.raw'), '-q']);
        assert.equal(r.code, 0, r.stderr);
      }
      assert.ok(fs.readFileSync(path.join(dir, 'node', 'dflt.tez')).equals(fs.readFileSync(path.join(dir, 'native', 'dflt.tez'))), 'default output');
      // relative paths, run from the input's folder
      const rn = node(['compress', 'x.raw', '-o', 'rel-node.tez'], { cwd: dir });
      const rc = native(['compress', 'x.raw', '-o', 'rel-native.tez'], { cwd: dir });
      assert.equal(rn.code, 0, rn.stderr);
      assert.equal(rc.code, 0, rc.stderr);
      assert.equal(unTimed(rc.stdout).replace('rel-native', 'rel-node'), unTimed(rn.stdout));
      assert.ok(fs.readFileSync(path.join(dir, 'rel-node.tez')).equals(fs.readFileSync(path.join(dir, 'rel-native.tez'))));
    });

    it('decompresses files written by Node\'s library (test/fixtures) as Node\'s CLI does', function () {
      const fixtures = path.join(ROOT, 'test', 'fixtures');
      const files = fs.readdirSync(fixtures).filter((f) => f.endsWith('.tez'));
      assert.ok(files.length >= 30, 'fixtures present');
      const dir = newDir('fixtures');
      for (const f of files) {
        const dn = node(['decompress', path.join(fixtures, f), '-o', path.join(dir, 'n.raw'), '-q']);
        const dc = native(['decompress', path.join(fixtures, f), '-o', path.join(dir, 'c.raw'), '-q']);
        assert.equal(dn.code, 0, `${f}: ${dn.stderr}`);
        assert.equal(dc.code, 0, `${f}: ${dc.stderr}`);
        assert.ok(fs.readFileSync(path.join(dir, 'n.raw')).equals(fs.readFileSync(path.join(dir, 'c.raw'))), `${f}: .raw`);
        assert.ok(fs.readFileSync(path.join(dir, 'n.json')).equals(fs.readFileSync(path.join(dir, 'c.json'))), `${f}: .json`);
      }
    });

    describe('real datasets (../shared/data)', function () {
      // Whole files where they are small; the first ~4 MB of frames of the larger ones (a minute in all on 2 cores).
      const SETS: Array<[string, number | undefined]> = [
        ['era5_t2m_uk', undefined],
        ['calcium_imaging', undefined],
        ['bulk_water', 16],
        ['moving_mnist', 1000],
      ];
      for (const [name, frames] of SETS) {
        it(`${name}${frames ? ` (first ${frames} frames)` : ''}: lossless and rel 1e-3`, function () {
          const raw = path.join(DATA_DIR, `${name}.raw`);
          const json = path.join(DATA_DIR, `${name}.json`);
          if (!fs.existsSync(raw) || !fs.existsSync(json)) this.skip();
          let input = raw;
          if (frames !== undefined) {
            const meta = JSON.parse(fs.readFileSync(json, 'utf8'));
            const frameBytes = meta.bytes / meta.shape[0];
            const fd = fs.openSync(raw, 'r');
            const buf = Buffer.alloc(frames * frameBytes);
            fs.readSync(fd, buf, 0, buf.length, 0);
            fs.closeSync(fd);
            const dir = newDir(name);
            input = path.join(dir, `${name}.raw`);
            fs.writeFileSync(input, buf);
            fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ ...meta, shape: [frames, ...meta.shape.slice(1)], bytes: buf.length }));
          }
          sameBytes(input, [], `${name} lossless`);
          sameBytes(input, ['--rel', '1e-3'], `${name} rel 1e-3`);
        });
      }
    });
  });

  describe('declines everything else, writing nothing, and bin/tezip then gives Node\'s result', function () {
    let dir: string; // inputs shared by the cases
    let good: string; // a uint8 raw + json
    let tez: string; // its .tez
    before(function () {
      dir = newDir('inputs');
      const shape = [4, 8, 8];
      good = writePair(dir, 'good', makeFrames('uint8', shape, 2), shape, 'uint8');
      tez = path.join(dir, 'good.tez');
      assert.equal(node(['compress', good, '-o', tez, '-q']).code, 0);
    });

    interface Case {
      args: (d: string) => string[];
      input?: () => Buffer;
      setup?: (d: string) => void;
    }
    const cases: Record<string, Case> = {
      'compress from stdin (-)': { args: (d) => ['compress', '-', '--shape', '4,8,8', '--dtype', 'uint8', '-o', path.join(d, 'o.tez')], input: () => fs.readFileSync(good) },
      'compress --json': { args: (d) => ['compress', good, '-o', path.join(d, 'o.tez'), '--json'] },
      'compress --verify': { args: (d) => ['compress', good, '-o', path.join(d, 'o.tez'), '--verify', '--rel', '1e-2'] },
      'compress a PNG folder': { args: (d) => ['compress', path.join(ROOT, 'samples', 'png_small'), '-o', path.join(d, 'o.tez')] },
      'compress a TIFF stack': {
        setup: (d) => assert.equal(node(['decompress', tez, '-o', path.join(d, 'in.tif'), '-q']).code, 0),
        args: (d) => ['compress', path.join(d, 'in.tif'), '-o', path.join(d, 'o.tez')],
      },
      'compress an input that does not exist': { args: (d) => ['compress', path.join(d, 'nothing.raw'), '-o', path.join(d, 'o.tez')] },
      'compress a raw file without its sidecar': {
        setup: (d) => fs.copyFileSync(good, path.join(d, 'lone.raw')),
        args: (d) => ['compress', path.join(d, 'lone.raw'), '-o', path.join(d, 'o.tez')],
      },
      ...Object.fromEntries(
        Object.entries({
          'invalid JSON': '{"shape": [4, 8, 8], "dtype": "uint8"',
          'not an object': '[4, 8, 8]',
          'a 2-D shape': '{"shape": [32, 8], "dtype": "uint8"}',
          'a 5-D shape': '{"shape": [1, 1, 4, 8, 8], "dtype": "uint8"}',
          'a zero dimension': '{"shape": [0, 8, 8], "dtype": "uint8"}',
          'a fractional dimension': '{"shape": [4, 8, 8.5], "dtype": "uint8"}',
          'an unknown dtype': '{"shape": [4, 8, 8], "dtype": "uint32"}',
          'big-endian': '{"shape": [4, 8, 8], "dtype": "uint8", "byte_order": "big"}',
          'Fortran order': '{"shape": [4, 8, 8], "dtype": "uint8", "order": "F"}',
          'a byte order of null': '{"shape": [4, 8, 8], "dtype": "uint8", "byte_order": null}',
          'the wrong size': '{"shape": [4, 8, 9], "dtype": "uint8"}',
          'invalid UTF-8': '{"shape": [4, 8, 8], "dtype": "uint8", "x": "\xff"}',
        }).map(([what, text]) => [
          `compress with a sidecar: ${what}`,
          {
            setup: (d: string) => {
              fs.copyFileSync(good, path.join(d, 'bad.raw'));
              fs.writeFileSync(path.join(d, 'bad.json'), what === 'invalid UTF-8' ? Buffer.from(text, 'latin1') : text);
            },
            args: (d: string) => ['compress', path.join(d, 'bad.raw'), '-o', path.join(d, 'o.tez')],
          } as Case,
        ]),
      ),
      'compress a raw file one byte too long': {
        setup: (d) => {
          fs.writeFileSync(path.join(d, 'long.raw'), Buffer.concat([fs.readFileSync(good), Buffer.from([0])]));
          fs.copyFileSync(good.replace(/raw$/, 'json'), path.join(d, 'long.json'));
        },
        args: (d) => ['compress', path.join(d, 'long.raw'), '-o', path.join(d, 'o.tez')],
      },
      ...Object.fromEntries(
        [
          ['--abs', '-1'],
          ['--abs', '0'],
          ['--rel', 'NaN'],
          ['--rel', 'Infinity'],
          ['--abs', '1e999'],
          ['--pwrel', '1'],
          ['--pwrel', '0.1', '--abs', '1'],
          ['--abs', 'x'],
          ['--abs', '0x10'],
          ['--abs', '1', '--abs', '2'],
          ['--level', '3'],
          ['--predictor', 'fancy'],
          ['--predictor', 'prednet'],
          ['--threads', '0'],
          ['--threads', '1.5'],
          ['--chunk-frames', '-2'],
          ['--frobnicate'],
          ['--abs'],
          ['-q=1'],
          ['--quiet=yes'],
          ['-x'],
          ['--help'],
          ['--model', 'models/none'],
          ['--window', '4'],
          ['--', '-o'],
        ].map((flags) => [`compress ${flags.join(' ')}`, { args: (d: string) => ['compress', good, '-o', path.join(d, 'o.tez'), ...flags] } as Case]),
      ),
      'compress -o - (stdout)': { args: () => ['compress', good, '-o', '-'] },
      'compress two inputs': { args: (d) => ['compress', good, good, '-o', path.join(d, 'o.tez')] },
      'compress onto its own input': {
        setup: (d) => {
          fs.copyFileSync(good, path.join(d, 'self.raw'));
          fs.copyFileSync(good.replace(/raw$/, 'json'), path.join(d, 'self.json'));
        },
        args: (d) => ['compress', path.join(d, 'self.raw'), '-o', path.join(d, 'self.raw')],
      },
      'compress into a folder that does not exist': { args: (d) => ['compress', good, '-o', path.join(d, 'no', 'o.tez')] },
      'compress onto a folder': { setup: (d) => fs.mkdirSync(path.join(d, 'o.tez')), args: (d) => ['compress', good, '-o', path.join(d, 'o.tez')] },
      'decompress a corrupt .tez (payload byte)': {
        setup: (d) => {
          const b = fs.readFileSync(tez);
          b[b.length - 80] ^= 0x40;
          fs.writeFileSync(path.join(d, 'bad.tez'), b);
        },
        args: (d) => ['decompress', path.join(d, 'bad.tez'), '-o', path.join(d, 'o.raw')],
      },
      'decompress a corrupt .tez (header byte)': {
        setup: (d) => {
          const b = fs.readFileSync(tez);
          b[20] ^= 1;
          fs.writeFileSync(path.join(d, 'bad.tez'), b);
        },
        args: (d) => ['decompress', path.join(d, 'bad.tez'), '-o', path.join(d, 'o.raw')],
      },
      ...Object.fromEntries(
        [10, 100, 0.5, -30, -1].map((cut) => [
          `decompress a truncated .tez (${cut < 0 ? `last ${-cut} bytes cut` : cut < 1 ? 'half' : `first ${cut} bytes`})`,
          {
            setup: (d: string) => {
              const b = fs.readFileSync(tez);
              fs.writeFileSync(path.join(d, 'cut.tez'), b.subarray(0, cut < 0 ? b.length + cut : cut < 1 ? Math.floor(b.length * cut) : cut));
            },
            args: (d: string) => ['decompress', path.join(d, 'cut.tez'), '-o', path.join(d, 'o.raw')],
          } as Case,
        ]),
      ),
      'decompress a file that is not a .tez': { args: (d) => ['decompress', good, '-o', path.join(d, 'o.raw')] },
      'decompress an input that does not exist': { args: (d) => ['decompress', path.join(d, 'none.tez'), '-o', path.join(d, 'o.raw')] },
      'decompress to a PNG folder': { args: (d) => ['decompress', tez, '-o', path.join(d, 'frames'), '--format', 'png'] },
      'decompress to a folder (-f png)': { args: (d) => ['decompress', tez, '-o', path.join(d, 'frames'), '-f', 'png'] },
      'decompress to a TIFF stack': { args: (d) => ['decompress', tez, '-o', path.join(d, 'o.tif')] },
      'decompress to a name without extension': { args: (d) => ['decompress', tez, '-o', path.join(d, 'plain')] },
      'decompress --format raw to a .tif name': { args: (d) => ['decompress', tez, '-o', path.join(d, 'o.tif'), '--format', 'raw'] },
      'decompress to stdout (-o -)': { args: () => ['decompress', tez, '-o', '-'] },
      'decompress from stdin (-)': { args: (d) => ['decompress', '-', '-o', path.join(d, 'o.raw')], input: () => fs.readFileSync(tez) },
      'decompress without -o': { args: () => ['decompress', tez] },
      'decompress --frames 1:3': { args: (d) => ['decompress', tez, '--frames', '1:3', '-o', path.join(d, 'o.raw')] },
      'decompress --json': { args: (d) => ['decompress', tez, '--json', '-o', path.join(d, 'o.raw')] },
      'decompress --threads 2000': { args: (d) => ['decompress', tez, '--threads', '2000', '-o', path.join(d, 'o.raw')] },
      'decompress -o given twice': { args: (d) => ['decompress', tez, '-o', path.join(d, 'a.raw'), '-o', path.join(d, 'b.raw')] },
      'decompress onto a folder named o.raw': { setup: (d) => fs.mkdirSync(path.join(d, 'o.raw')), args: (d) => ['decompress', tez, '-o', path.join(d, 'o.raw')] },
      'decompress with the sidecar name taken by a folder': { setup: (d) => fs.mkdirSync(path.join(d, 'o.json')), args: (d) => ['decompress', tez, '-o', path.join(d, 'o.raw')] },
      'decompress into a folder that does not exist': { args: (d) => ['decompress', tez, '-o', path.join(d, 'no', 'o.raw')] },
      'decompress through a symlink': {
        setup: (d) => {
          fs.writeFileSync(path.join(d, 'target.raw'), 'old');
          fs.symlinkSync(path.join(d, 'target.raw'), path.join(d, 'o.raw'));
        },
        args: (d) => ['decompress', tez, '-o', path.join(d, 'o.raw')],
      },
      'an unknown command': { args: () => ['compres', good] },
      'info': { args: () => ['info', tez] },
      'no arguments': { args: () => [] },
    };

    for (const [label, c] of Object.entries(cases)) {
      it(label, function () {
        // The native CLI alone: exit 100, nothing on stdout, nothing written (temporary files included).
        const d = newDir(label);
        c.setup?.(d);
        const before = snapshot(d);
        const beforeInputs = snapshot(dir);
        const rc = native(c.args(d)); // no stdin: it must decline without reading it (and a write to it could EPIPE)
        assert.equal(rc.code, DECLINE, `native exit code (stdout ${rc.stdout}, stderr ${rc.stderr})`);
        assert.equal(rc.stdout, '');
        assert.match(rc.stderr, /^tezip-cli: declined \(.+\); running Node's CLI\n$/);
        assertSameFiles(snapshot(d), before, 'native left the folder as it was');
        assertSameFiles(snapshot(dir), beforeInputs, 'native left the inputs as they were');

        // bin/tezip, then Node's CLI, each from the same starting state: the same exit code, stderr, stdout and files.
        const rb = bin(c.args(d), { input: c.input?.() });
        const afterBin = snapshot(d);
        fs.rmSync(d, { recursive: true });
        fs.mkdirSync(d);
        c.setup?.(d);
        const rn = node(c.args(d), { input: c.input?.() });
        assert.equal(rb.code, rn.code, `bin/tezip exit code (stderr ${rb.stderr})`);
        assert.equal(unTimed(rb.stderr), unTimed(rn.stderr)); // the summary goes to stderr when stdout is data
        assert.equal(unTimed(rb.stdout), unTimed(rn.stdout));
        assertSameFiles(afterBin, snapshot(d), 'bin/tezip wrote what Node writes');
      });
    }

    it('a .tez whose header is above 64 MiB is left to Node (TEZ_TOO_LARGE there)', function () {
      const d = newDir('big-header');
      const b = fs.readFileSync(tez);
      // Only the header length field matters to the check; the file need not be that long.
      b.writeUInt32LE(64 * 1024 * 1024 + 1, 10);
      const f = path.join(d, 'big.tez');
      fs.writeFileSync(f, b);
      const rc = native(['decompress', f, '-o', path.join(d, 'o.raw')]);
      assert.equal(rc.code, DECLINE, rc.stderr);
      assert.deepEqual(fs.readdirSync(d), ['big.tez']);
    });

    it('a progress bar to draw (stderr a terminal, no -q) is left to Node', function () {
      // `script` gives the child a terminal; skipped where it is not installed.
      const probe = spawnSync('script', ['--version'], { encoding: 'utf8', env: { ...ENV, LD_PRELOAD: '' } });
      if (probe.status !== 0) this.skip();
      const d = newDir('tty');
      const cmd = `TEZIP_DEBUG=1 ${NATIVE} compress ${good} -o ${path.join(d, 'o.tez')} 2>&1; echo "exit=$?"`;
      const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...ENV, LD_PRELOAD: '' }, timeout: 60000 });
      assert.match(r.stdout, /declined \(progress bar\)/);
      assert.match(r.stdout, /exit=100/);
      assert.deepEqual(fs.readdirSync(d), []);
    });
  });

  it('damaged .tez files (structure fields mutated, CRCs repaired): never accepts what Node\'s reader refuses', async function () {
    // Mutates header, record, index and trailer fields of a few files, repairs the CRCs (most of the time) so
    // that the checks behind them run, and decompresses each with the native CLI: it exits 0 or 100, never
    // anything else; after a 0, Node's reader (openTez + readFrames, what Node's CLI decompress runs) must read
    // the same file to the same bytes; after a 100, nothing is written.
    const d = newDir('mutations');
    const bases: Buffer[] = [];
    for (const f of ['uint16-lossless.tez', 'float32-absrel.tez', 'int16-pwrel.tez', 'uint16-stream-rel.tez'])
      bases.push(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', f)));
    const shape = [6, 5, 4, 2];
    const multi = writePair(d, 'm', makeFrames('float64', shape, 12), shape, 'float64');
    assert.equal(node(['compress', multi, '-o', path.join(d, 'm.tez'), '--chunk-frames', '2', '--abs', '0.5', '-q']).code, 0);
    bases.push(fs.readFileSync(path.join(d, 'm.tez')));
    const r = rng(20261205);
    const pick = (n: number) => Math.floor(r() * n);
    const repair = (b: Buffer) => {
      const hb = b.readUInt32LE(10);
      if (hb >= 98 && hb <= b.length) b.writeUInt32LE(crc32c(b.subarray(0, hb - 4)), hb - 4);
      const t = b.length - 24;
      const io = Number(b.readBigUInt64LE(t));
      for (let off = hb; off + 32 <= t && off < io; ) {
        const n = b.readUInt32LE(off + 20);
        if (off + 32 + n > t) break;
        b.writeUInt32LE(crc32c(b.subarray(off + 32, off + 32 + n)), off + 24);
        b.writeUInt32LE(crc32c(b.subarray(off, off + 28)), off + 28);
        off += 32 + n;
      }
      if (io <= t - 12 && 8 + b.readUInt32LE(io + 4) * 24 + 4 === t - io) b.writeUInt32LE(crc32c(b.subarray(io, t - 4)), t - 4);
      b.writeUInt32LE(crc32c(b.subarray(t, t + 16)), t + 16);
    };
    let accepted = 0;
    let declined = 0;
    const out = path.join(d, 'out');
    fs.mkdirSync(out);
    for (let iter = 0; iter < 200; iter++) {
      const b = Buffer.from(bases[iter % bases.length]);
      const hb = b.readUInt32LE(10);
      const t = b.length - 24;
      const io = Number(b.readBigUInt64LE(t));
      for (let m = 1 + pick(3); m > 0; m--) {
        // a byte in the fixed header, a record header, the index or the trailer; or anywhere
        const regions = [
          [8, 94],
          [hb, hb + 32],
          [io, t],
          [t, t + 16],
          [0, b.length],
        ];
        const [lo, hi] = regions[pick(regions.length)];
        const at = lo + pick(Math.max(1, hi - lo));
        if (at >= b.length) continue;
        const how = pick(4);
        b[at] = how === 0 ? b[at] ^ (1 << pick(8)) : how === 1 ? b[at] + 1 : how === 2 ? b[at] - 1 : pick(256);
      }
      if (r() < 0.9) repair(b);
      // A mutated dimension can declare gigabytes that the chunk codec then allocates before it finds the
      // payload too short (in Node's CLI too): keep to files that declare at most 64 MB, so the test stays fast.
      const esize = [1, 2, 2, 4, 4, 8][b[14] - 1] ?? 1;
      const frames = Math.max(Number(b.readBigUInt64LE(30)), Number(b.readBigUInt64LE(t + 8)));
      if (b.readUInt32LE(18) * b.readUInt32LE(22) * b.readUInt32LE(26) * esize * frames > 64e6) continue;
      const file = path.join(d, `t${iter}.tez`);
      fs.writeFileSync(file, b);
      const rc = native(['decompress', file, '-o', path.join(out, 'x.raw'), '-q']);
      assert.ok(rc.code === 0 || rc.code === DECLINE, `mutation ${iter}: exit ${rc.code} (${rc.stderr})`);
      if (rc.code === DECLINE) {
        declined++;
        assert.deepEqual(fs.readdirSync(out), [], `mutation ${iter}: declined but wrote files`);
      } else {
        accepted++;
        let data: Uint8Array;
        try {
          const reader = await openTez(file);
          try {
            const f = await reader.readFrames(0, reader.frameCount);
            data = new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength);
          } finally {
            await reader.close();
          }
        } catch (e) {
          fs.copyFileSync(file, path.join(tmp, `..${path.sep}tezip-native-cli-accepted-${iter}.tez`));
          assert.fail(`mutation ${iter}: the native CLI decompressed a file Node's reader refuses (${(e as Error).message})`);
        }
        assert.ok(Buffer.from(data).equals(fs.readFileSync(path.join(out, 'x.raw'))), `mutation ${iter}: different values`);
        for (const f of fs.readdirSync(out)) fs.rmSync(path.join(out, f));
      }
      fs.rmSync(file);
    }
    // Both outcomes must have been exercised for the comparison to mean anything.
    assert.ok(accepted >= 10 && declined >= 50, `accepted ${accepted}, declined ${declined}`);
  });

  describe('bin/tezip', function () {
    it('runs the native CLI for a plain compress/decompress and writes what Node writes', function () {
      const d = newDir('bin');
      const shape = [5, 6, 7];
      const input = writePair(d, 'b', makeFrames('float32', shape, 4), shape, 'float32');
      const rb = bin(['compress', input, '-o', path.join(d, 'bin.tez'), '--rel', '1e-3']);
      const rn = node(['compress', input, '-o', path.join(d, 'node.tez'), '--rel', '1e-3']);
      assert.equal(rb.code, 0, rb.stderr);
      assert.equal(unTimed(rb.stdout).replace('bin.tez', 'node.tez'), unTimed(rn.stdout));
      assert.ok(fs.readFileSync(path.join(d, 'bin.tez')).equals(fs.readFileSync(path.join(d, 'node.tez'))));
      const db = bin(['decompress', path.join(d, 'bin.tez'), '-o', path.join(d, 'back.raw')]);
      assert.equal(db.code, 0, db.stderr);
      assert.match(db.stdout, /frames 0:5 of 5, shape \[5,6,7\], float32, 840 bytes/);
      // Without node on PATH only the native CLI can have done it.
      const noNode = { PATH: path.join(d, 'no-such-folder') };
      const rx = bin(['compress', input, '-o', path.join(d, 'nonode.tez'), '--rel', '1e-3', '-q'], { env: noNode });
      assert.equal(rx.code, 0, rx.stderr);
      assert.ok(fs.readFileSync(path.join(d, 'nonode.tez')).equals(fs.readFileSync(path.join(d, 'node.tez'))));
      const dx = bin(['decompress', path.join(d, 'nonode.tez'), '-o', path.join(d, 'nonode.raw'), '-q'], { env: noNode });
      assert.equal(dx.code, 0, dx.stderr);
      assert.ok(fs.readFileSync(path.join(d, 'nonode.raw')).equals(fs.readFileSync(path.join(d, 'back.raw'))));
      assert.notEqual(bin(['info', path.join(d, 'nonode.tez')], { env: noNode }).code, 0, 'and info needs node');
    });

    it('with TEZIP_NATIVE_CLI=0 runs Node\'s CLI (checked with a stand-in native CLI), and falls back on exit 100 only', function () {
      // A copy of the package layout whose build/Release/tezip-cli is a script that says it ran and exits
      // with $FAKE_RC; dist/ is the real one.
      const root = newDir('fake-root');
      fs.mkdirSync(path.join(root, 'bin'));
      fs.mkdirSync(path.join(root, 'build', 'Release'), { recursive: true });
      fs.copyFileSync(BIN, path.join(root, 'bin', 'tezip'));
      fs.chmodSync(path.join(root, 'bin', 'tezip'), 0o755);
      fs.symlinkSync(path.join(ROOT, 'dist'), path.join(root, 'dist'));
      const fake = path.join(root, 'build', 'Release', 'tezip-cli');
      fs.writeFileSync(fake, '#!/bin/sh\necho "fake native $*"\nexit "${FAKE_RC:-0}"\n');
      fs.chmodSync(fake, 0o755);
      const fakeBin = path.join(root, 'bin', 'tezip');
      const shape = [3, 4, 4];
      const input = writePair(root, 'f', makeFrames('uint8', shape, 6), shape, 'uint8');
      const args = ['compress', input, '-o', path.join(root, 'f.tez'), '-q'];

      let r = spawn(fakeBin, args);
      assert.deepEqual([r.code, r.stdout], [0, `fake native ${args.join(' ')}\n`], 'the native CLI runs first');
      assert.ok(!fs.existsSync(path.join(root, 'f.tez')));

      r = spawn(fakeBin, args, { env: { FAKE_RC: '3' } });
      assert.equal(r.code, 3, 'its exit code is the command\'s, Node does not run');
      assert.ok(!fs.existsSync(path.join(root, 'f.tez')));

      r = spawn(fakeBin, args, { env: { FAKE_RC: '100' } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `fake native ${args.join(' ')}\n`, 'Node ran after the decline (and printed nothing with -q)');
      assert.ok(fs.existsSync(path.join(root, 'f.tez')), 'Node wrote the output');
      fs.rmSync(path.join(root, 'f.tez'));

      r = spawn(fakeBin, args, { env: { TEZIP_NATIVE_CLI: '0' } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '', 'TEZIP_NATIVE_CLI=0: the native CLI does not run');
      assert.ok(fs.existsSync(path.join(root, 'f.tez')));

      r = spawn(fakeBin, ['info', path.join(root, 'f.tez')]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /fake native/, 'other commands go straight to Node');

      // npm links bin/tezip into node_modules/.bin: run through such a link, it finds the package it belongs to.
      fs.mkdirSync(path.join(root, 'dotbin'));
      fs.symlinkSync(path.relative(path.join(root, 'dotbin'), fakeBin), path.join(root, 'dotbin', 'tezip'));
      r = spawn(path.join(root, 'dotbin', 'tezip'), args);
      assert.deepEqual([r.code, r.stdout], [0, `fake native ${args.join(' ')}\n`], 'through a symlink');

      fs.rmSync(fake);
      r = spawn(fakeBin, args);
      assert.equal(r.code, 0, 'without a native CLI, Node runs');
    });

    it('with TEZIP_NATIVE_CLI=0 compresses and decompresses (the real package)', function () {
      const d = newDir('bin-node');
      const shape = [4, 5, 6, 2];
      const input = writePair(d, 'n', makeFrames('int32', shape, 8), shape, 'int32');
      const env = { TEZIP_NATIVE_CLI: '0' };
      const rb = bin(['compress', input, '-o', path.join(d, 'a.tez'), '--abs', '2'], { env });
      assert.equal(rb.code, 0, rb.stderr);
      assert.match(rb.stdout, /: 4 frames int32, 960 → \d+ bytes, ratio .*, abs 2\n$/);
      assert.equal(native(['compress', input, '-o', path.join(d, 'b.tez'), '--abs', '2', '-q']).code, 0);
      assert.ok(fs.readFileSync(path.join(d, 'a.tez')).equals(fs.readFileSync(path.join(d, 'b.tez'))));
      const db = bin(['decompress', path.join(d, 'a.tez'), '-o', path.join(d, 'back.raw'), '-q'], { env });
      assert.equal(db.code, 0, db.stderr);
      assert.equal(fs.statSync(path.join(d, 'back.raw')).size, 960);
      const bad = bin(['compress', path.join(d, 'missing.raw')], { env });
      assert.equal(bad.code, node(['compress', path.join(d, 'missing.raw')]).code);
      assert.match(bad.stderr, /^tezip: /);
    });
  });
});
