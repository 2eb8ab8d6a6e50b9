// The PredNet forward pass in TensorFlow.js, step by step as in coxlab/prednet's step(): a top-down pass
// updates each layer's ConvLSTM R from R(t-1), E(t-1) and the upsampled R above and predicts Â (layer 0's Â
// is the frame prediction), then a bottom-up pass forms E = [ReLU(Â−A), ReLU(A−Â)] and the next layer's
// target A = maxpool(ReLU(conv(E))). The native kernels compute the same graph (same order of operations
// where it matters: bias added after the sum, c = f·c + i·g, hard sigmoid = clip(0.2x + 0.5, 0, 1)).
import type * as TF from '@tensorflow/tfjs';
import { PredNetArch, WeightSpec, sizeMultiple, weightSpecs } from './config';
import type { TfEnv } from './tf';

type T4 = TF.Tensor4D;

// A type alias (not an interface) so that it is a TensorContainer for tf.tidy.
export type PredNetState = {
  r: T4[];
  c: T4[];
  e: T4[];
};

export interface Net {
  env: TfEnv;
  arch: PredNetArch;
  specs: WeightSpec[];
  vars: TF.Variable[];
  /** Named access into vars. */
  w: Record<string, TF.Variable>;
  conv: (x: T4, k: TF.Tensor, b: TF.Tensor) => T4;
}

/** A small deterministic PRNG (mulberry32), so that a seed gives the same initial weights everywhere. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Glorot-uniform kernels and zero biases (Keras' defaults), from a seed. */
export function initialWeights(arch: PredNetArch, seed: number): Float32Array[] {
  const rand = rng(seed);
  return weightSpecs(arch).map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    if (s.shape.length === 4) {
      const [kh, kw, cin, cout] = s.shape;
      const limit = Math.sqrt(6 / (kh * kw * cin + kh * kw * cout));
      for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * limit;
    }
    return out;
  });
}

/**
 * 'same' convolution plus bias. Where the backend lacks the gradient kernels (wasm has no
 * Conv2DBackpropFilter), the gradients are themselves forward convolutions: dX convolves dY with the
 * spatially flipped, in/out-swapped kernel; dW treats the padded input's channels as a batch and dY as the
 * filter.
 */
function makeConv(env: TfEnv): Net['conv'] {
  const tf = env.tf;
  if (!env.convGradAsForward) return (x, k, b) => tf.add(tf.conv2d(x, k as TF.Tensor4D, 1, 'same'), b) as T4;
  const customGrad = tf.customGrad as unknown as (f: unknown) => (x: T4, k: TF.Tensor) => TF.Tensor;
  const conv = customGrad((x: T4, k: TF.Tensor4D, save: TF.GradSaveFunc) => {
    save([x, k]);
    return {
      value: tf.conv2d(x, k, 1, 'same'),
      gradFunc: (dy: T4, saved: TF.Tensor[]) => {
        const [xs, ks] = saved as [T4, TF.Tensor4D];
        const kh = ks.shape[0];
        const p = (kh - 1) / 2;
        const dx = tf.conv2d(dy, tf.transpose(tf.reverse(ks, [0, 1]), [0, 1, 3, 2]) as TF.Tensor4D, 1, 'same');
        const xp = tf.pad(xs, [[0, 0], [p, p], [p, p], [0, 0]]);
        const xt = tf.transpose(xp, [3, 1, 2, 0]) as T4; // [cin, H+2p, W+2p, B]
        const f = tf.transpose(dy, [1, 2, 0, 3]) as TF.Tensor4D; // [H, W, B, cout] as a filter
        const dk = tf.transpose(tf.conv2d(xt, f, 1, 'valid'), [1, 2, 0, 3]); // [k, k, cin, cout]
        return [dx, dk];
      },
    };
  });
  return (x, k, b) => tf.add(conv(x, k) as T4, b) as T4;
}

export function buildNet(env: TfEnv, arch: PredNetArch, weights: Float32Array[], trainable = true): Net {
  const specs = weightSpecs(arch);
  if (weights.length !== specs.length) throw new RangeError(`Expected ${specs.length} weight tensors but received ${weights.length}`);
  const vars = specs.map((s, i) => env.tf.variable(env.tf.tensor(weights[i], s.shape), trainable, `${s.name}_${Date.now()}_${i}`));
  const w: Record<string, TF.Variable> = {};
  specs.forEach((s, i) => (w[s.name] = vars[i]));
  return { env, arch, specs, vars, w, conv: makeConv(env) };
}

export function disposeNet(n: Net): void {
  for (const v of n.vars) v.dispose();
}

export function zeroState(n: Net, batch: number, h: number, w: number): PredNetState {
  const tf = n.env.tf;
  const st: PredNetState = { r: [], c: [], e: [] };
  n.arch.stack.forEach((A, l) => {
    const hl = h >> l;
    const wl = w >> l;
    st.r.push(tf.zeros([batch, hl, wl, n.arch.rStack[l]]));
    st.c.push(tf.zeros([batch, hl, wl, n.arch.rStack[l]]));
    st.e.push(tf.zeros([batch, hl, wl, 2 * A]));
  });
  return st;
}

function hardSigmoid(tf: TfEnv['tf'], x: TF.Tensor): TF.Tensor {
  return tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1);
}

