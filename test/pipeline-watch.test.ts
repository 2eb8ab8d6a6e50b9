// `tezip watch` with frames written by a separate process while it runs, sent to a real sshd; the watcher is
// SIGKILLed midway and restarted. Every frame must arrive exactly once, and sources go only after verification.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Sshd, sshdMissing, startSshd } from './helpers/sshd';
import { assertOneLineError, readJsonl, sleep, tezip, tezipAsync } from './helpers/cli';
import { decompressSync } from '../src/index';
import { encodePng } from '../src/io/png';

const H = 16;
const W = 12;

/** A detector stand-in: frame k is filled with 1000+k; odd frames are renamed into place, even ones written in two slow halves. */
const WRITER = `
const fs = require('fs'), path = require('path');
const [dir, n, gap] = [process.argv[1], +process.argv[2], +process.argv[3]];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  for (let k = 0; k < n; k++) {
    const name = 'frame-' + String(k).padStart(4, '0');
    const data = Buffer.from(new Uint16Array(${H * W}).fill(1000 + k).buffer);
    const meta = JSON.stringify({ shape: [1, ${H}, ${W}], dtype: 'uint16' });
    if (k % 2) {
      fs.writeFileSync(path.join(dir, '.' + name + '.json'), meta);
      fs.writeFileSync(path.join(dir, name + '.raw.tmp'), data);
      fs.renameSync(path.join(dir, '.' + name + '.json'), path.join(dir, name + '.json'));
      fs.renameSync(path.join(dir, name + '.raw.tmp'), path.join(dir, name + '.raw'));
    } else {
      fs.writeFileSync(path.join(dir, name + '.json'), meta);
      const fd = fs.openSync(path.join(dir, name + '.raw'), 'w');
      fs.writeSync(fd, data, 0, data.length / 2);
      await sleep(gap);
      fs.writeSync(fd, data, data.length / 2);
      fs.closeSync(fd);
    }
    await sleep(gap);
  }
})();
`;

function framesAt(dest: string): { values: number[]; files: string[] } {
  const files = fs.existsSync(dest) ? fs.readdirSync(dest).filter((f) => f.endsWith('.tez')).sort() : [];
  const values: number[] = [];
  for (const f of files) {
    const d = decompressSync(fs.readFileSync(path.join(dest, f)));
    assert.equal(d.dtype, 'uint16');
    const T = d.shape[0];
    for (let t = 0; t < T; t++) {
      const frame = (d.data as Uint16Array).subarray(t * H * W, (t + 1) * H * W);
      assert.ok(frame.every((v) => v === frame[0]), `${f} frame ${t} is whole`);
      values.push(frame[0] - 1000);
    }
  }
  return { values, files };
}

