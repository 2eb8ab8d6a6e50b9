// PredNet architecture (Lotter, Kreiman & Cox 2016) and the one flat weight layout shared by training (tfjs),
// the model files and the native kernels (native/src/predict/prednet/network.cc). Free of tfjs imports.

export interface PredNetArch {
  /** A channels per layer; stack[0] is the number of image channels. */
  stack: number[];
  /** R (ConvLSTM) channels per layer. */
  rStack: number[];
  /** Kernel of the A convolution, per layer but the top (odd). */
  aFilt: number[];
  /** Kernel of the Â convolution, per layer (odd). */
  ahatFilt: number[];
  /** Kernel of the ConvLSTM convolution, per layer (odd). */
  rFilt: number[];
  /** Â of layer 0 is clipped to this (inputs are normalised to [0, 1]). */
  pixelMax: number;
}

/** Sized for speed on one CPU core; Lotter's paper used stack (3,48,96,192). */
export function defaultArch(channels = 1, stack?: number[]): PredNetArch {
  const s = stack ? [...stack] : [channels, 16, 32];
  if (s[0] !== channels) s[0] = channels;
  const L = s.length;
  return {
    stack: s,
    rStack: [...s],
    aFilt: new Array(L - 1).fill(3),
    ahatFilt: new Array(L).fill(3),
    rFilt: new Array(L).fill(3),
    pixelMax: 1,
  };
}

const isPosInt = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max;

/** Throws a TypeError/RangeError naming the bad field. */
export function checkArch(a: unknown, what = 'architecture'): PredNetArch {
  if (a === null || typeof a !== 'object') throw new TypeError(`Expected an object for ${what}`);
  const o = a as Record<string, unknown>;
  const list = (k: string, len: number, max: number, odd: boolean): number[] => {
    const v = o[k];
    if (!Array.isArray(v) || v.length !== len || !v.every((x) => isPosInt(x, max) && (!odd || x % 2 === 1)))
      throw new RangeError(`Expected ${len} ${odd ? 'odd ' : ''}integers in 1..${max} for ${what}.${k} but received ${JSON.stringify(v)}`);
    return v as number[];
  };
  const stack = o.stack;
  if (!Array.isArray(stack) || stack.length < 1 || stack.length > 8)
    throw new RangeError(`Expected 1 to 8 layers for ${what}.stack but received ${JSON.stringify(stack)}`);
  const L = stack.length;
  const out: PredNetArch = {
    stack: list('stack', L, 1024, false),
    rStack: list('rStack', L, 1024, false),
    aFilt: list('aFilt', L - 1, 15, true),
    ahatFilt: list('ahatFilt', L, 15, true),
    rFilt: list('rFilt', L, 15, true),
    pixelMax: typeof o.pixelMax === 'number' && o.pixelMax > 0 && Number.isFinite(o.pixelMax) ? o.pixelMax : NaN,
  };
  if (Number.isNaN(out.pixelMax)) throw new RangeError(`Expected a positive number for ${what}.pixelMax`);
  return out;
}

/** Input channels of layer l's ConvLSTM: [R(t-1), E(t-1), upsample(R(l+1))]. */
export function lstmInputs(a: PredNetArch, l: number): number {
  return a.rStack[l] + 2 * a.stack[l] + (l + 1 < a.stack.length ? a.rStack[l + 1] : 0);
}

export interface WeightSpec {
  name: string;
  shape: number[];
}

/**
 * The weights in file order: per layer l, the ConvLSTM kernel [k,k,cin,4R] (output channels: gates i, f, c, o,
 * R each) and bias [4R]; the Â kernel [k,k,R,A] and bias [A]; below the top, the A kernel [k,k,2A,A(l+1)]
 * and bias [A(l+1)]. Kernels are in tfjs/Keras order (kh, kw, in, out), float32 little-endian.
 */
export function weightSpecs(a: PredNetArch): WeightSpec[] {
  const specs: WeightSpec[] = [];
  const L = a.stack.length;
  for (let l = 0; l < L; l++) {
    const R = a.rStack[l];
    const A = a.stack[l];
    specs.push({ name: `lstm${l}.kernel`, shape: [a.rFilt[l], a.rFilt[l], lstmInputs(a, l), 4 * R] });
    specs.push({ name: `lstm${l}.bias`, shape: [4 * R] });
    specs.push({ name: `ahat${l}.kernel`, shape: [a.ahatFilt[l], a.ahatFilt[l], R, A] });
    specs.push({ name: `ahat${l}.bias`, shape: [A] });
    if (l + 1 < L) {
      specs.push({ name: `a${l}.kernel`, shape: [a.aFilt[l], a.aFilt[l], 2 * A, a.stack[l + 1]] });
      specs.push({ name: `a${l}.bias`, shape: [a.stack[l + 1]] });
    }
  }
  return specs;
}

export function weightCount(a: PredNetArch): number {
  return weightSpecs(a).reduce((n, s) => n + s.shape.reduce((x, y) => x * y, 1), 0);
}

/** Frames are padded to a multiple of this (each layer halves the size). */
export function sizeMultiple(a: PredNetArch): number {
  return 2 ** (a.stack.length - 1);
}
