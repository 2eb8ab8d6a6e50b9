// Model files are read like any other file: hostile. A table of damaged model folders, each refused with
// TEZ_MODEL and a message naming the problem, sizes checked before anything is read or allocated, and the
// native core's own checks (makePredNetModel) reached through loadPredNetModel.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultArch, weightCount } from '../src/prednet/config';
import { loadPredNetModel } from '../src/prednet/model';
import { loadModel, saveModel, sha256Hex } from '../src/prednet/modelfile';
import { TezipError } from '../src/errors';

type Json = Record<string, unknown>;

describe('hostile PredNet model files', function () {
  let dir: string;
  let manifest: Json;
  let weights: Buffer;
  const arch = defaultArch(1, [1, 2]);

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-hostile-model-'));
    const w = new Float32Array(weightCount(arch)).map((_, i) => Math.cos(i) / 4);
    saveModel(path.join(dir, 'good'), arch, { min: 0, max: 255 }, w);
    manifest = JSON.parse(fs.readFileSync(path.join(dir, 'good', 'manifest.json'), 'utf8'));
    weights = fs.readFileSync(path.join(dir, 'good', 'weights.bin'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A model folder holding this manifest (object or raw text) and these weight bytes. */
  let n = 0;
  function folder(m: Json | string, w: Buffer | null = weights): string {
    const d = path.join(dir, `case${++n}`);
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'manifest.json'), typeof m === 'string' ? m : JSON.stringify(m));
    if (w) fs.writeFileSync(path.join(d, 'weights.bin'), w);
    return d;
  }
  const withArch = (a: Json): Json => ({ ...manifest, architecture: { ...(manifest.architecture as Json), ...a } });
  const withWeights = (w: Json): Json => ({ ...manifest, weights: { ...(manifest.weights as Json), ...w } });
  /** Weight bytes with one value replaced, and a manifest whose sha256 matches them (a consistent, hostile file). */
  function poisoned(value: number): [Json, Buffer] {
    const b = Buffer.from(weights);
    b.writeFloatLE(value, 8);
    return [withWeights({ sha256: sha256Hex(b) }), b];
  }

  const cases: Array<[string, () => string, RegExp]> = [
    ['manifest is not JSON', () => folder('{"format": "tezip-prednet",'), /invalid JSON/],
    ['manifest is an array', () => folder('[1, 2, 3]'), /expected a JSON object/],
    ['manifest is null', () => folder('null'), /expected a JSON object/],
    ['manifest over 1 MiB', () => folder(JSON.stringify({ ...manifest, pad: 'x'.repeat(1 << 20) })), /too large/],
    ['manifest is a folder', () => {
      const d = path.join(dir, `case${++n}`);
      fs.mkdirSync(path.join(d, 'manifest.json'), { recursive: true });
      return d;
    }, /not a file/],
    ['another format', () => folder({ ...manifest, format: 'keras' }), /not a tezip PredNet manifest/],
    ['9 layers', () => folder(withArch({ stack: new Array(9).fill(1) })), /1 to 8 layers/],
    ['no layers', () => folder(withArch({ stack: [] })), /1 to 8 layers/],
    ['negative channels', () => folder(withArch({ rStack: [1, -2] })), /rStack/],
    ['channels above 1024', () => folder(withArch({ stack: [1, 4096] })), /stack/],
    ['fractional channels', () => folder(withArch({ stack: [1, 2.5] })), /stack/],
    ['channels as strings', () => folder(withArch({ rStack: ['1', '2'] })), /rStack/],
    ['even filter', () => folder(withArch({ ahatFilt: [3, 2] })), /ahatFilt/],
    ['filter of 2^31 + 1', () => folder(withArch({ rFilt: [3, 2 ** 31 + 1] })), /rFilt/],
    ['aFilt too long', () => folder(withArch({ aFilt: [3, 3] })), /aFilt/],
    ['pixelMax NaN (as null)', () => folder(withArch({ pixelMax: null })), /pixelMax/],
    ['pixelMax beyond float32 (native check)', () => folder(withArch({ pixelMax: 1e39 })), /pixelMax/],
    ['normalisation max <= min', () => folder({ ...manifest, normalization: { min: 5, max: 5 } }), /normalization/],
    ['normalisation span overflows (native check)', () =>
      folder({ ...manifest, normalization: { min: -1.5e308, max: 1.5e308 } }), /normalisation/],
    // 8 layers of 1024 channels, 15x15 filters: billions of weights, refused before the weights are opened.
    ['architecture far beyond the weight cap', () => folder(withArch({
      stack: [1, ...new Array(7).fill(1024)], rStack: new Array(8).fill(1024),
      aFilt: new Array(7).fill(15), ahatFilt: new Array(8).fill(15), rFilt: new Array(8).fill(15),
    }), null), /more than tezip accepts/],
    ['weights.count disagrees with the architecture', () => folder(withWeights({ count: 12 })), /weights.count/],
    ['weights file outside the folder', () => folder(withWeights({ file: '../../etc/passwd' })), /weights/],
    ['sha256 not hex', () => folder(withWeights({ sha256: 'zz' })), /sha256/],
    ['weights file missing', () => folder(manifest, null), /not found/],
    ['weights file one float short', () => folder(manifest, weights.subarray(4)), /bytes/],
    // A weights file far larger than the manifest says is refused by its size, before it is read.
    ['weights file larger than declared', () => folder(manifest, Buffer.concat([weights, Buffer.alloc(1 << 20)])), /too large/],
    ['weights replaced', () => folder(manifest, Buffer.from(weights).fill(1, 0, 4)), /does not match its manifest/],
    ['a NaN weight with a matching hash', () => folder(...poisoned(NaN)), /not all finite/],
    ['an infinite weight with a matching hash', () => folder(...poisoned(-Infinity)), /not all finite/],
  ];

  for (const [what, make, message] of cases) {
    it(`refuses: ${what}`, () => {
      const d = make();
      assert.throws(
        () => loadPredNetModel(d),
        (e: unknown) => {
          assert.ok(e instanceof TezipError, `a TezipError, got ${String(e)}`);
          assert.equal(e.code, 'TEZ_MODEL');
          assert.match(e.message, message);
          return true;
        },
      );
    });
  }

  it('the untouched model loads (the cases above differ from it in one thing each)', () => {
    const d = folder(manifest);
    assert.equal(loadModel(d).weights.length, weightCount(arch));
    assert.equal(loadPredNetModel(d).sha256, manifest.weights && (manifest.weights as Json).sha256);
  });
});
