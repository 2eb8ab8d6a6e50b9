// Training data hand-off: sequences of `nt` consecutive frames cut from the inputs, split into train and val,
// stored as lossless .tez shards with a manifest.json that says everything a trainer on another machine needs:
// shapes, dtype, the normalisation to [0, 1], the sha256 of every shard, and where each sequence came from
// (source file, its sha256, first frame). `openDataset` + `loadSplit` are the reading side that `tezip train`
// calls; they verify every shard's sha256 before decoding it.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TezipError } from '../errors';
import { RawDType, isRawDType } from '../io/raw';
import { FrameArray, frameKey } from './frames';

export const DATASET_FORMAT = 'tezip-dataset';
export const DATASET_VERSION = 1;
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

export type Normalization =
  | { kind: 'minmax'; min: number; max: number }
  | { kind: 'none' };

export interface SourceInfo {
  /** The path as given on the command line (provenance only; never opened by readers). */
  path: string;
  name: string;
  sha256: string;
  bytes: number;
  shape: number[];
  dtype: RawDType;
  /** Sequences cut from it. */
  sequences: number;
}

export interface ShardInfo {
  file: string;
  split: 'train' | 'val';
  sha256: string;
  bytes: number;
  /** [sequences·nt, H, W, C] as stored. */
  shape: number[];
  sequences: number;
  /** For each sequence in the shard: which source and its first frame there. */
  provenance: Array<{ source: number; start: number }>;
}

export interface DatasetManifest {
  format: typeof DATASET_FORMAT;
  version: number;
  created: string;
  tezip: string;
  nt: number;
  /** [H, W, C] of one frame. */
  frameShape: [number, number, number];
  dtype: RawDType;
  /** x01 = (x − min) / (max − min), clipped to [0, 1]; `none` means the stored values are used as they are. */
  normalization: Normalization;
  split: { val: number; seed: number; stride: number };
  counts: { train: number; val: number };
  sources: SourceInfo[];
  shards: ShardInfo[];
}

