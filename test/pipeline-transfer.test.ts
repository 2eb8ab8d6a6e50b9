// `tezip send` against a real OpenSSH server on loopback (test/helpers/sshd.ts): kill and resume, damaged
// parts, host keys, secrets, exec and read-back verification; and against a local folder.
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Sshd, knownHostsLine, makeKeyPair, sshdMissing, startSshd } from './helpers/sshd';
import { TOOL_TIMEOUT_MS, toolEnv } from './helpers/tool-env';
import { assertOneLineError, readJsonl, sleep, tezip, tezipAsync } from './helpers/cli';
import { parseTarget } from '../src/pipeline/target';
import { sendFiles, tempName } from '../src/pipeline/transfer';

const MiB = 1024 * 1024;

describe('pipeline: send to a local folder', function () {
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-send-local-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('sends several files verified, then skips them on a rerun; an empty file too', async function () {
    const src = path.join(tmp, 'src');
    fs.mkdirSync(src);
    const files = [0, 1, 5 * 4096 + 17, 3 * MiB].map((n, i) => {
      const f = path.join(src, `f${i}.bin`);
      fs.writeFileSync(f, crypto.randomBytes(n));
      return f;
    });
    const target = parseTarget(path.join(tmp, 'dest'));
    const o = { stateDir: path.join(tmp, 'state'), partSize: 64 * 1024, parallel: 3 };
    const r1 = await sendFiles(files, target, o);
    assert.equal(r1.files.length, 4);
    assert.ok(r1.files.every((f) => f.status === 'sent'));
    for (const f of files) assert.ok(fs.readFileSync(f).equals(fs.readFileSync(path.join(tmp, 'dest', path.basename(f)))));
    assert.deepEqual(fs.readdirSync(path.join(tmp, 'dest')).filter((n) => n.startsWith('.')), [], 'no temporary file left');
    const r2 = await sendFiles(files, target, o);
    assert.ok(r2.files.every((f) => f.status === 'skipped'));
    assert.equal(r2.bytesSent, 0);
  });

  it('refuses two sources with the same name and a missing source, with one line each', function () {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    fs.writeFileSync(path.join(a, 'x.bin'), 'a');
    fs.writeFileSync(path.join(b, 'x.bin'), 'b');
    const state = ['--state', path.join(tmp, 'state2')];
    assertOneLineError(tezip(['send', path.join(a, 'x.bin'), path.join(b, 'x.bin'), '--to', path.join(tmp, 'd2'), ...state]), 1, /both be sent as x\.bin/);
    assertOneLineError(tezip(['send', path.join(a, 'nope.bin'), '--to', path.join(tmp, 'd2'), ...state]), 1, /no such file/);
    assertOneLineError(tezip(['send', path.join(a, 'x.bin')]), 2, /missing --to/);
    assertOneLineError(tezip(['send', path.join(a, 'x.bin'), '--to', 'ftp://h/x']), 2, /unsupported target scheme/);
    assertOneLineError(tezip(['send', path.join(a, 'x.bin'), '--to', 'sftp://u:secret@h/x']), 2, /password/);
  });
});