describe('pipeline: watch a folder and send to a real sshd', function () {
  this.timeout(120000);
  let sshd: Sshd;
  before(async function () {
    const why = sshdMissing();
    if (why) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    try {
      sshd = await startSshd();
    } catch (e) {
      // sshd is installed but cannot run here (sandbox, no loopback...): skip, saying why.
      console.log(`      (skipped: ${(e as Error).message})`);
      this.skip();
    }
  });
  after(async () => {
    if (sshd) await sshd.stop();
  });

  it('frames from a separate writer, watcher killed and restarted: nothing lost, nothing twice, sources deleted only after verification', async function () {
    const src = path.join(sshd.dir, 'detector');
    const dest = path.join(sshd.dir, 'data', 'run1');
    fs.mkdirSync(src);
    const N = 30;
    const writer = spawn(process.execPath, ['-e', WRITER, src, String(N), '60'], { stdio: 'ignore' });
    const writerDone = new Promise((r) => writer.once('exit', r));
    const args = [
      'watch', src, '--to', sshd.url(dest), '--known-hosts', sshd.knownHosts, '-i', sshd.identity,
      '--chunk-frames', '4', '--settle-ms', '300', '--interval-ms', '50', '--max-wait-ms', '1500', '--idle-exit', '2',
      '--delete-after-verify', '--quiet', '--prefix', 'run1',
    ];
    const journal = path.join(src, '.tezip-watch', 'journal.jsonl');
    const first = tezipAsync(args);
    let firstExit = false;
    first.on('exit', () => (firstExit = true));
    const t0 = Date.now();
    while (!readJsonl(journal).some((r) => r.e === 'sent')) {
      assert.ok(!firstExit, 'watch exited before the kill');
      assert.ok(Date.now() - t0 < 60000, 'no chunk sent within 60 s');
      await sleep(20);
    }
    first.kill('SIGKILL');
    await new Promise((r) => (firstExit ? r(undefined) : first.once('exit', r)));

    const second = tezipAsync(args);
    let out = '';
    let err = '';
    second.stdout!.on('data', (d) => (out += d));
    second.stderr!.on('data', (d) => (err += d));
    const code = await new Promise((r) => second.once('exit', r));
    await writerDone;
    assert.equal(code, 0, err);
    // Frames the writer finished after the second watcher went idle (none expected, but be exact): one more pass.
    const last = tezip([...args.filter((a) => a !== '--idle-exit' && a !== '2'), '--once']);
    assert.equal(last.code, 0, last.stderr);

    const { values, files } = framesAt(dest);
    assert.deepEqual([...values].sort((a, b) => a - b), Array.from({ length: N }, (_, k) => k), `every frame exactly once (got ${values.join(',')})`);
    assert.ok(files.every((f) => /^run1-\d{6}\.tez$/.test(f)));
    assert.deepEqual(fs.readdirSync(dest).filter((f) => f.startsWith('.')), [], 'no temporary files at the destination');
    const left = fs.readdirSync(src).filter((f) => f !== '.tezip-watch');
    assert.deepEqual(left, [], 'all sources deleted after verification');
    assert.deepEqual(fs.readdirSync(path.join(src, '.tezip-watch', 'out')), [], 'no staged chunk left');
    // Order in the journal: every deletion comes after the verified send of its chunk.
    const recs = readJsonl(journal);
    recs.forEach((r, i) => {
      if (r.e === 'deleted') assert.ok(recs.slice(0, i).some((s) => s.e === 'sent' && s.id === r.id), `chunk ${r.id} deleted before it was sent`);
    });
    assert.match(out, /chunk\(s\)/);
  });

  it('an unreachable target deletes nothing; the next run resumes the journaled chunk and then deletes', function () {
    const src = path.join(sshd.dir, 'detector2');
    fs.mkdirSync(src);
    for (let k = 0; k < 3; k++) {
      fs.writeFileSync(path.join(src, `f${k}.raw`), Buffer.from(new Uint16Array(H * W).fill(1000 + k).buffer));
      fs.writeFileSync(path.join(src, `f${k}.json`), JSON.stringify({ shape: [H, W], dtype: 'uint16' }));
    }
    const dest = path.join(sshd.dir, 'data', 'run2');
    const common = ['--known-hosts', sshd.knownHosts, '-i', sshd.identity, '--settle-ms', '0', '--once', '--delete-after-verify', '--quiet'];
    // Port 1 on loopback: nothing listens there.
    const down = tezip(['watch', src, '--to', `sftp://${sshd.user}@127.0.0.1:1${dest}`, ...common, '--retries', '1']);
    assertOneLineError(down, 1, /cannot connect to 127\.0\.0\.1:1/);
    assert.equal(fs.readdirSync(src).filter((f) => f !== '.tezip-watch').length, 6, 'no source deleted');
    const recs = readJsonl(path.join(src, '.tezip-watch', 'journal.jsonl'));
    assert.equal(recs.filter((r) => r.e === 'chunk').length, 1);
    assert.equal(recs.filter((r) => r.e === 'sent' || r.e === 'deleted').length, 0);

    const up = tezip(['watch', src, '--to', sshd.url(dest), ...common]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /1 resumed/);
    assert.deepEqual(framesAt(dest).values, [0, 1, 2]);
    assert.deepEqual(fs.readdirSync(src).filter((f) => f !== '.tezip-watch'), []);
  });
});

describe('pipeline: watch to a local folder', function () {
  it('--once without --delete-after-verify keeps sources and does not send them twice; PNG frames too', async function () {
    const root = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'tezip-watch-local-'));
    try {
      const src = path.join(root, 'in');
      fs.mkdirSync(src);
      for (let k = 0; k < 5; k++) {
        fs.writeFileSync(path.join(src, `f${k}.raw`), Buffer.from(new Uint16Array(H * W).fill(1000 + k).buffer));
        fs.writeFileSync(path.join(src, `f${k}.json`), JSON.stringify({ shape: [1, H, W], dtype: 'uint16' }));
      }
      for (const k of [5, 6]) {
        const png = await encodePng(new Uint16Array(H * W).fill(1000 + k), W, H, 1);
        fs.writeFileSync(path.join(src, `f${k}.png`), png);
      }
      fs.writeFileSync(path.join(src, 'notes.txt'), 'not a frame');
      const dest = path.join(root, 'out');
      const args = ['watch', src, '--to', dest, '--settle-ms', '0', '--once', '--chunk-frames', '2', '--quiet'];
      const r1 = tezip(args);
      assert.equal(r1.code, 0, r1.stderr);
      assert.match(r1.stdout, /^4 chunk\(s\) of 7 frame\(s\) from 7 file/);
      const r2 = tezip(args);
      assert.match(r2.stdout, /^0 chunk\(s\)/);
      assert.deepEqual(framesAt(dest).values, [0, 1, 2, 3, 4, 5, 6]);
      assert.equal(fs.readdirSync(src).length, 14, 'sources kept');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
