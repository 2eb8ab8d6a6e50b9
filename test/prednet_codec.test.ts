// PredNet in the codec: the native kernels agree with tfjs, round trips are bit-exact (closed loop, static and
// dynamic windows, warm-up) and lossy ones hold their bounds, and a missing or different model is a clear
// TEZ_MODEL error naming the expected sha256. Level 0 keeps the coded path (level 1 may store zstd'd raw
// frames instead, which needs no prediction).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compress, decompress, decompressSync, compressSync, inspect, TezipError } from '../src/index';
import { defaultArch, weightCount } from '../src/prednet/config';
import { saveModel } from '../src/prednet/modelfile';
import { PredNetModel, loadPredNetModel, nativePredict } from '../src/prednet/model';
import { buildNet, disposeNet, initialWeights, predictSequence } from '../src/prednet/network';
import { loadTf } from '../src/prednet/tf';
import { readRaw } from '../src/io/raw';
import { movingSquares } from './prednet.test';

const DATA = path.resolve(__dirname, '../../../shared/data');

/** Random weights with non-zero biases, so every part of the graph matters. */
function randomWeights(stack: number[], seed: number): Float32Array {
  const arch = defaultArch(1, stack);
  const parts = initialWeights(arch, seed);
  let s = seed;
  for (const p of parts)
    if (p.every((v) => v === 0)) for (let i = 0; i < p.length; i++) p[i] = (((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5) * 0.4;
  const flat = new Float32Array(weightCount(arch));
  let at = 0;
  for (const p of parts) {
    flat.set(p, at);
    at += p.length;
  }
  return flat;
}

function modelDir(root: string, name: string, stack: number[], seed: number, norm = { min: 0, max: 255 }): string {
  const dir = path.join(root, name);
  saveModel(dir, defaultArch(1, stack), norm, randomWeights(stack, seed));
  return dir;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('prednet in the codec', function () {
  this.timeout(300000);
  let root: string;
  let model: PredNetModel;
  let other: PredNetModel;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-prednet-codec-'));
    model = loadPredNetModel(modelDir(root, 'a', [1, 4, 8], 11));
    other = loadPredNetModel(modelDir(root, 'b', [1, 4, 8], 12));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('native predictions agree with tfjs within 1e-5 (frames padded to the size multiple and cropped)', async () => {
    const env = await loadTf();
    const [T, H, W] = [5, 18, 22];
    const frames = new Float32Array(T * H * W);
    for (let t = 0; t < T; t++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) frames[(t * H + y) * W + x] = 0.5 + 0.5 * Math.sin(0.4 * (x - 2 * t) + 0.3 * y);
    const arch = model.manifest.architecture;
    const flat = randomWeights([1, 4, 8], 11);
    const parts: Float32Array[] = [];
    let at = 0;
    for (const p of initialWeights(arch, 0)) {
      parts.push(flat.subarray(at, at + p.length));
      at += p.length;
    }
    const net = buildNet(env, arch, parts, false);
    try {
      const ref = predictSequence(net, frames, [T, H, W, 1]);
      const got = nativePredict(model, frames, T, H, W);
      const d = maxAbsDiff(ref, got);
      assert.ok(d <= 1e-5, `max |native − tfjs| = ${d} (${env.backend})`);
      assert.ok(maxAbsDiff(got.subarray(0, H * W), got.subarray(4 * H * W)) > 1e-3, 'predictions depend on the input');
    } finally {
      disposeNet(net);
    }
  });

  const T = 12;
  const data = movingSquares(T, 16, 20, 12);
  const shape = [T, 16, 20];
  const variants: Array<[string, object]> = [
    ['closed loop', {}],
    ['warm-up 2', { warmup: 2 }],
    ['static window 4', { window: 4 }],
    ['static window 5 + warm-up 1', { window: 5, warmup: 1 }],
    ['dynamic window (MSE 50)', { mseThreshold: 50 }],
  ];
  for (const [name, extra] of variants) {
    it(`lossless round trip is bit-exact: ${name}`, async () => {
      const c = await compress({ data, shape }, { predictor: 'prednet', model, level: 0, ...extra });
      assert.equal(inspect(c).chunks[0].predictor, 'prednet');
      assert.deepEqual((inspect(c).metadata as { prednet: { sha256: string } }).prednet.sha256, model.sha256);
      const d = await decompress(c, { model });
      assert.deepEqual(Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength), Buffer.from(data));
      const s = decompressSync(c, { model: model.dir });
      assert.deepEqual(Array.from(s.data), Array.from(data));
    });
  }

  it('lossy modes hold their bounds on every element (uint8 abs, float32 abs and pwrel)', () => {
    const c = compressSync({ data, shape }, { predictor: 'prednet', model, level: 0, abs: 3, window: 4 });
    assert.ok(maxAbsDiff(decompressSync(c, { model }).data, data) <= 3);
    const f = new Float32Array(data.length);
    for (let i = 0; i < f.length; i++) f[i] = data[i] * 1.37 + 5 + Math.sin(i);
    for (const opts of [{ abs: 0.5 }, { pwrel: 0.01 }, {}]) {
      const cf = compressSync({ data: f, shape }, { predictor: 'prednet', model, level: 0, ...opts });
      const back = decompressSync(cf, { model }).data as Float32Array;
      for (let i = 0; i < f.length; i++) {
        const e = Math.abs(back[i] - f[i]);
        const lim = 'abs' in opts ? opts.abs! : 'pwrel' in opts ? opts.pwrel! * Math.abs(f[i]) : 0;
        assert.ok(e <= lim, `${JSON.stringify(opts)}: element ${i}: |${back[i]} − ${f[i]}| > ${lim}`);
      }
    }
  });

  it('decoding without the model, or with another one, fails with TEZ_MODEL naming the expected sha256', async () => {
    const c = compressSync({ data, shape }, { predictor: 'prednet', model, level: 0 });
    const isModelErr = (e: unknown) => e instanceof TezipError && e.code === 'TEZ_MODEL' && e.message.includes(model.sha256);
    assert.throws(() => decompressSync(c), isModelErr);
    await assert.rejects(decompress(c, { model: other }), isModelErr);
    assert.throws(() => compressSync({ data, shape }, { predictor: 'prednet' }), TypeError);
    assert.throws(() => compressSync({ data, shape }, { predictor: 'prednet', model: path.join(root, 'missing') }), /TEZ_MODEL|not found/);
    assert.throws(() => compressSync({ data, shape }, { window: 3 }), TypeError);
    assert.throws(() => compressSync({ data, shape }, { predictor: 'prednet', model, mseThreshold: -1 }), RangeError);
    // a model for 1 channel refuses 2-channel frames
    assert.throws(() => compressSync({ data: new Uint8Array(T * 16 * 20 * 2), shape: [T, 16, 20, 2] }, { predictor: 'prednet', model, level: 0 }), /channel/);
  });

  it('auto tries PredNet per chunk when a model is given and round-trips whatever it picks', () => {
    const c = compressSync({ data, shape }, { model, level: 2 });
    assert.deepEqual(Array.from(decompressSync(c, { model }).data), Array.from(data));
  });

  it('tezip compress --predictor prednet --model / decompress --model (the shipped model)', () => {
    const cli = path.resolve(__dirname, '../../dist/cli/main.js');
    const shipped = path.resolve(__dirname, '../../models/moving_mnist');
    const raw = path.join(root, 'sq.raw');
    fs.writeFileSync(raw, data);
    fs.writeFileSync(path.join(root, 'sq.json'), JSON.stringify({ shape, dtype: 'uint8' }));
    const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    const tez = path.join(root, 'sq.tez');
    const c = run(['compress', raw, '-o', tez, '--predictor', 'prednet', '--model', shipped, '--window', '6', '--level', '0', '--verify']);
    assert.equal(c.status, 0, c.stderr);
    const sha = JSON.parse(fs.readFileSync(path.join(shipped, 'manifest.json'), 'utf8')).weights.sha256;
    const bad = run(['decompress', tez, '-o', path.join(root, 'back.raw')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, new RegExp(`^tezip: .*${sha}`));
    const ok = run(['decompress', tez, '-o', path.join(root, 'back.raw'), '--model', shipped]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(fs.readFileSync(path.join(root, 'back.raw')), Buffer.from(data));
    const usage = run(['compress', raw, '-o', tez, '--predictor', 'prednet']);
    assert.equal(usage.status, 1);
    assert.match(usage.stderr, /options\.model/);
  });

  for (const name of ['moving_mnist', 'bulk_water']) {
    it(`${name}: lossless and rel 1e-2 round trips with prednet (skips without ../shared/data)`, function () {
      if (!fs.existsSync(path.join(DATA, `${name}.raw`))) this.skip();
      const r = readRaw(path.join(DATA, `${name}.raw`));
      const [, H, W] = r.shape;
      const frames = name === 'moving_mnist' ? 24 : 3;
      const sub = (r.data as Uint8Array).subarray(0, frames * H * W);
      const cases: Array<{ level: 0 | 1; window?: number; rel?: number }> = [{ level: 0 }, { level: 0, window: 6 }, { level: 0, rel: 1e-2 }, { level: 1 }];
      for (const opts of cases) {
        const c = compressSync({ data: sub, shape: [frames, H, W] }, { predictor: 'prednet', model, ...opts });
        const back = decompressSync(c, { model }).data;
        const lim = opts.rel ? opts.rel * 255 : 0;
        assert.ok(maxAbsDiff(back, sub) <= lim, `${name} ${JSON.stringify(opts)}`);
      }
    });
  }
});