describe('pipeline: send over SFTP to a real sshd', function () {
  this.timeout(120000);
  let sshd: Sshd;
  let work: string;
  let n = 0;

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
  beforeEach(() => {
    if (!sshd) return;
    work = path.join(sshd.dir, `case${++n}`);
    fs.mkdirSync(path.join(work, 'src'), { recursive: true });
  });

  const auth = () => ['--known-hosts', sshd.knownHosts, '-i', sshd.identity, '--state', path.join(work, 'state')];
  const journalOf = () => {
    const dir = path.join(work, 'state');
    const f = fs.existsSync(dir) ? fs.readdirSync(dir).find((x) => x.startsWith('send-')) : undefined;
    return f ? readJsonl(path.join(dir, f)) : [];
  };

  /** Starts a rate-limited send of `file` and SIGKILLs it once `minParts` parts are journaled. */
  async function sendAndKill(file: string, dest: string, minParts: number): Promise<Set<number>> {
    const child = tezipAsync(['send', file, '--to', sshd.url(dest), ...auth(), '--part-size', '1', '--parallel', '4', '--limit-rate', '6', '--quiet']);
    let exited = false;
    child.on('exit', () => (exited = true));
    const t0 = Date.now();
    while (journalOf().filter((r) => r.e === 'part').length < minParts) {
      assert.ok(!exited, 'the sender finished before it could be killed');
      assert.ok(Date.now() - t0 < 60000, 'no parts were journaled within 60 s');
      await sleep(20);
    }
    child.kill('SIGKILL');
    await new Promise((r) => (exited ? r(undefined) : child.once('exit', r)));
    const recs = journalOf();
    assert.ok(!recs.some((r) => r.e === 'done'), 'killed before the file was complete');
    return new Set(recs.filter((r) => r.e === 'part').map((r) => r.i as number));
  }

  it('SIGKILL midway, then a rerun completes: byte-identical, verified parts not sent again', async function () {
    const file = path.join(work, 'src', 'frames.tez');
    const data = crypto.randomBytes(24 * MiB);
    fs.writeFileSync(file, data);
    const dest = path.join(work, 'dest');
    const before = await sendAndKill(file, dest, 6);
    assert.ok(!fs.existsSync(path.join(dest, 'frames.tez')), 'nothing under the final name before verification');
    assert.ok(fs.existsSync(path.join(dest, tempName('frames.tez'))), 'the temporary file holds the parts');
    const firstRun = new Set(journalOf().filter((r) => r.e === 'part').map((r) => r.run));
    assert.equal(firstRun.size, 1);

    const r = tezip(['send', file, '--to', sshd.url(dest), ...auth(), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.verifyMethod, 'sha256sum on the server (exec channel)');
    assert.equal(rep.partsReused, before.size, 'every part journaled before the kill was verified and kept');
    assert.equal(rep.partsSent, 24 - before.size);
    assert.equal(rep.partsRepaired, 0);
    assert.ok(fs.readFileSync(path.join(dest, 'frames.tez')).equals(data), 'byte-identical');
    assert.ok(!fs.existsSync(path.join(dest, tempName('frames.tez'))));
    // The journal, run by run: no part index is sent in both runs.
    const recs = journalOf();
    const second = recs.filter((x) => x.e === 'part' && !firstRun.has(x.run as string)).map((x) => x.i as number);
    assert.equal(second.length, 24 - before.size);
    assert.deepEqual(second.filter((i) => before.has(i)), [], 'no part sent twice');
    assert.equal(recs.filter((x) => x.e === 'done').length, 1);
  });

  it('a part damaged at the destination is found by its hash and sent again', async function () {
    const file = path.join(work, 'src', 'frames.tez');
    const data = crypto.randomBytes(16 * MiB);
    fs.writeFileSync(file, data);
    const dest = path.join(work, 'dest');
    const before = await sendAndKill(file, dest, 4);
    const victim = Math.min(...before);
    const fd = fs.openSync(path.join(dest, tempName('frames.tez')), 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, victim * MiB + 1234);
    b[0] ^= 0x5a;
    fs.writeSync(fd, b, 0, 1, victim * MiB + 1234);
    fs.closeSync(fd);

    const r = tezip(['send', file, '--to', sshd.url(dest), ...auth(), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.partsRepaired, 1);
    assert.equal(rep.partsReused, before.size - 1);
    assert.equal(rep.partsSent, 16 - before.size + 1);
    assert.ok(fs.readFileSync(path.join(dest, 'frames.tez')).equals(data));
    assert.ok(journalOf().some((x) => x.e === 'bad' && x.i === victim));
  });

  it('--reverify finds a completed file damaged later and repairs only the bad part', function () {
    const file = path.join(work, 'src', 'frames.tez');
    const data = crypto.randomBytes(6 * MiB + 5);
    fs.writeFileSync(file, data);
    const dest = path.join(work, 'dest');
    assert.equal(tezip(['send', file, '--to', sshd.url(dest), ...auth(), '--part-size', '1']).code, 0);
    const copy = path.join(dest, 'frames.tez');
    const damaged = Buffer.from(data);
    damaged[3 * MiB + 7] ^= 1;
    fs.writeFileSync(copy, damaged);
    const plain = JSON.parse(tezip(['send', file, '--to', sshd.url(dest), ...auth(), '--json']).stdout);
    assert.equal(plain.files[0].status, 'skipped', 'without --reverify a complete file is trusted by its journal and size');
    const r = tezip(['send', file, '--to', sshd.url(dest), ...auth(), '--json', '--reverify']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.files[0].status, 'repaired');
    assert.equal(rep.partsRepaired, 1);
    assert.equal(rep.partsSent, 1);
    assert.ok(fs.readFileSync(copy).equals(data));
  });

  it('connections dropped by the server midway are reopened after a backoff and the file completes', async function () {
    const file = path.join(work, 'src', 'drop.bin');
    const data = crypto.randomBytes(12 * MiB);
    fs.writeFileSync(file, data);
    const dest = path.join(work, 'dest');
    const lines: string[] = [];
    const sending = sendFiles([file], parseTarget(sshd.url(dest)), {
      parallel: 3,
      partSize: MiB,
      limitRate: 6e6,
      retryBaseMs: 100,
      stateDir: path.join(work, 'state'),
      ssh: { knownHosts: sshd.knownHosts, identity: sshd.identity },
      log: (l) => lines.push(l),
    });
    // Drop them once parts are flowing (the first part is in the journal).
    const t0 = Date.now();
    while (!journalOf().some((r) => r.e === 'part')) {
      assert.ok(Date.now() - t0 < 60000, 'no part sent within 60 s');
      await sleep(20);
    }
    assert.ok(sshd.dropConnections() > 0, 'there were connections to drop');
    const rep = await sending;
    // A request in flight when the connection died is retried after a backoff; an idle stream just reconnects.
    assert.ok(rep.connections > 3, `connections were reopened (${rep.connections} opened, ${rep.retries} retries: ${lines.join(' | ')})`);
    if (rep.retries > 0) assert.ok(lines.some((l) => /retry \d+\/5 in \d/.test(l)));
    assert.ok(fs.readFileSync(path.join(dest, 'drop.bin')).equals(data));
  });

  it('refuses a changed host key and an unknown host, sending nothing', function () {
    const file = path.join(work, 'src', 'a.bin');
    fs.writeFileSync(file, crypto.randomBytes(1000));
    const other = path.join(work, 'other_host_key');
    makeKeyPair(other);
    const changed = path.join(work, 'known_changed');
    fs.writeFileSync(changed, knownHostsLine('127.0.0.1', sshd.port, other + '.pub'));
    const dest = path.join(work, 'dest');
    const base = ['send', file, '--to', sshd.url(dest), '-i', sshd.identity, '--state', path.join(work, 'state'), '--retries', '3'];
    const r1 = tezip([...base, '--known-hosts', changed]);
    assertOneLineError(r1, 1, /HOST KEY CHANGED for \[127\.0\.0\.1\]:\d+.*SHA256:.*refused/);
    const unknown = path.join(work, 'known_unknown');
    fs.writeFileSync(unknown, `# nothing for this host\n[127.0.0.1]:1 ${fs.readFileSync(other + '.pub', 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    assertOneLineError(tezip([...base, '--known-hosts', unknown]), 1, /unknown host key for \[127\.0\.0\.1\]:\d+ .*refused/);
    assertOneLineError(tezip([...base, '--known-hosts', path.join(work, 'missing')]), 1, /does not exist/);
    assert.ok(!fs.existsSync(dest), 'nothing was created at the destination');
  });

  it('never shows key material or passphrases in errors', function () {
    const file = path.join(work, 'src', 'a.bin');
    fs.writeFileSync(file, 'x');
    const key = path.join(work, 'enc_key');
    const pass = 'pass-phrase-Zq81';
    const g = require('node:child_process').spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', pass, '-f', key], { env: toolEnv(), timeout: TOOL_TIMEOUT_MS });
    assert.equal(g.status, 0);
    const secret = fs.readFileSync(key, 'utf8');
    const base = ['send', file, '--to', sshd.url(path.join(work, 'dest')), '--known-hosts', sshd.knownHosts, '-i', key, '--state', path.join(work, 'state')];
    const noPass = tezip(base);
    assertOneLineError(noPass, 1, /is encrypted and no passphrase was given/);
    const wrong = tezip(base, { TEZIP_SSH_PASSPHRASE: 'wrong-' + pass });
    assertOneLineError(wrong, 1, /passphrase does not open it/);
    // Right passphrase, but the server does not know this key: refused login, still no secret.
    const denied = tezip(base, { TEZIP_SSH_PASSPHRASE: pass });
    assertOneLineError(denied, 1, /refused the login/);
    for (const r of [noPass, wrong, denied]) {
      const all = r.stdout + r.stderr;
      assert.ok(!all.includes(pass), 'no passphrase in output');
      assert.ok(!all.includes('PRIVATE KEY') && !all.includes(secret.split('\n')[1]), 'no key material in output');
    }
  });

  it('parallel streams and part sizes give the same bytes; a second run sends nothing', function () {
    const files = [1, 2, 3].map((k) => {
      const f = path.join(work, 'src', `s${k}.bin`);
      fs.writeFileSync(f, crypto.randomBytes(k * 700 * 1024 + k));
      return f;
    });
    const dest = path.join(work, 'dest');
    const r = tezip(['send', ...files, '--to', sshd.url(dest), ...auth(), '--parallel', '3', '--part-size', '0.25', '--json']);
    assert.equal(r.code, 0, r.stderr);
    for (const f of files) assert.ok(fs.readFileSync(f).equals(fs.readFileSync(path.join(dest, path.basename(f)))));
    const again = JSON.parse(tezip(['send', ...files, '--to', sshd.url(dest), ...auth(), '--json']).stdout);
    assert.equal(again.bytesSent, 0);
    assert.ok(again.files.every((f: { status: string }) => f.status === 'skipped'));
  });
});

describe('pipeline: send to an sshd that allows no exec channel (read-back verification)', function () {
  this.timeout(60000);
  let sshd: Sshd;
  before(async function () {
    const why = sshdMissing();
    if (why) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    try {
      sshd = await startSshd({ extraConfig: ['ForceCommand internal-sftp'] });
    } catch (e) {
      // sshd is installed but cannot run here (sandbox, no loopback...): skip, saying why.
      console.log(`      (skipped: ${(e as Error).message})`);
      this.skip();
    }
  });
  after(async () => {
    if (sshd) await sshd.stop();
  });

  it('auto falls back to reading the file back and hashing it here; --verify exec refuses plainly', function () {
    const file = path.join(sshd.dir, 'r.bin');
    const data = crypto.randomBytes(3 * MiB + 3);
    fs.writeFileSync(file, data);
    const dest = path.join(sshd.dir, 'data', 'rb');
    const auth = ['--known-hosts', sshd.knownHosts, '-i', sshd.identity, '--state', path.join(sshd.dir, 'state')];
    assertOneLineError(tezip(['send', file, '--to', sshd.url(dest), ...auth, '--verify', 'exec', '--retries', '0']), 1, /no sha256sum\/dd over exec/);
    const r = tezip(['send', file, '--to', sshd.url(dest), ...auth, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).verifyMethod, 'read back over SFTP and hashed locally');
    assert.ok(fs.readFileSync(path.join(dest, 'r.bin')).equals(data));
  });
});