export interface ExportOptions {
  nt: number;
  /** Fraction of sequences for validation, 0 ≤ val < 1. */
  val: number;
  /** Frames between the starts of two sequences (default nt: no overlap). */
  stride?: number;
  seed?: number;
  /** minmax (default): the range of the data; dtype: the integer type's full range; none. */
  normalize?: 'minmax' | 'dtype' | 'none';
  /** Sequences per shard (default: about 64 MiB of raw frames). */
  shardSequences?: number;
  /** Replace the files of an existing dataset in `out`. */
  force?: boolean;
  log?: (line: string) => void;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Any input `tezip compress` reads (raw+json, PNG/TIFF folder, TIFF stack, HDF5 dataset), all frames. */
async function readInput(input: string): Promise<FrameArray> {
  const { openInput } = require('../io/open-input') as typeof import('../io/open-input');
  const src = await openInput(input);
  try {
    const data = await src.read(0, src.shape[0]);
    const shape = src.shape.length === 4 && src.shape[3] === 1 ? src.shape.slice(0, 3) : [...src.shape];
    return { data, shape, dtype: src.dtype };
  } finally {
    await src.close();
  }
}

const DTYPE_RANGE: Partial<Record<RawDType, [number, number]>> = {
  uint8: [0, 255],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

function writeFileSynced(file: string, data: Uint8Array | string): void {
  const tmp = file + '.tmp';
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Cuts inputs into sequences, writes shards and manifest.json into `out`; returns the manifest. */
export async function exportDataset(inputs: readonly string[], out: string, o: ExportOptions): Promise<DatasetManifest> {
  const nt = o.nt;
  const stride = o.stride ?? nt;
  const seed = o.seed ?? 1;
  if (!Number.isSafeInteger(nt) || nt < 1 || nt > 10000) throw new RangeError(`expected an integer from 1 to 10000 for nt but received ${nt}`);
  if (!Number.isSafeInteger(stride) || stride < 1) throw new RangeError(`expected a positive integer for stride but received ${stride}`);
  if (typeof o.val !== 'number' || !(o.val >= 0 && o.val < 1)) throw new RangeError(`expected a fraction 0 ≤ val < 1 but received ${o.val}`);
  if (inputs.length === 0) throw new TypeError('expected at least one input');
  fs.mkdirSync(out, { recursive: true });
  if (fs.existsSync(path.join(out, 'manifest.json')) && !o.force)
    throw Object.assign(new Error(`${out} already holds a dataset (manifest.json); choose another folder or pass --force`), { code: 'EEXIST' });

  // Read every input once: its frames, hash and shape; all must share frame shape and dtype.
  const arrays: FrameArray[] = [];
  const sources: SourceInfo[] = [];
  for (const input of inputs) {
    const arr = await readInput(input);
    if (arrays.length > 0 && frameKey(arr) !== frameKey(arrays[0]))
      throw new TypeError(`${input}: frames of ${frameKey(arr)} cannot join a dataset of ${frameKey(arrays[0])}`);
    const bytes = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
    arrays.push(arr);
    sources.push({
      path: input,
      name: path.basename(input),
      sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.byteLength,
      shape: arr.shape,
      dtype: arr.dtype,
      sequences: 0,
    });
  }
  const a0 = arrays[0];
  const [H, W] = [a0.shape[1], a0.shape[2]];
  const C = a0.shape.length === 4 ? a0.shape[3] : 1;
  const frameValues = H * W * C;
  const frameBytes = a0.data.byteLength / a0.shape[0];

  // Sequences: (source, start) pairs; a seeded shuffle picks the validation ones.
  const seqs: Array<{ source: number; start: number }> = [];
  arrays.forEach((a, s) => {
    for (let t = 0; t + nt <= a.shape[0]; t += stride) {
      seqs.push({ source: s, start: t });
      sources[s].sequences++;
    }
  });
  if (seqs.length === 0) throw new RangeError(`no input has ${nt} frames: no sequence can be cut`);
  const order = seqs.map((_, i) => i);
  const rand = rng(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nVal = Math.round(o.val * seqs.length);
  const isVal = new Set(order.slice(0, nVal));
  const split = { train: seqs.filter((_, i) => !isVal.has(i)), val: seqs.filter((_, i) => isVal.has(i)) };

  let normalization: Normalization = { kind: 'none' };
  if ((o.normalize ?? 'minmax') === 'minmax') {
    let min = Infinity;
    let max = -Infinity;
    for (const a of arrays)
      for (let i = 0; i < a.data.length; i++) {
        const v = a.data[i];
        if (v < min) min = v;
        if (v > max) max = v;
      }
    if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError('the data hold NaN or ±Inf only or no finite range: use --normalize none');
    normalization = { kind: 'minmax', min, max };
  } else if (o.normalize === 'dtype') {
    const r = DTYPE_RANGE[a0.dtype];
    if (!r) throw new RangeError(`--normalize dtype needs an integer dtype, not ${a0.dtype}`);
    normalization = { kind: 'minmax', min: r[0], max: r[1] };
  }

  const perShard = o.shardSequences ?? Math.max(1, Math.floor((64 * 1024 * 1024) / (nt * frameBytes)));
  if (!Number.isSafeInteger(perShard) || perShard < 1) throw new RangeError(`expected a positive integer for shardSequences but received ${perShard}`);
  const lib: typeof import('../index') = require('../index');
  const shards: ShardInfo[] = [];
  for (const which of ['train', 'val'] as const) {
    const list = split[which];
    for (let k = 0, n = 0; k < list.length; k += perShard, n++) {
      const batch = list.slice(k, k + perShard);
      const data = new Uint8Array(batch.length * nt * frameBytes);
      batch.forEach((q, b) => {
        const a = arrays[q.source];
        const src = new Uint8Array(a.data.buffer, a.data.byteOffset + q.start * frameBytes, nt * frameBytes);
        data.set(src, b * nt * frameBytes);
      });
      const Ctor = a0.data.constructor as new (b: ArrayBuffer, o: number, n: number) => FrameArray['data'];
      const typed = new Ctor(data.buffer, 0, data.byteLength / a0.data.BYTES_PER_ELEMENT);
      const shape = [batch.length * nt, H, W, C];
      const tez = await lib.compress({ data: typed, shape, dtype: a0.dtype }, { metadata: { dataset: { split: which, nt, sequences: batch.length } } });
      const file = `${which}-${String(n).padStart(6, '0')}.tez`;
      writeFileSynced(path.join(out, file), tez);
      shards.push({
        file,
        split: which,
        sha256: crypto.createHash('sha256').update(tez).digest('hex'),
        bytes: tez.byteLength,
        shape,
        sequences: batch.length,
        provenance: batch.map((q) => ({ source: q.source, start: q.start })),
      });
      o.log?.(`${file}: ${batch.length} sequence(s), ${data.byteLength} → ${tez.byteLength} bytes`);
    }
  }
  const manifest: DatasetManifest = {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    created: new Date().toISOString(),
    tezip: require('../../package.json').version,
    nt,
    frameShape: [H, W, C],
    dtype: a0.dtype,
    normalization,
    split: { val: o.val, seed, stride },
    counts: { train: split.train.length, val: split.val.length },
    sources,
    shards,
  };
  // The manifest goes last: a folder without one is an export that did not finish.
  writeFileSynced(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  return manifest;
}

// ---- reading side ----

export interface Dataset {
  dir: string;
  manifest: DatasetManifest;
}

function bad(msg: string): TezipError {
  return new TezipError('TEZ_CORRUPT', msg);
}

const posInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const hex64 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

/** Reads and checks manifest.json of a dataset folder (structure only; shards are checked as they are read). */
export function openDataset(dir: string): Dataset {
  const file = path.join(dir, 'manifest.json');
  let text: string;
  try {
    const st = fs.statSync(file);
    if (st.size > MAX_MANIFEST_BYTES) throw bad(`${file} is larger than ${MAX_MANIFEST_BYTES} bytes`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof TezipError) throw e;
    throw Object.assign(new Error(`${dir} is not a dataset folder: cannot read manifest.json (${(e as NodeJS.ErrnoException).code ?? 'error'})`), {
      code: (e as NodeJS.ErrnoException).code ?? 'EIO',
    });
  }
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text);
  } catch {
    throw bad(`${file}: not valid JSON`);
  }
  if (m === null || typeof m !== 'object' || m.format !== DATASET_FORMAT) throw bad(`${file}: not a ${DATASET_FORMAT} manifest`);
  if (m.version !== DATASET_VERSION) throw new TezipError('TEZ_UNSUPPORTED', `${file}: dataset version ${String(m.version)} is not supported (this tezip reads ${DATASET_VERSION})`);
  const fs3 = m.frameShape;
  if (!posInt(m.nt) || !Array.isArray(fs3) || fs3.length !== 3 || !fs3.every(posInt) || !isRawDType(m.dtype))
    throw bad(`${file}: bad nt, frameShape or dtype`);
  const norm = m.normalization as Normalization | undefined;
  if (!norm || (norm.kind !== 'none' && !(norm.kind === 'minmax' && Number.isFinite(norm.min) && Number.isFinite(norm.max))))
    throw bad(`${file}: bad normalization`);
  if (!Array.isArray(m.shards) || !Array.isArray(m.sources)) throw bad(`${file}: missing shards or sources`);
  const [H, W, C] = fs3 as number[];
  for (const s of m.shards as ShardInfo[]) {
    // Shard names are plain names inside the folder: a manifest cannot make us read elsewhere.
    if (!s || typeof s.file !== 'string' || !/^[A-Za-z0-9._-]+\.tez$/.test(s.file) || s.file.startsWith('.'))
      throw bad(`${file}: bad shard name ${JSON.stringify(s?.file)}`);
    if (s.split !== 'train' && s.split !== 'val') throw bad(`${file}: bad split for ${s.file}`);
    if (!hex64(s.sha256) || !posInt(s.sequences)) throw bad(`${file}: bad sha256 or sequences for ${s.file}`);
    const want = [s.sequences * (m.nt as number), H, W, C];
    if (!Array.isArray(s.shape) || JSON.stringify(s.shape) !== JSON.stringify(want)) throw bad(`${file}: shape of ${s.file} disagrees with nt and frameShape`);
  }
  return { dir, manifest: m as unknown as DatasetManifest };
}

/** Reads one shard: checks its sha256 against the manifest, decodes it, checks shape and dtype. */
export async function readShard(ds: Dataset, shard: ShardInfo): Promise<FrameArray> {
  const file = path.join(ds.dir, shard.file);
  const bytes = fs.readFileSync(file);
  const sha = crypto.createHash('sha256').update(bytes).digest('hex');
  if (sha !== shard.sha256) throw new TezipError('TEZ_CHECKSUM', `${file}: sha256 ${sha} differs from the manifest's ${shard.sha256}`);
  const lib: typeof import('../index') = require('../index');
  const d = await lib.decompress(bytes);
  if (d.dtype !== ds.manifest.dtype || JSON.stringify(d.shape.length === 3 ? [...d.shape, 1] : d.shape) !== JSON.stringify(shard.shape))
    throw bad(`${file}: decoded ${d.dtype} ${JSON.stringify(d.shape)} but the manifest says ${ds.manifest.dtype} ${JSON.stringify(shard.shape)}`);
  return { data: d.data as FrameArray['data'], shape: shard.shape, dtype: d.dtype as RawDType };
}

/** Applies the manifest's normalisation: values in [0, 1] as float32. */
export function normalize(data: ArrayLike<number>, n: Normalization, out = new Float32Array(data.length)): Float32Array {
  if (n.kind === 'none') {
    for (let i = 0; i < data.length; i++) out[i] = data[i];
    return out;
  }
  const scale = n.max > n.min ? 1 / (n.max - n.min) : 0;
  for (let i = 0; i < data.length; i++) {
    const v = (data[i] - n.min) * scale;
    out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return out;
}

/** Inverse of `normalize` (for turning predictions back into data values). */
export function denormalize(v: number, n: Normalization): number {
  return n.kind === 'none' ? v : n.min + v * (n.max - n.min);
}

/**
 * All sequences of a split, normalised, as one float32 array of shape [N, nt, H, W, C] — the layout a trainer
 * batches from. `maxBytes` guards memory (default 4 GiB).
 */
export async function loadSplit(
  ds: Dataset,
  split: 'train' | 'val',
  maxBytes = 4 * 1024 ** 3,
): Promise<{ data: Float32Array; shape: [number, number, number, number, number] }> {
  const { nt, frameShape } = ds.manifest;
  const [H, W, C] = frameShape;
  const shards = ds.manifest.shards.filter((s) => s.split === split);
  const N = shards.reduce((n, s) => n + s.sequences, 0);
  const values = N * nt * H * W * C;
  if (values * 4 > maxBytes) throw new TezipError('TEZ_TOO_LARGE', `the ${split} split needs ${values * 4} bytes as float32, more than the ${maxBytes} allowed`);
  const data = new Float32Array(values);
  let at = 0;
  for (const s of shards) {
    const arr = await readShard(ds, s);
    normalize(arr.data, ds.manifest.normalization, data.subarray(at, at + arr.data.length));
    at += arr.data.length;
  }
  return { data, shape: [N, nt, H, W, C] };
}

/** One shard as a trainer's input: raw values (not normalised), cut into sequences of `sequenceLength` frames. */
export interface DatasetTrainSource {
  name: string;
  data: ArrayLike<number>;
  /** [sequences·nt, H, W] or [sequences·nt, H, W, C] */
  shape: number[];
  dtype: string;
  sequenceLength: number;
  split: 'train' | 'val';
}

/**
 * The hand-off to `tezip train`: every shard of a dataset folder (sha256-checked, decoded) as a source whose
 * sequences are exactly the exported ones, plus the normalisation the export chose, so that training on another
 * machine sees the same [0, 1] inputs. `split` tells which sequences the export kept for validation.
 */
export async function datasetTrainSources(
  dir: string,
): Promise<{ sources: DatasetTrainSource[]; normalization?: { min: number; max: number }; nt: number; manifest: DatasetManifest }> {
  const ds = openDataset(dir);
  const m = ds.manifest;
  const sources: DatasetTrainSource[] = [];
  for (const s of m.shards) {
    const arr = await readShard(ds, s);
    const shape = s.shape[3] === 1 ? s.shape.slice(0, 3) : [...s.shape];
    sources.push({ name: s.file, data: arr.data, shape, dtype: m.dtype, sequenceLength: m.nt, split: s.split });
  }
  const normalization = m.normalization.kind === 'minmax' ? { min: m.normalization.min, max: m.normalization.max } : undefined;
  return { sources, normalization, nt: m.nt, manifest: m };
}
