// PredNet training in TensorFlow.js: sequences of `nt` frames cut from the inputs, a validation split, Adam,
// Lotter's L_0 loss (layer-0 error, first step weighted 0), checkpoints that `resume` continues from.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { TezipError } from '../errors';
import { PredNetArch, checkArch, defaultArch, sizeMultiple } from './config';
import { Manifest, Normalization, TrainingSummary, joinWeights, loadModel, saveModel, splitWeights } from './modelfile';
import { Net, buildNet, disposeNet, initialWeights, rng, sequenceLoss } from './network';
import { BackendChoice, loadTf } from './tf';

type Numeric = ArrayLike<number>;

/** One input array: frames [T, H, W] or [T, H, W, C]. */
export interface TrainSource {
  name: string;
  data: Numeric;
  shape: number[];
  dtype: string;
  /** Frames per independent sequence (e.g. moving_mnist's 20); default: all frames are one sequence. */
  sequenceLength?: number;
  /** Use only frames [first, end). */
  frames?: [number, number];
}

export interface TrainProgress {
  step: number;
  steps: number;
  loss: number;
  elapsedSeconds: number;
  etaSeconds: number;
}

export interface TrainOptions {
  /** Where the model goes (NAME/manifest.json, NAME/weights.bin); checkpoints in NAME/checkpoint/. */
  output?: string;
  /** Architecture, or just the stack sizes (default (C,16,32)). */
  architecture?: PredNetArch;
  stack?: number[];
  nt?: number;
  batch?: number;
  steps?: number;
  learningRate?: number;
  /** Fraction of the sequences kept for validation (default 0.1). */
  validation?: number;
  /** Train on random square crops of this size (a multiple of 2^(layers−1)); 0 = whole frames. */
  crop?: number;
  seed?: number;
  /** Save a checkpoint every N steps (default 50; 0 = never). */
  checkpointEvery?: number;
  /** Continue from output/checkpoint when it exists. */
  resume?: boolean;
  backend?: BackendChoice;
  normalization?: Normalization;
  onProgress?: (p: TrainProgress) => void;
}

export interface TrainResult {
  manifest: Manifest;
  weights: Float32Array;
  backend: string;
  /** Training loss per step (steps run in this call). */
  losses: number[];
  validation: { initial: number | null; final: number | null };
}

interface Window {
  src: number;
  start: number;
}

function int(v: unknown, name: string, min: number, max: number, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`Expected an integer in ${min}..${max} for ${name} but received ${JSON.stringify(v)}`);
  return v;
}

function geometry(s: TrainSource): { T: number; H: number; W: number; C: number } {
  if (!Array.isArray(s.shape) || (s.shape.length !== 3 && s.shape.length !== 4) || !s.shape.every((d) => Number.isInteger(d) && d >= 1))
    throw new RangeError(`Expected shape [frames, height, width(, channels)] for ${s.name} but received ${JSON.stringify(s.shape)}`);
  const [T, H, W, C = 1] = s.shape;
  if (s.data.length !== T * H * W * C) throw new RangeError(`${s.name}: ${s.data.length} values do not fill shape ${JSON.stringify(s.shape)}`);
  return { T, H, W, C };
}