/** Nearest-neighbour ×2 upsampling written with reshape and broadcasting (gradients on every backend). */
function upsample2(tf: TfEnv['tf'], x: T4): T4 {
  const [b, h, w, c] = x.shape;
  const y = tf.mul(tf.reshape(x, [b, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1]));
  return tf.reshape(y, [b, 2 * h, 2 * w, c]);
}

/** 2×2 max pooling as a max over reshaped axes (the wasm backend has no MaxPoolGrad). */
function maxPool2(tf: TfEnv['tf'], x: T4): T4 {
  const [b, h, w, c] = x.shape;
  return tf.max(tf.reshape(x, [b, h / 2, 2, w / 2, 2, c]), [2, 4]) as T4;
}

/** Top-down pass: new R and C for every layer; returns them with Â of layer 0 (the prediction). */
export function topDown(n: Net, st: PredNetState): { r: T4[]; c: T4[]; ahat0: T4 } {
  const tf = n.env.tf;
  const L = n.arch.stack.length;
  const r: T4[] = new Array(L);
  const c: T4[] = new Array(L);
  for (let l = L - 1; l >= 0; l--) {
    const parts: T4[] = [st.r[l], st.e[l]];
    if (l + 1 < L) parts.push(upsample2(tf, r[l + 1]));
    const z = n.conv(tf.concat(parts, 3) as T4, n.w[`lstm${l}.kernel`], n.w[`lstm${l}.bias`]);
    const [zi, zf, zc, zo] = tf.split(z, 4, 3);
    const i = hardSigmoid(tf, zi);
    const f = hardSigmoid(tf, zf);
    const g = tf.tanh(zc);
    const o = hardSigmoid(tf, zo);
    c[l] = tf.add(tf.mul(f, st.c[l]), tf.mul(i, g)) as T4;
    r[l] = tf.mul(o, tf.tanh(c[l])) as T4;
  }
  const ahat0 = tf.minimum(tf.relu(n.conv(r[0], n.w['ahat0.kernel'], n.w['ahat0.bias'])), n.arch.pixelMax) as T4;
  return { r, c, ahat0 };
}

/** Bottom-up pass with the actual frame `a`: the new error units E of every layer. */
export function bottomUp(n: Net, r: T4[], ahat0: T4, a: T4): T4[] {
  const tf = n.env.tf;
  const L = n.arch.stack.length;
  const e: T4[] = [];
  let target = a;
  for (let l = 0; l < L; l++) {
    const ahat = l === 0 ? ahat0 : (tf.relu(n.conv(r[l], n.w[`ahat${l}.kernel`], n.w[`ahat${l}.bias`])) as T4);
    e.push(tf.concat([tf.relu(tf.sub(ahat, target)), tf.relu(tf.sub(target, ahat))], 3) as T4);
    if (l + 1 < L) target = maxPool2(tf, tf.relu(n.conv(e[l], n.w[`a${l}.kernel`], n.w[`a${l}.bias`])) as T4);
  }
  return e;
}

/**
 * Lotter's training loss ("L_0"): the mean of layer 0's error units, weighted 0 for the first step and
 * 1/(nt−1) for the others, averaged over the batch. `seq`: [B, nt, H, W, C] in normalised units, H and W
 * multiples of 2^(layers−1).
 */
export function sequenceLoss(n: Net, seq: TF.Tensor5D): TF.Scalar {
  const tf = n.env.tf;
  const [b, nt, h, w] = seq.shape;
  let st = zeroState(n, b, h, w);
  let total: TF.Tensor = tf.scalar(0);
  for (let t = 0; t < nt; t++) {
    const a = tf.squeeze(tf.slice(seq, [0, t, 0, 0, 0], [b, 1, h, w, seq.shape[4]]), [1]) as T4;
    const { r, c, ahat0 } = topDown(n, st);
    const e = bottomUp(n, r, ahat0, a);
    if (t > 0) total = tf.add(total, tf.mul(tf.mean(e[0]), 1 / (nt - 1)));
    st = { r, c, e };
  }
  return total as TF.Scalar;
}

/**
 * Predictions of every frame of one sequence (closed loop, as the codec runs it), with the frames
 * zero-padded to the size multiple and the predictions cropped back. `frames`: T×H×W×C normalised.
 */
export function predictSequence(n: Net, frames: Float32Array, shape: [number, number, number, number]): Float32Array {
  const tf = n.env.tf;
  const [T, H, W, C] = shape;
  const m = sizeMultiple(n.arch);
  const hp = Math.ceil(H / m) * m;
  const wp = Math.ceil(W / m) * m;
  const out = new Float32Array(T * H * W * C);
  let st: PredNetState = tf.tidy(() => zeroState(n, 1, hp, wp));
  for (let t = 0; t < T; t++) {
    const next: PredNetState = tf.tidy((): PredNetState => {
      const { r, c, ahat0 } = topDown(n, st);
      const pred = tf.slice(ahat0, [0, 0, 0, 0], [1, H, W, C]);
      out.set(pred.dataSync() as Float32Array, t * H * W * C);
      const f = tf.tensor4d(frames.subarray(t * H * W * C, (t + 1) * H * W * C), [1, H, W, C]);
      const a = tf.pad(f, [[0, 0], [0, hp - H], [0, wp - W], [0, 0]]) as T4;
      return { r, c, e: bottomUp(n, r, ahat0, a) };
    });
    tf.dispose([...st.r, ...st.c, ...st.e]);
    st = next;
  }
  tf.dispose([...st.r, ...st.c, ...st.e]);
  return out;
}
