// Training hand-off: dataset export and its reader, the model registry, and the known_hosts matcher.
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertOneLineError, tezip } from './helpers/cli';
import { datasetTrainSources, loadSplit, openDataset, readShard } from '../src/pipeline/dataset';
import { installModel, listModels, resolveModel } from '../src/pipeline/registry';
import { checkHostKey, fingerprint, hostEntryName, keysForHost, patternListMatches } from '../src/pipeline/known-hosts';

function writeRaw(file: string, data: Uint8Array | Uint16Array, shape: number[], dtype: string): void {
  fs.writeFileSync(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  fs.writeFileSync(file.replace(/\.raw$/, '.json'), JSON.stringify({ shape, dtype }));
}

describe('pipeline: dataset export', function () {
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-ds-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('cuts sequences, splits train/val, and the reader gives back every frame normalised, with provenance', async function () {
    // Two sources; every frame is filled with a value that names (source, frame) so provenance can be checked.
    const [T1, T2, H, W] = [23, 12, 6, 5];
    const a = new Uint16Array(T1 * H * W);
    for (let t = 0; t < T1; t++) a.fill(100 + t, t * H * W, (t + 1) * H * W);
    const b = new Uint16Array(T2 * H * W);
    for (let t = 0; t < T2; t++) b.fill(1000 + t, t * H * W, (t + 1) * H * W);
    writeRaw(path.join(tmp, 'a.raw'), a, [T1, H, W], 'uint16');
    writeRaw(path.join(tmp, 'b.raw'), b, [T2, H, W], 'uint16');
    const out = path.join(tmp, 'ds');
    const r = tezip(['dataset', 'export', path.join(tmp, 'a.raw'), path.join(tmp, 'b.json'), '-o', out, '--nt', '4', '--val', '0.25', '--shard-sequences', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    // 23 frames → 5 sequences of 4, 12 → 3: 8 in all, 2 for validation.
    assert.equal(s.train + s.val, 8);
    assert.equal(s.val, 2);

    const ds = openDataset(out);
    const m = ds.manifest;
    assert.deepEqual(m.frameShape, [H, W, 1]);
    assert.equal(m.dtype, 'uint16');
    assert.deepEqual(m.normalization, { kind: 'minmax', min: 100, max: 1011 });
    assert.equal(m.sources.length, 2);
    assert.equal(m.sources[0].sha256, crypto.createHash('sha256').update(new Uint8Array(a.buffer)).digest('hex'));
    for (const sh of m.shards) assert.equal(sh.sha256, crypto.createHash('sha256').update(fs.readFileSync(path.join(out, sh.file))).digest('hex'));

    const seen: string[] = [];
    for (const split of ['train', 'val'] as const) {
      const { data, shape } = await loadSplit(ds, split);
      assert.deepEqual(shape.slice(1), [4, H, W, 1]);
      const prov = m.shards.filter((x) => x.split === split).flatMap((x) => x.provenance);
      assert.equal(prov.length, shape[0]);
      prov.forEach((p, q) => {
        for (let t = 0; t < 4; t++) {
          const want = ((p.source === 0 ? 100 : 1000) + p.start + t - 100) / (1011 - 100);
          const v = data[((q * 4 + t) * H * W) + 7];
          assert.ok(Math.abs(v - want) < 1e-6, `sequence ${q} frame ${t}: ${v} vs ${want}`);
        }
        seen.push(`${p.source}:${p.start}`);
      });
    }
    assert.equal(new Set(seen).size, 8, 'each sequence exactly once across the splits');

    // The trainer's view: raw values per shard, sequences of nt, the export's normalisation.
    const t = await datasetTrainSources(out);
    assert.equal(t.nt, 4);
    assert.deepEqual(t.normalization, { min: 100, max: 1011 });
    assert.equal(t.sources.filter((x) => x.split === 'val').reduce((n, x) => n + x.shape[0] / 4, 0), 2);
    const first = t.sources[0];
    const p0 = m.shards[0].provenance[0];
    assert.equal(first.data[0], (p0.source === 0 ? 100 : 1000) + p0.start);
    assert.deepEqual(first.shape.slice(1), [H, W]);
  });

  it('a shard that does not match its sha256 is refused; a hostile manifest cannot name files outside', async function () {
    const out = path.join(tmp, 'ds');
    const ds = openDataset(out);
    const sh = ds.manifest.shards[0];
    const file = path.join(out, sh.file);
    const orig = fs.readFileSync(file);
    const bad = Buffer.from(orig);
    bad[bad.length - 3] ^= 1;
    fs.writeFileSync(file, bad);
    await assert.rejects(readShard(ds, sh), (e: Error & { code?: string }) => e.code === 'TEZ_CHECKSUM');
    fs.writeFileSync(file, orig);

    const evil = path.join(tmp, 'evil');
    fs.mkdirSync(evil);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    m.shards[0].file = '../ds/' + m.shards[0].file;
    fs.writeFileSync(path.join(evil, 'manifest.json'), JSON.stringify(m));
    assert.throws(() => openDataset(evil), /bad shard name/);
  });

  it('usage errors are one line with exit 2; existing datasets are not overwritten', function () {
    assertOneLineError(tezip(['dataset', 'export', path.join(tmp, 'a.raw'), '-o', path.join(tmp, 'x')]), 2, /--nt/);
    assertOneLineError(tezip(['dataset', 'export', path.join(tmp, 'a.raw'), '-o', path.join(tmp, 'x'), '--nt', '4', '--val', '1']), 2, /--val/);
    assertOneLineError(tezip(['dataset', 'frob']), 2, /unknown dataset subcommand/);
    assertOneLineError(tezip(['dataset', 'export', path.join(tmp, 'a.raw'), '-o', path.join(tmp, 'ds'), '--nt', '4']), 1, /already holds a dataset/);
    assertOneLineError(tezip(['dataset', 'export', path.join(tmp, 'a.raw'), '-o', path.join(tmp, 'y'), '--nt', '400']), 1, /no sequence/);
  });
});

describe('pipeline: model registry', function () {
  let tmp: string;
  let home: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-reg-'));
    home = path.join(tmp, 'home');
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A model folder as a trainer leaves it: weight files and a manifest pinning them by sha256. */
  function modelFolder(name: string, version: string, weights: Buffer): string {
    const dir = path.join(tmp, `${name}-${version}-${crypto.randomBytes(3).toString('hex')}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'weights.bin'), weights);
    const manifest = {
      name,
      version,
      arch: { stack: [1, 4] },
      files: [{ path: 'weights.bin', sha256: crypto.createHash('sha256').update(weights).digest('hex'), bytes: weights.length }],
    };
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    return dir;
  }

  it('installs, lists and resolves NAME and NAME@VERSION (highest version by default)', function () {
    const env = { TEZIP_HOME: home };
    const v1 = modelFolder('water', '1', crypto.randomBytes(100));
    const v10 = modelFolder('water', '10', crypto.randomBytes(100));
    const v2 = modelFolder('water', '2', crypto.randomBytes(100));
    for (const d of [v1, v10, v2]) assert.equal(tezip(['model', 'install', d], env).code, 0);
    const again = tezip(['model', 'install', v2], env);
    assert.match(again.stdout, /already installed water@2/);
    const list = JSON.parse(tezip(['model', 'list', '--json'], env).stdout);
    assert.deepEqual(list.map((m: { version: string }) => m.version), ['1', '2', '10']);
    assert.equal(resolveModel('water', home).version, '10');
    const r2 = resolveModel('water@2', home);
    assert.equal(r2.version, '2');
    assert.equal(r2.sha256, crypto.createHash('sha256').update(fs.readFileSync(path.join(v2, 'manifest.json'))).digest('hex'));
    assert.ok(fs.existsSync(path.join(r2.dir, 'weights.bin')));
    assert.throws(() => resolveModel('water@3', home), /not installed \(installed versions: 1, 2, 10\)/);
    assert.throws(() => resolveModel('ice', home), /not installed/);
    assert.throws(() => resolveModel('../x', home), TypeError);
    assert.equal(listModels(home).length, 3);
  });

  it('takes a PredNet model folder (weights: {file, sha256}) under its manifest name', function () {
    const dir = path.join(tmp, 'prednet-out');
    fs.mkdirSync(dir);
    const w = crypto.randomBytes(256);
    fs.writeFileSync(path.join(dir, 'weights.bin'), w);
    fs.writeFileSync(
      path.join(dir, 'manifest.json'),
      JSON.stringify({ format: 'tezip-prednet', formatVersion: 1, name: 'tiny', weights: { file: 'weights.bin', dtype: 'float32', sha256: crypto.createHash('sha256').update(w).digest('hex') } }),
    );
    const e = installModel(dir, { home });
    assert.equal(e.name, 'tiny');
    assert.equal(e.version, '1');
    assert.equal(resolveModel('tiny@1', home).manifest.format, 'tezip-prednet');
  });

  it('refuses a model whose files do not match the manifest, and a tampered installed model', function () {
    const d = modelFolder('ice', '1', crypto.randomBytes(64));
    fs.appendFileSync(path.join(d, 'weights.bin'), 'x');
    assertOneLineError(tezip(['model', 'install', d], { TEZIP_HOME: home }), 1, /sha256 of weights\.bin/);
    assert.throws(() => resolveModel('ice', home), /not installed/);

    const ok = modelFolder('fire', '1', crypto.randomBytes(64));
    installModel(ok, { home });
    fs.appendFileSync(path.join(home, 'models', 'fire', '1', 'weights.bin'), 'y');
    assert.throws(() => resolveModel('fire', home), (e: Error & { code?: string }) => e.code === 'TEZ_CHECKSUM');
    // Same NAME@VERSION with other content needs --force.
    const other = modelFolder('fire', '1', crypto.randomBytes(64));
    assert.throws(() => installModel(other, { home }), /already installed with different content/);
    installModel(other, { home, force: true });
    assert.equal(resolveModel('fire@1', home).source, path.resolve(other));

    const escape = modelFolder('evil', '1', Buffer.from('z'));
    const m = JSON.parse(fs.readFileSync(path.join(escape, 'manifest.json'), 'utf8'));
    m.files[0].path = '../../etc/passwd';
    fs.writeFileSync(path.join(escape, 'manifest.json'), JSON.stringify(m));
    assert.throws(() => installModel(escape, { home }), /bad file name/);
  });
});

describe('pipeline: training hand-off end to end', function () {
  this.timeout(300000);
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-handoff-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('dataset export → tezip train (on the dataset folder) → tezip model install → compress with the resolved model', async function () {
    // Moving squares, 24 frames of 16×16 uint8 (what PredNet's own tests train on).
    const [T, H, W] = [24, 16, 16];
    const data = new Uint8Array(T * H * W).fill(128);
    for (let t = 0; t < T; t++) for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) data[(t * H + 2 + y + (t % 8)) * W + 1 + x + (t % 10)] = 250;
    writeRaw(path.join(tmp, 'sq.raw'), data, [T, H, W], 'uint8');
    const ds = path.join(tmp, 'ds');
    const env = { TEZIP_HOME: path.join(tmp, 'home') };
    const ex = tezip(['dataset', 'export', path.join(tmp, 'sq.raw'), '-o', ds, '--nt', '4', '--val', '0.25', '--normalize', 'dtype']);
    assert.equal(ex.code, 0, ex.stderr);

    const model = path.join(tmp, 'tiny');
    const tr = tezip(['train', ds, '-o', model, '--steps', '2', '--batch', '2', '--stack', '1,4', '--checkpoint-every', '0', '--json'], env);
    assert.equal(tr.code, 0, tr.stderr);
    const trained = JSON.parse(fs.readFileSync(path.join(model, 'manifest.json'), 'utf8'));
    assert.deepEqual(trained.normalization, { min: 0, max: 255 }, "the dataset's normalisation reached the model");
    assert.equal(trained.training.nt, 4, "the dataset's nt reached the trainer");

    const inst = tezip(['model', 'install', model, '--version', '1'], env);
    assert.equal(inst.code, 0, inst.stderr);
    const listed = JSON.parse(tezip(['model', 'list', '--json'], env).stdout);
    assert.deepEqual(listed.map((m: { name: string; version: string }) => `${m.name}@${m.version}`), [`${trained.name}@1`]);

    const r = resolveModel(`${trained.name}@1`, env.TEZIP_HOME);
    const lib: typeof import('../src/index') = require('../src/index');
    const bytes = await lib.compress({ data, shape: [T, H, W], dtype: 'uint8' }, { predictor: 'prednet', model: r.dir, level: 0 });
    assert.ok(lib.inspect(bytes).chunks.some((c) => c.predictor === 'prednet'), 'chunks coded with the installed model');
    const back = await lib.decompress(bytes, { model: r.dir });
    assert.ok(Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength).equals(Buffer.from(data)), 'lossless round trip');

    // The same through the CLI, naming the installed model: tezip compress/decompress --model NAME@VERSION.
    const tez = path.join(tmp, 'sq.tez');
    const c = tezip(['compress', path.join(tmp, 'sq.raw'), '-o', tez, '--predictor', 'prednet', '--model', `${trained.name}@1`, '--level', '0', '--quiet'], env);
    assert.equal(c.code, 0, c.stderr);
    const info = JSON.parse(tezip(['info', tez, '--json'], env).stdout);
    assert.ok(JSON.stringify(info).includes('prednet'), 'the file says it needs the PredNet model');
    const d = tezip(['decompress', tez, '-o', path.join(tmp, 'sq_back.raw'), '--model', trained.name, '--quiet'], env);
    assert.equal(d.code, 0, d.stderr);
    assert.ok(fs.readFileSync(path.join(tmp, 'sq_back.raw')).equals(Buffer.from(data)), 'CLI round trip with the installed model');
    assertOneLineError(tezip(['compress', path.join(tmp, 'sq.raw'), '-o', tez, '--predictor', 'prednet', '--model', 'nosuch@2'], env), 1, /not installed/);
  });
});

describe('pipeline: known_hosts matching', function () {
  const blob = (type: string, body: string) => {
    const t = Buffer.from(type);
    const b = Buffer.from(body);
    const out = Buffer.alloc(8 + t.length + b.length);
    out.writeUInt32BE(t.length, 0);
    t.copy(out, 4);
    out.writeUInt32BE(b.length, 4 + t.length);
    b.copy(out, 8 + t.length);
    return out;
  };
  const k1 = blob('ssh-ed25519', 'key-one-32-bytes-long-0000000000');
  const k2 = blob('ssh-ed25519', 'key-two-32-bytes-long-0000000000');

  it('matches plain, [host]:port, wildcard, negated and hashed entries', function () {
    assert.equal(hostEntryName('h', 22), 'h');
    assert.equal(hostEntryName('h', 2222), '[h]:2222');
    assert.ok(patternListMatches('a,h,b', 'h'));
    assert.ok(patternListMatches('*.example.org', 'x.example.org'));
    assert.ok(!patternListMatches('*.example.org,!x.example.org', 'x.example.org'));
    const salt = crypto.randomBytes(20);
    const hashed = `|1|${salt.toString('base64')}|${crypto.createHmac('sha1', salt).update('[h]:2222').digest('base64')}`;
    assert.ok(patternListMatches(hashed, '[h]:2222'));
    assert.ok(!patternListMatches(hashed, 'h'));
    const text = [`# c`, `h ssh-ed25519 ${k2.toString('base64')}`, `${hashed} ssh-ed25519 ${k1.toString('base64')}`, 'garbage', ''].join('\n');
    const keys = keysForHost(text, 'h', 2222);
    assert.equal(keys.length, 1);
    assert.doesNotThrow(() => checkHostKey(keys, k1, 'h', 2222, 'kh'));
    assert.throws(() => checkHostKey(keys, k2, 'h', 2222, 'kh'), (e: Error & { code?: string }) => e.code === 'HOSTKEY_CHANGED' && e.message.includes(fingerprint(k2)));
    assert.throws(() => checkHostKey(keysForHost(text, 'other', 22), k1, 'other', 22, 'kh'), (e: Error & { code?: string }) => e.code === 'HOSTKEY_UNKNOWN');
    const revoked = `@revoked h ssh-ed25519 ${k1.toString('base64')}\nh ssh-ed25519 ${k1.toString('base64')}`;
    assert.throws(() => checkHostKey(keysForHost(revoked, 'h', 22), k1, 'h', 22, 'kh'), (e: Error & { code?: string }) => e.code === 'HOSTKEY_REVOKED');
  });
});
