// PredNet in TypeScript: training lowers the loss, model files round-trip and refuse corruption, resume works,
// the CLI's train command. Everything on tiny frames so the file runs in seconds.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultArch, weightCount } from '../src/prednet/config';
import { loadModel, saveModel } from '../src/prednet/modelfile';
import { train, TrainSource } from '../src/prednet/train';
import { TezipError } from '../src/errors';
import { ROOT, tezip } from './helpers/cli';

/** Bright squares moving over a grey background on 16×16 frames, bouncing off the walls. */
export function movingSquares(T: number, H = 16, W = 16, seqLen = 8): Uint8Array {
  const out = new Uint8Array(T * H * W).fill(128);
  for (let t = 0; t < T; t++) {
    const s = Math.floor(t / seqLen);
    const k = t % seqLen;
    const vx = (s % 3) - 1 || 1;
    const vy = ((s >> 1) % 3) - 1;
    let x = (3 + s * 5 + vx * k) % (2 * (W - 4));
    let y = (2 + s * 3 + vy * k + 4 * (H - 4)) % (2 * (H - 4));
    if (x < 0) x += 2 * (W - 4);
    if (x >= W - 4) x = 2 * (W - 4) - x;
    if (y >= H - 4) y = 2 * (H - 4) - y;
    for (let yy = y; yy < y + 4; yy++) for (let xx = x; xx < x + 4; xx++) out[(t * H + yy) * W + xx] = 250;
  }
  return out;
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-prednet-'));

describe('prednet (TypeScript, tfjs)', function () {
  this.timeout(300000);
  const src: TrainSource = { name: 'squares', data: movingSquares(96), shape: [96, 16, 16], dtype: 'uint8', sequenceLength: 8 };

  it('training for a few steps lowers the validation loss', async () => {
    const res = await train(src, { stack: [1, 4, 8], nt: 4, batch: 4, steps: 25, learningRate: 0.01, validation: 0.25, seed: 3 });
    assert.ok(res.validation.initial !== null && res.validation.final !== null);
    assert.ok(
      res.validation.final! < 0.8 * res.validation.initial!,
      `validation loss ${res.validation.initial} → ${res.validation.final} (${res.backend})`,
    );
    assert.equal(res.weights.length, weightCount(res.manifest.architecture));
    assert.ok(res.losses.every(Number.isFinite));
  });

  it('saves a model folder that loads with its hash checked; resume continues from the checkpoint', async () => {
    const dir = tmp();
    try {
      const out = path.join(dir, 'm');
      const a = await train(src, { output: out, stack: [1, 4, 8], nt: 4, batch: 2, steps: 2, checkpointEvery: 1, seed: 5 });
      const m = loadModel(out);
      assert.equal(m.sha256, a.manifest.weights.sha256);
      assert.deepEqual(Array.from(m.weights), Array.from(a.weights));
      assert.deepEqual(m.manifest.normalization, { min: 0, max: 255 });
      assert.ok(fs.existsSync(path.join(out, 'checkpoint', 'state.json')));
      const b = await train(src, { output: out, stack: [1, 4, 8], nt: 4, batch: 2, steps: 4, resume: true, seed: 5 });
      assert.equal(b.losses.length, 3, 'resumed at the checkpoint of step 1 and ran steps 2..4');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses corrupt, truncated, mismatched and missing model files with TEZ_MODEL', () => {
    const dir = tmp();
    try {
      const arch = defaultArch(1, [1, 2]);
      const w = new Float32Array(weightCount(arch)).map((_, i) => Math.sin(i));
      saveModel(dir, arch, { min: 0, max: 255 }, w);
      assert.equal(loadModel(dir).weights.length, w.length);
      const isModelError = (re: RegExp) => (e: unknown) => e instanceof TezipError && e.code === 'TEZ_MODEL' && re.test(e.message);
      const wPath = path.join(dir, 'weights.bin');
      const good = fs.readFileSync(wPath);
      const flipped = Buffer.from(good);
      flipped[10] ^= 1;
      fs.writeFileSync(wPath, flipped);
      assert.throws(() => loadModel(dir), isModelError(/sha256/));
      fs.writeFileSync(wPath, good.subarray(0, good.length - 4));
      assert.throws(() => loadModel(dir), isModelError(/bytes/));
      fs.writeFileSync(wPath, good);
      const mPath = path.join(dir, 'manifest.json');
      const manifest = JSON.parse(fs.readFileSync(mPath, 'utf8'));
      fs.writeFileSync(mPath, JSON.stringify({ ...manifest, architecture: { ...manifest.architecture, rFilt: [3, 4] } }));
      assert.throws(() => loadModel(dir), isModelError(/rFilt/));
      fs.writeFileSync(mPath, JSON.stringify({ ...manifest, formatVersion: 99 }));
      assert.throws(() => loadModel(dir), isModelError(/version/));
      fs.writeFileSync(mPath, JSON.stringify({ ...manifest, weights: { ...manifest.weights, file: '../x.bin' } }));
      assert.throws(() => loadModel(dir), isModelError(/weights/));
      fs.writeFileSync(mPath, '{not json');
      assert.throws(() => loadModel(dir), isModelError(/JSON/));
      assert.throws(() => loadModel(path.join(dir, 'nope')), isModelError(/not found/));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the shipped models load with their sha256 verified', () => {
    const dir = path.resolve(__dirname, '../../models');
    const names = fs.readdirSync(dir).filter((n) => fs.existsSync(path.join(dir, n, 'manifest.json')));
    assert.ok(names.includes('moving_mnist'));
    for (const n of names) {
      const m = loadModel(path.join(dir, n));
      assert.equal(m.weights.length, weightCount(m.manifest.architecture));
      assert.ok(m.manifest.training && m.manifest.training.loss.validation! < m.manifest.training.loss.initialValidation!);
    }
  });

  it('rejects bad training options with TypeError/RangeError', async () => {
    await assert.rejects(train(src, { nt: 1 }), RangeError);
    await assert.rejects(train(src, { crop: 6 }), /multiple of 4/);
    await assert.rejects(train({ ...src, shape: [96, 16] }), RangeError);
    await assert.rejects(train(src, { nt: 9 }), /No sequence of 9 frames/);
  });

  it('tezip train reads a folder of PNG frames (the same readers as compress)', function () {
    this.timeout(120000);
    const out = path.join(tmp(), 'm');
    const r = tezip(['train', path.join(ROOT, 'samples', 'png_small'), '-o', out, '--steps', '2', '--stack', '1,4', '--nt', '4', '--batch', '1', '--crop', '16']);
    assert.equal(r.code, 0, r.stderr);
    const m = loadModel(out);
    assert.equal(weightCount(m.manifest.architecture), m.weights.length);
  });
});
