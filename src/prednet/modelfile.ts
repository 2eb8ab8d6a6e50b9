// PredNet model folders: NAME/manifest.json (architecture, input normalisation, training summary, sha256 of
// the weights, format version) and NAME/weights.bin (float32 little-endian in the order of config.ts
// weightSpecs). Loading checks sizes before reading and the hash after; any problem is a TezipError with
// code TEZ_MODEL. No tfjs here: the codec loads models without it.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TezipError } from '../errors';
import { PredNetArch, checkArch, weightCount, weightSpecs } from './config';

export const MODEL_FORMAT = 'tezip-prednet';
export const MODEL_FORMAT_VERSION = 1;
export const WEIGHTS_FILE = 'weights.bin';
const MAX_MANIFEST_BYTES = 1 << 20;
/** 256 M weights = 1 GiB: far beyond any model worth running per frame in a codec. */
const MAX_WEIGHTS = 1 << 28;

export interface Normalization {
  /** Network input = (x − min) / (max − min); predictions are mapped back the same way. */
  min: number;
  max: number;
}

export interface TrainingSummary {
  data: Array<{ name: string; shape: number[]; dtype: string; frames?: [number, number] }>;
  nt: number;
  sequences: { train: number; validation: number };
  steps: number;
  batch: number;
  learningRate: number;
  crop: number;
  seed: number;
  backend: string;
  seconds: number;
  loss: { train: number | null; validation: number | null; initialValidation: number | null };
}

export interface Manifest {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  name: string;
  architecture: PredNetArch;
  normalization: Normalization;
  weights: { file: string; dtype: 'float32'; byteOrder: 'little'; count: number; sha256: string; tensors: Array<{ name: string; shape: number[] }> };
  training?: TrainingSummary;
  created: string;
}

export interface PredNetModelFile {
  dir: string;
  manifest: Manifest;
  /** All weights, flat, in file order. */
  weights: Float32Array;
  sha256: string;
}

function modelError(message: string, cause?: unknown): TezipError {
  return new TezipError('TEZ_MODEL', message, cause === undefined ? undefined : { cause });
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Splits the flat weights into per-tensor arrays (views). */
export function splitWeights(arch: PredNetArch, flat: Float32Array): Float32Array[] {
  let at = 0;
  return weightSpecs(arch).map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const v = flat.subarray(at, at + n);
    at += n;
    return v;
  });
}

export function joinWeights(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function weightsBytes(flat: Float32Array): Uint8Array {
  const bytes = new Uint8Array(flat.length * 4);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < flat.length; i++) dv.setFloat32(i * 4, flat[i], true);
  return bytes;
}

/** Writes NAME/manifest.json and NAME/weights.bin (through temporary files, so a crash never leaves half a model). */
export function saveModel(
  dir: string,
  arch: PredNetArch,
  normalization: Normalization,
  flat: Float32Array,
  training?: TrainingSummary,
): Manifest {
  if (flat.length !== weightCount(arch)) throw new RangeError(`Expected ${weightCount(arch)} weights but received ${flat.length}`);
  if (!flat.every(Number.isFinite)) throw modelError('refusing to save a model with non-finite weights (training diverged?)');
  fs.mkdirSync(dir, { recursive: true });
  const bytes = weightsBytes(flat);
  const manifest: Manifest = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    name: path.basename(path.resolve(dir)),
    architecture: arch,
    normalization,
    weights: {
      file: WEIGHTS_FILE,
      dtype: 'float32',
      byteOrder: 'little',
      count: flat.length,
      sha256: sha256Hex(bytes),
      tensors: weightSpecs(arch),
    },
    training,
    created: new Date().toISOString(),
  };
  const wTmp = path.join(dir, `.${WEIGHTS_FILE}.tmp`);
  const mTmp = path.join(dir, '.manifest.json.tmp');
  fs.writeFileSync(wTmp, bytes);
  fs.writeFileSync(mTmp, JSON.stringify(manifest, null, 1) + '\n');
  fs.renameSync(wTmp, path.join(dir, WEIGHTS_FILE));
  fs.renameSync(mTmp, path.join(dir, 'manifest.json'));
  return manifest;
}

