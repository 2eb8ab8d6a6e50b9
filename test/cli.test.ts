// The `tezip` command as users run it: a whole process, checked on stdout, stderr and exit code.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

function findRoot(dir: string): string {
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + __dirname);
    dir = up;
  }
  return dir;
}

const ROOT = findRoot(__dirname);
const CLI = path.join(ROOT, 'dist/cli/main.js');
const SAMPLE = path.join(ROOT, 'samples/era5_small.raw');
const SAMPLE_U8 = path.join(ROOT, 'samples/bulk_water_small.raw');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function tezip(args: string[], cwd = ROOT): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, TEZIP_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Expected failures: exactly one line `tezip: ...` on stderr, no stack trace, nothing on stdout. */
function assertOneLineError(r: Run, code: number, pattern?: RegExp): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0], /^tezip: \S/);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(lines[0], /internal error/, 'expected errors are not internal errors');
  if (pattern) assert.match(lines[0], pattern);
}

describe('tezip CLI', function () {
  let tmp: string;

  before(function () {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build:ts`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-cli-'));
  });
  after(function () {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A small raw+json pair in tmp. */
  function writePair(name: string, raw: Uint8Array, sidecar: string | object): string {
    const p = path.join(tmp, name + '.raw');
    fs.writeFileSync(p, raw);
    fs.writeFileSync(path.join(tmp, name + '.json'), typeof sidecar === 'string' ? sidecar : JSON.stringify(sidecar));
    return p;
  }

  describe('help and usage', function () {
    it('--help lists the commands and the exit codes', function () {
      const r = tezip(['--help']);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, '');
      for (const c of ['compress', 'decompress', 'info', 'demo', 'Exit codes', '0  success', '2  usage']) assert.ok(r.stdout.includes(c), c);
    });
    for (const cmd of ['compress', 'decompress', 'info', 'demo'])
      it(`${cmd} --help`, function () {
        const r = tezip([cmd, '--help']);
        assert.equal(r.code, 0);
        assert.match(r.stdout, new RegExp(`^Usage: tezip ${cmd}`));
        assert.match(r.stdout, /Exit codes/);
      });
    it('no command is a usage error', function () {
      assertOneLineError(tezip([]), 2, /missing command/);
    });
    it('unknown command is a usage error', function () {
      assertOneLineError(tezip(['squash', 'x']), 2, /unknown command "squash"/);
    });
    it('unknown flag is a usage error', function () {
      assertOneLineError(tezip(['compress', SAMPLE, '--bogus']), 2, /unknown option --bogus/);
    });
    it('missing option value is a usage error', function () {
      assertOneLineError(tezip(['compress', SAMPLE, '--abs']), 2, /--abs needs a value/);
    });
    it('negative bound is a usage error', function () {
      assertOneLineError(tezip(['compress', SAMPLE, '-o', path.join(tmp, 'n.tez'), '--abs', '-1']), 2, /--abs/);
    });
    it('NaN bound is a usage error', function () {
      assertOneLineError(tezip(['compress', SAMPLE, '-o', path.join(tmp, 'n.tez'), '--rel', 'NaN']), 2, /--rel/);
      assertOneLineError(tezip(['compress', SAMPLE, '-o', path.join(tmp, 'n.tez'), '--rel', 'abc']), 2, /--rel/);
    });
    it('--pwrel with --abs is a usage error', function () {
      assertOneLineError(tezip(['compress', SAMPLE, '-o', path.join(tmp, 'n.tez'), '--pwrel', '1e-2', '--abs', '1']), 2, /--pwrel/);
    });
    it('unknown predictor is a usage error', function () {
      assertOneLineError(tezip(['compress', SAMPLE, '--predictor', 'magic']), 2, /predictor/);
    });
    it('decompress without -o is a usage error', function () {
      assertOneLineError(tezip(['decompress', path.join(tmp, 'x.tez')]), 2, /-o/);
    });
    it('help and usage errors do not load the library or the native addon', function () {
      // Start-up stays light: only the command that runs is loaded, and the addon only when data is coded.
      const hook = path.join(tmp, 'hook.js');
      fs.writeFileSync(
        hook,
        "process.on('exit', () => require('fs').writeFileSync(process.env.TEZIP_HOOK_OUT, JSON.stringify(Object.keys(require.cache))));\n",
      );
      for (const args of [['--help'], ['compress', '--help'], ['compress', SAMPLE, '--bogus'], ['compress', SAMPLE, '--abs', '-1']]) {
        const outFile = path.join(tmp, 'loaded.json');
        const r = spawnSync(process.execPath, ['--require', hook, CLI, ...args], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, TEZIP_HOOK_OUT: outFile },
        });
        assert.ok(r.status === 0 || r.status === 2, r.stderr);
        const loaded: string[] = JSON.parse(fs.readFileSync(outFile, 'utf8'));
        const heavy = loaded.filter((f) => /\.node$|[\\/]dist[\\/](index|native)\.js$|[\\/]dist[\\/](codec|container)[\\/]/.test(f));
        assert.deepEqual(heavy, [], `tezip ${args.join(' ')} loaded ${heavy.join(', ')}`);
      }
    });
    it('usage errors do not write the output', function () {
      const out = path.join(tmp, 'never.tez');
      tezip(['compress', SAMPLE, '-o', out, '--abs', '-1']);
      assert.equal(fs.existsSync(out), false);
    });
  });

  describe('bad input (exit 1)', function () {
    it('missing input file', function () {
      const json = path.join(tmp, 'lonely.json');
      fs.writeFileSync(json, JSON.stringify({ shape: [1, 2, 2], dtype: 'uint8' }));
      assertOneLineError(tezip(['compress', path.join(tmp, 'lonely.raw'), '-o', path.join(tmp, 'x.tez')]), 1, /not found/);
    });
    it('missing sidecar', function () {
      const p = path.join(tmp, 'nosidecar.raw');
      fs.writeFileSync(p, new Uint8Array(4));
      assertOneLineError(tezip(['compress', p, '-o', path.join(tmp, 'x.tez')]), 1, /sidecar not found: .*nosidecar\.json/);
    });
    it('bad sidecar JSON', function () {
      const p = writePair('badjson', new Uint8Array(4), '{"shape": [1, 2, 2], "dtype": ');
      assertOneLineError(tezip(['compress', p, '-o', path.join(tmp, 'x.tez')]), 1, /invalid JSON/);
    });
    it('sidecar without a shape', function () {
      const p = writePair('noshape', new Uint8Array(4), { dtype: 'uint8' });
      assertOneLineError(tezip(['compress', p, '-o', path.join(tmp, 'x.tez')]), 1, /"shape"/);
    });
    it('shape and byte size disagree', function () {
      const p = writePair('mismatch', new Uint8Array(10), { shape: [1, 2, 2], dtype: 'uint16' });
      assertOneLineError(tezip(['compress', p, '-o', path.join(tmp, 'x.tez')]), 1, /10 bytes .* describes 8/);
    });
    it('unknown dtype', function () {
      const p = writePair('baddtype', new Uint8Array(4), { shape: [1, 2, 2], dtype: 'complex64' });
      assertOneLineError(tezip(['compress', p, '-o', path.join(tmp, 'x.tez')]), 1, /unknown dtype "complex64"/);
    });
    it('missing .tez', function () {
      assertOneLineError(tezip(['decompress', path.join(tmp, 'absent.tez'), '-o', path.join(tmp, 'o.raw')]), 1, /not found/);
      assertOneLineError(tezip(['info', path.join(tmp, 'absent.tez')]), 1, /not found/);
    });
    it('random bytes as .tez', function () {
      const p = path.join(tmp, 'random.tez');
      const bytes = new Uint8Array(4096);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
      fs.writeFileSync(p, bytes);
      assertOneLineError(tezip(['decompress', p, '-o', path.join(tmp, 'r.raw')]), 1);
      assertOneLineError(tezip(['info', p]), 1);
      assert.equal(fs.existsSync(path.join(tmp, 'r.raw')), false, 'no output written for a bad file');
    });
    it('empty file as .tez', function () {
      const p = path.join(tmp, 'empty.tez');
      fs.writeFileSync(p, new Uint8Array(0));
      assertOneLineError(tezip(['decompress', p, '-o', path.join(tmp, 'e.raw')]), 1);
    });
    it('truncated .tez', function () {
      const full = path.join(tmp, 'full.tez');
      const r = tezip(['compress', SAMPLE, '-o', full]);
      assert.equal(r.code, 0, r.stderr);
      const bytes = fs.readFileSync(full);
      for (const keep of [10, bytes.length >> 1, bytes.length - 1]) {
        const p = path.join(tmp, `trunc${keep}.tez`);
        fs.writeFileSync(p, bytes.subarray(0, keep));
        assertOneLineError(tezip(['decompress', p, '-o', path.join(tmp, 't.raw')]), 1);
      }
    });
  });

  describe('round trips', function () {
    it('compress --json reports verified figures; decompress gives the same bytes back', function () {
      const out = path.join(tmp, 'era5.tez');
      const r = tezip(['compress', SAMPLE, '-o', out, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 1, 'one JSON object');
      const o = JSON.parse(lines[0]);
      for (const k of ['input', 'output', 'inputBytes', 'outputBytes', 'ratio', 'seconds', 'MBps', 'maxAbsError', 'maxPwRelError', 'psnr', 'mode', 'bound'])
        assert.ok(k in o, k);
      assert.equal(o.mode, 'lossless');
      assert.equal(o.bound, null);
      assert.equal(o.maxAbsError, 0);
      assert.equal(o.psnr, 'inf');
      assert.equal(o.verified, true);
      assert.equal(o.outputBytes, fs.statSync(out).size);
      assert.equal(o.inputBytes, fs.statSync(SAMPLE).size);

      const dec = path.join(tmp, 'era5_dec.raw');
      const d = tezip(['decompress', out, '-o', dec]);
      assert.equal(d.code, 0, d.stderr);
      assert.ok(fs.readFileSync(dec).equals(fs.readFileSync(SAMPLE)), 'bit-exact');
      const side = JSON.parse(fs.readFileSync(path.join(tmp, 'era5_dec.json'), 'utf8'));
      assert.deepEqual(side.shape, [24, 33, 49]);
      assert.equal(side.dtype, 'float32');
    });

    it('the input may be named by its .json sidecar; plain output is one line', function () {
      const out = path.join(tmp, 'water.tez');
      const r = tezip(['compress', SAMPLE_U8.replace(/\.raw$/, '.json'), '-o', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split('\n').length, 1);
      assert.match(r.stdout, /ratio/);
      assert.ok(fs.statSync(out).size > 0);
    });

    const modes: Array<[string, string[], (o: Record<string, number>) => void]> = [
      ['abs', ['--abs', '0.05'], (o) => assert.ok(o.maxAbsError <= 0.05)],
      ['rel', ['--rel', '1e-3'], (o) => assert.ok(o.maxAbsError > 0)],
      ['absrel', ['--abs', '0.5', '--rel', '1e-3'], (o) => assert.ok(o.maxAbsError <= 0.5)],
      ['pwrel', ['--pwrel', '1e-2'], (o) => assert.ok(o.maxPwRelError <= 1e-2)],
    ];
    for (const [mode, flags, check] of modes)
      it(`compress --json ${flags.join(' ')} verifies`, function () {
        const r = tezip(['compress', SAMPLE, '-o', path.join(tmp, `m_${mode}.tez`), '--threads', '1', ...flags, '--json']);
        assert.equal(r.code, 0, r.stderr);
        const o = JSON.parse(r.stdout);
        assert.equal(o.mode, mode);
        assert.equal(o.verified, true);
        assert.ok(o.ratio > 1, `ratio ${o.ratio}`);
        check(o);
      });

    it('integers with a bound below 1 come back exactly', function () {
      const r = tezip(['compress', SAMPLE_U8, '-o', path.join(tmp, 'u8.tez'), '--abs', '0.9', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const o = JSON.parse(r.stdout);
      assert.equal(o.maxAbsError, 0);
    });

    it('info prints header, chunks and ratio; --json is one object', function () {
      const out = path.join(tmp, 'info.tez');
      assert.equal(tezip(['compress', SAMPLE, '-o', out, '--rel', '1e-3']).code, 0);
      const h = tezip(['info', out]);
      assert.equal(h.code, 0, h.stderr);
      assert.match(h.stdout, /ratio:\s+\d/);
      assert.match(h.stdout, /chunks: \d+/);
      const j = tezip(['info', out, '--json']);
      assert.equal(j.code, 0, j.stderr);
      const o = JSON.parse(j.stdout);
      assert.equal(o.fileBytes, fs.statSync(out).size);
      assert.ok(o.ratio > 1);
      assert.ok(Array.isArray(o.chunks) && o.chunks.length >= 1);
    });
  });

  describe('README examples', function () {
    // Every `tezip ...` line in the README's shell blocks runs and exits 0 (outputs under /tmp go to a temp dir).
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].map((m) => m[1]);
    const commands = blocks.flatMap((b) => b.split('\n')).map((l) => l.trim()).filter((l) => /^(npx )?tezip /.test(l));
    it('has examples for every command', function () {
      for (const c of ['compress', 'decompress', 'info', 'demo']) assert.ok(commands.some((l) => l.includes(`tezip ${c}`)), c);
    });
    it('each example runs', function () {
      const dir = fs.mkdtempSync(path.join(tmp, 'readme-'));
      for (const line of commands) {
        const args = line.replace(/^(npx )?tezip /, '').replace(/#.*$/, '').trim().split(/\s+/).map((a) => a.replace(/^\/tmp\//, dir + '/'));
        const r = tezip(args);
        assert.equal(r.code, 0, `${line}\n${r.stderr}`);
      }
    });
  });
});
