// A PredNet model loaded for the codec: the verified model folder plus its weights handed to the native core
// once (the core runs inference itself, deterministically). No tfjs.
import * as path from 'node:path';
import { TezipError, fromNative } from '../errors';
import { native } from '../native';
import { Manifest, PredNetModelFile, loadModel } from './modelfile';

export interface PredNetModel {
  readonly dir: string;
  readonly name: string;
  /** sha256 of weights.bin: what .tez files record and check. */
  readonly sha256: string;
  readonly manifest: Manifest;
  /** The native core's copy of the model. */
  readonly handle: unknown;
}

const cache = new Map<string, PredNetModel>();

export function fromModelFile(f: PredNetModelFile): PredNetModel {
  const a = f.manifest.architecture;
  const n = f.manifest.normalization;
  const hash = Uint8Array.from(Buffer.from(f.sha256, 'hex'));
  let handle: unknown;
  try {
    handle = native().loadPredNet({ ...a, normMin: n.min, normMax: n.max }, f.weights, hash);
  } catch (e) {
    const err = fromNative(e);
    throw new TezipError('TEZ_MODEL', `${f.dir}: ${err.message}`, { cause: e });
  }
  return { dir: f.dir, name: f.manifest.name ?? path.basename(f.dir), sha256: f.sha256, manifest: f.manifest, handle };
}

/** Loads (once per process and folder content) and verifies models/NAME for compress/decompress. */
export function loadPredNetModel(dir: string): PredNetModel {
  if (typeof dir !== 'string' || dir === '') throw new TypeError(`Expected a model folder path but received ${JSON.stringify(dir)}`);
  const f = loadModel(dir);
  const key = `${path.resolve(f.dir)}\0${f.sha256}`;
  let m = cache.get(key);
  if (!m) {
    m = fromModelFile(f);
    cache.set(key, m);
  }
  return m;
}

export function isPredNetModel(v: unknown): v is PredNetModel {
  return v !== null && typeof v === 'object' && typeof (v as PredNetModel).sha256 === 'string' && 'handle' in (v as object);
}

/** Predictions of the native kernels for normalised frames T×H×W×C (closed loop), for checks and benchmarks. */
export function nativePredict(m: PredNetModel, frames: Float32Array, T: number, H: number, W: number): Float32Array {
  return native().predNetPredict(m.handle, frames, T, H, W);
}