/** Input normalisation: the type's range for uint8, else the finite range of the data. */
export function normalizationOf(sources: TrainSource[]): Normalization {
  if (sources.every((s) => s.dtype === 'uint8')) return { min: 0, max: 255 };
  let mn = Infinity;
  let mx = -Infinity;
  for (const s of sources)
    for (let i = 0; i < s.data.length; i++) {
      const v = s.data[i];
      if (Number.isFinite(v)) {
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
    }
  if (!(mx > mn)) return { min: Number.isFinite(mn) ? mn : 0, max: Number.isFinite(mn) ? mn + 1 : 1 };
  return { min: mn, max: mx };
}

export async function train(dataset: TrainSource | TrainSource[], options: TrainOptions = {}): Promise<TrainResult> {
  const sources = Array.isArray(dataset) ? dataset : [dataset];
  if (sources.length === 0) throw new RangeError('Expected at least one training source');
  const geos = sources.map(geometry);
  const C = geos[0].C;
  if (geos.some((g) => g.C !== C)) throw new RangeError('All training sources need the same number of channels');
  const nt = int(options.nt, 'nt', 2, 1000, 10);
  const batch = int(options.batch, 'batch', 1, 4096, 4);
  const steps = int(options.steps, 'steps', 0, 1e9, 200);
  const seed = int(options.seed, 'seed', 0, 2 ** 31 - 1, 1);
  const checkpointEvery = int(options.checkpointEvery, 'checkpointEvery', 0, 1e9, 50);
  const lr = options.learningRate ?? 1e-3;
  if (!(lr > 0 && lr < 1)) throw new RangeError(`Expected a learning rate in (0, 1) but received ${lr}`);
  const valFrac = options.validation ?? 0.1;
  if (!(valFrac >= 0 && valFrac < 1)) throw new RangeError(`Expected a validation fraction in [0, 1) but received ${valFrac}`);
  let arch = options.architecture ? checkArch(options.architecture) : defaultArch(C, options.stack);
  if (arch.stack[0] !== C) throw new RangeError(`The architecture's stack[0] (${arch.stack[0]}) must equal the channel count (${C})`);
  const m = sizeMultiple(arch);
  const crop = int(options.crop, 'crop', 0, 65536, 0);
  if (crop % m !== 0) throw new RangeError(`Expected crop to be a multiple of ${m} (2^(layers−1)) but received ${crop}`);

  // Frame size of the batches: the crop, or the (padded) frame size shared by all sources.
  let bh: number;
  let bw: number;
  if (crop) {
    for (const [i, g] of geos.entries())
      if (g.H < crop || g.W < crop) throw new RangeError(`${sources[i].name}: frames of ${g.H}×${g.W} are smaller than the crop ${crop}`);
    bh = bw = crop;
  } else {
    if (geos.some((g) => g.H !== geos[0].H || g.W !== geos[0].W)) throw new RangeError('Sources of different frame sizes need a crop');
    bh = Math.ceil(geos[0].H / m) * m;
    bw = Math.ceil(geos[0].W / m) * m;
  }

  // Windows of nt frames that stay inside one sequence and the chosen frame range.
  const windows: Window[] = [];
  sources.forEach((s, si) => {
    const T = geos[si].T;
    const [first, end] = s.frames ?? [0, T];
    if (!(Number.isInteger(first) && Number.isInteger(end) && first >= 0 && end <= T && first < end))
      throw new RangeError(`${s.name}: bad frame range ${JSON.stringify(s.frames)} for ${T} frames`);
    const seqLen = s.sequenceLength ?? T;
    for (let q = 0; q < T; q += seqLen) {
      const a = Math.max(q, first);
      const b = Math.min(q + seqLen, end);
      for (let k = a; k + nt <= b; k += nt) windows.push({ src: si, start: k });
    }
  });
  if (windows.length === 0) throw new RangeError(`No sequence of ${nt} frames in the training data`);
  const shuffle = rng(seed);
  for (let i = windows.length - 1; i > 0; i--) {
    const j = Math.floor(shuffle() * (i + 1));
    [windows[i], windows[j]] = [windows[j], windows[i]];
  }
  const nVal = windows.length > 1 ? Math.min(Math.round(windows.length * valFrac), windows.length - 1) : 0;
  const valWindows = windows.slice(0, nVal);
  const trainWindows = windows.slice(nVal);

  const norm = options.normalization ?? normalizationOf(sources);
  const scale = 1 / (norm.max - norm.min);

  // Resume: the checkpoint's weights, optimizer state and step.
  const ckDir = options.output ? path.join(options.output, 'checkpoint') : undefined;
  let startStep = 0;
  let weights = initialWeights(arch, seed);
  let optState: { names: string[]; shapes: number[][]; values: Float32Array } | undefined;
  if (options.resume) {
    if (!ckDir || !fs.existsSync(path.join(ckDir, 'manifest.json')))
      throw new TezipError('TEZ_MODEL', `nothing to resume: no checkpoint in ${ckDir ?? '(no output folder given)'}`);
    const ck = loadModel(ckDir);
    arch = ck.manifest.architecture;
    weights = splitWeights(arch, ck.weights).map((w) => w.slice());
    const st = JSON.parse(fs.readFileSync(path.join(ckDir, 'state.json'), 'utf8')) as { step: number; names: string[]; shapes: number[][] };
    const buf = fs.readFileSync(path.join(ckDir, 'optimizer.bin'));
    const expect = st.shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
    if (buf.length !== expect * 4) throw new TezipError('TEZ_MODEL', `${ckDir}/optimizer.bin has the wrong size`);
    optState = { names: st.names, shapes: st.shapes, values: new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)) };
    startStep = st.step;
  }

  const env = await loadTf(options.backend ?? 'auto');
  const tf = env.tf;
  const net = buildNet(env, arch, weights);
  const opt = tf.train.adam(lr);
  const t0 = Date.now();
  const losses: number[] = [];
  try {
    if (optState) {
      let at = 0;
      const named = optState.shapes.map((s, i) => {
        const n = s.reduce((a, b) => a * b, 1);
        const t = tf.tensor(optState!.values.subarray(at, at + n), s);
        at += n;
        return { name: optState!.names[i], tensor: t };
      });
      await opt.setWeights(named);
    }

    const batchTensor = (wins: Window[], r: () => number): TF.Tensor5D => {
      const per = nt * bh * bw * C;
      const buf = new Float32Array(wins.length * per);
      wins.forEach((w, b) => {
        const g = geos[w.src];
        const data = sources[w.src].data;
        const oy = crop ? Math.floor(r() * (g.H - crop + 1)) : 0;
        const ox = crop ? Math.floor(r() * (g.W - crop + 1)) : 0;
        const hh = Math.min(bh, g.H - oy);
        const ww = Math.min(bw, g.W - ox);
        for (let t = 0; t < nt; t++)
          for (let y = 0; y < hh; y++) {
            const src = (((w.start + t) * g.H + oy + y) * g.W + ox) * C;
            const dst = b * per + ((t * bh + y) * bw) * C;
            for (let i = 0; i < ww * C; i++) buf[dst + i] = (data[src + i] - norm.min) * scale;
          }
      });
      return tf.tensor5d(buf, [wins.length, nt, bh, bw, C]);
    };

    const validate = (): number | null => {
      if (valWindows.length === 0) return null;
      const r = rng(seed ^ 0x5bd1e995); // same crops every time, so values compare
      let sum = 0;
      const use = valWindows.slice(0, 32);
      for (let i = 0; i < use.length; i += batch) {
        const wins = use.slice(i, i + batch);
        sum += tf.tidy(() => sequenceLoss(net, batchTensor(wins, r)).dataSync()[0]) * wins.length;
      }
      return sum / use.length;
    };

    const initial = startStep === 0 ? validate() : null;
    const r = rng(seed + 7919 * (startStep + 1));
    let order = 0;
    let step = startStep;
    for (; step < steps; step++) {
      const wins: Window[] = [];
      for (let b = 0; b < batch; b++) wins.push(trainWindows[(step * batch + b + order) % trainWindows.length]);
      if (((step + 1) * batch) % trainWindows.length < batch) order++; // a different grouping each epoch
      const loss = tf.tidy(() => {
        const x = batchTensor(wins, r);
        const l = opt.minimize(() => sequenceLoss(net, x), true, net.vars) as TF.Scalar;
        return l.dataSync()[0];
      });
      if (!Number.isFinite(loss)) throw new TezipError('TEZ_MODEL', `training diverged at step ${step + 1} (loss ${loss}); try a lower learning rate`);
      losses.push(loss);
      const elapsed = (Date.now() - t0) / 1000;
      const done = step + 1 - startStep;
      options.onProgress?.({ step: step + 1, steps, loss, elapsedSeconds: elapsed, etaSeconds: (elapsed / done) * (steps - step - 1) });
      if (ckDir && checkpointEvery && (step + 1) % checkpointEvery === 0 && step + 1 < steps) await checkpoint(step + 1);
    }
    const final = validate();
    const flat = joinWeights(net.vars.map((v) => v.dataSync() as Float32Array));
    const summary: TrainingSummary = {
      data: sources.map((s, i) => ({ name: s.name, shape: s.shape, dtype: s.dtype, frames: s.frames ?? [0, geos[i].T] })),
      nt,
      sequences: { train: trainWindows.length, validation: valWindows.length },
      steps,
      batch,
      learningRate: lr,
      crop,
      seed,
      backend: env.backend,
      seconds: Math.round((Date.now() - t0) / 100) / 10,
      loss: {
        train: losses.length ? losses.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, losses.length) : null,
        validation: final,
        initialValidation: initial,
      },
    };
    const manifest = options.output
      ? saveModel(options.output, arch, norm, flat, summary)
      : ({ architecture: arch, normalization: norm, training: summary } as unknown as Manifest);
    return { manifest, weights: flat, backend: env.backend, losses, validation: { initial, final } };

    async function checkpoint(at: number): Promise<void> {
      const dir = ckDir!;
      const flatNow = joinWeights(net.vars.map((v) => v.dataSync() as Float32Array));
      saveModel(dir, arch, norm, flatNow);
      const ow = await opt.getWeights();
      const vals = joinWeights(ow.map((w) => w.tensor.dataSync() as Float32Array));
      fs.writeFileSync(path.join(dir, 'optimizer.bin'), new Uint8Array(vals.buffer, vals.byteOffset, vals.byteLength));
      fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ step: at, names: ow.map((w) => w.name), shapes: ow.map((w) => w.tensor.shape) }) + '\n');
      // getWeights returns the optimizer's own variables (and a fresh iteration count): keep the former.
      tf.dispose(ow.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
    }
  } finally {
    opt.dispose();
    disposeNet(net);
  }
}