function readChecked(file: string, max: number, what: string): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw modelError(code === 'ENOENT' ? `${what} not found: ${file}` : `cannot read ${what} ${file}: ${(e as Error).message}`, e);
  }
  if (!st.isFile()) throw modelError(`${what} is not a file: ${file}`);
  if (st.size > max) throw modelError(`${what} ${file} is too large (${st.size} bytes)`);
  return fs.readFileSync(file);
}

/** Checks a parsed manifest; `where` names it in messages. */
export function checkManifest(m: unknown, where: string): Manifest {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw modelError(`${where}: expected a JSON object`);
  const o = m as Record<string, unknown>;
  if (o.format !== MODEL_FORMAT) throw modelError(`${where}: not a tezip PredNet manifest (format ${JSON.stringify(o.format)})`);
  if (o.formatVersion !== MODEL_FORMAT_VERSION)
    throw modelError(`${where}: model format version ${JSON.stringify(o.formatVersion)} is not supported (this tezip reads ${MODEL_FORMAT_VERSION})`);
  let arch: PredNetArch;
  try {
    arch = checkArch(o.architecture, 'architecture');
  } catch (e) {
    throw modelError(`${where}: ${(e as Error).message}`, e);
  }
  const n = o.normalization as Record<string, unknown> | undefined;
  if (!n || typeof n.min !== 'number' || typeof n.max !== 'number' || !Number.isFinite(n.min) || !Number.isFinite(n.max) || !(n.max > n.min))
    throw modelError(`${where}: expected normalization {min, max} with max > min`);
  const w = o.weights as Record<string, unknown> | undefined;
  if (!w || w.file !== WEIGHTS_FILE || w.dtype !== 'float32' || w.byteOrder !== 'little')
    throw modelError(`${where}: expected weights {file: "${WEIGHTS_FILE}", dtype: "float32", byteOrder: "little"}`);
  if (typeof w.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(w.sha256)) throw modelError(`${where}: weights.sha256 must be 64 hex digits`);
  const count = weightCount(arch);
  if (count > MAX_WEIGHTS) throw modelError(`${where}: the architecture needs ${count} weights, more than tezip accepts`);
  if (w.count !== count) throw modelError(`${where}: weights.count ${JSON.stringify(w.count)} does not match the architecture (${count})`);
  return m as Manifest;
}

/** Loads and verifies a model folder (or its manifest.json). */
export function loadModel(dirOrManifest: string): PredNetModelFile {
  const dir = path.basename(dirOrManifest) === 'manifest.json' ? path.dirname(dirOrManifest) : dirOrManifest;
  const mPath = path.join(dir, 'manifest.json');
  const text = readChecked(mPath, MAX_MANIFEST_BYTES, 'model manifest').toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw modelError(`${mPath}: invalid JSON (${(e as Error).message})`, e);
  }
  const manifest = checkManifest(parsed, mPath);
  const wPath = path.join(dir, WEIGHTS_FILE);
  const bytes = readChecked(wPath, manifest.weights.count * 4, 'model weights');
  if (bytes.length !== manifest.weights.count * 4)
    throw modelError(`${wPath} has ${bytes.length} bytes but the manifest says ${manifest.weights.count} float32 weights`);
  const sha = sha256Hex(bytes);
  if (sha !== manifest.weights.sha256)
    throw modelError(`${wPath} does not match its manifest: sha256 ${sha}, expected ${manifest.weights.sha256} (corrupt or replaced weights)`);
  const weights = new Float32Array(manifest.weights.count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < weights.length; i++) weights[i] = dv.getFloat32(i * 4, true);
  if (!weights.every(Number.isFinite)) throw modelError(`${wPath}: weights are not all finite`);
  return { dir, manifest, weights, sha256: sha };
}
