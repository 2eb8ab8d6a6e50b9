// `tezip train DATA... -o models/NAME`: trains a PredNet on raw+json arrays, image folders, TIFF stacks, HDF5
// datasets or .tez files and writes the model
// folder (manifest.json + weights.bin). TensorFlow.js is loaded only here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './args.js';
import { readRaw } from '../io/raw.js';
import type { TrainProgress, TrainSource } from '../prednet/train.js';
import { readTez } from './decompress.js';

type Opts = Record<string, string | number | boolean | undefined>;

function intOpt(opts: Opts, name: string, min: number, max: number): number | undefined {
  const v = opts[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new UsageError(`expected an integer in ${min}..${max} for --${name} but received ${v}`);
  return v;
}

function parseFrames(v: unknown): [number, number] | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+):(\d+)$/.exec(String(v));
  if (!m || Number(m[1]) >= Number(m[2])) throw new UsageError(`expected --frames FIRST:END (FIRST < END) but received ${JSON.stringify(v)}`);
  return [Number(m[1]), Number(m[2])];
}

function parseStack(v: unknown): number[] | undefined {
  if (v === undefined) return undefined;
  const parts = String(v).split(',').map((s) => Number(s.trim()));
  if (parts.length < 1 || parts.length > 8 || !parts.every((n) => Number.isInteger(n) && n >= 1 && n <= 1024))
    throw new UsageError(`expected --stack as 1 to 8 comma-separated sizes, e.g. 1,16,32, but received ${JSON.stringify(v)}`);
  return parts;
}

async function loadSource(file: string, frames: [number, number] | undefined, seqLen: number | undefined): Promise<TrainSource> {
  if (file.toLowerCase().endsWith('.tez')) {
    const lib: typeof import('../index.js') = require('../index.js');
    const dec = await lib.decompress(readTez(file));
    return { name: path.basename(file), data: dec.data as ArrayLike<number>, shape: Array.from(dec.shape), dtype: String(dec.dtype), frames, sequenceLength: seqLen };
  }
  // Image folders, TIFF stacks and HDF5 datasets go through the same readers as `tezip compress`.
  const io: typeof import('../io/open-input.js') = require('../io/open-input.js');
  if (io.inputKind(file) !== 'raw') {
    const src = await io.openInput(file);
    try {
      const data = await src.read(0, src.shape[0]);
      return { name: path.basename(file), data, shape: src.shape, dtype: src.dtype, frames, sequenceLength: seqLen };
    } finally {
      await src.close();
    }
  }
  const r = readRaw(file);
  const fps = r.meta.frames_per_sequence;
  const sidecarSeq = typeof fps === 'number' && Number.isInteger(fps) && fps > 0 ? fps : undefined;
  return { name: path.basename(r.rawPath), data: r.data, shape: r.shape, dtype: r.dtype, frames, sequenceLength: seqLen ?? sidecarSeq };
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  s = Math.round(s);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export async function run(positionals: string[], opts: Opts): Promise<number> {
  if (positionals.length === 0) throw new UsageError('train needs at least one input (NAME.raw/.json, an image folder, a TIFF stack, file.h5:/path or .tez)');
  const output = opts.output as string | undefined;
  if (!output) throw new UsageError('train needs -o models/NAME');
  const frames = parseFrames(opts.frames);
  const stack = parseStack(opts.stack);
  const seqLen = intOpt(opts, 'sequence-length', 1, 1e9);
  const lr = opts.lr as number | undefined;
  if (lr !== undefined && !(lr > 0 && lr < 1)) throw new UsageError(`expected --lr in (0, 1) but received ${lr}`);
  const val = opts.validation as number | undefined;
  if (val !== undefined && !(val >= 0 && val < 1)) throw new UsageError(`expected --validation in [0, 1) but received ${val}`);
  const nt = intOpt(opts, 'nt', 2, 1000);
  const batch = intOpt(opts, 'batch', 1, 4096);
  const crop = intOpt(opts, 'crop', 0, 65536);
  const seed = intOpt(opts, 'seed', 0, 2 ** 31 - 1);
  const every = intOpt(opts, 'checkpoint-every', 0, 1e9);
  let steps = intOpt(opts, 'steps', 0, 1e9);
  const epochs = intOpt(opts, 'epochs', 1, 1e6);
  if (steps !== undefined && epochs !== undefined) throw new UsageError('give --steps or --epochs, not both');

  const sources: TrainSource[] = [];
  // A folder from `tezip dataset export`: its shards (sha256-checked), its sequence length and normalisation.
  let normalization: { min: number; max: number } | undefined;
  let datasetNt: number | undefined;
  for (const f of positionals) {
    if (fs.existsSync(path.join(f, 'manifest.json')) && fs.statSync(f).isDirectory()) {
      const { datasetTrainSources }: typeof import('../pipeline/dataset.js') = require('../pipeline/dataset.js');
      const ds = await datasetTrainSources(f);
      if (datasetNt !== undefined && ds.nt !== datasetNt) throw new UsageError(`datasets with different nt (${datasetNt}, ${ds.nt}) cannot train together`);
      datasetNt = ds.nt;
      normalization ??= ds.normalization;
      for (const s of ds.sources) sources.push({ name: s.name, data: s.data, shape: s.shape, dtype: s.dtype, frames, sequenceLength: s.sequenceLength });
    } else sources.push(await loadSource(f, frames, seqLen));
  }
  if (epochs !== undefined) {
    // one epoch = every training sequence once
    const ntv = nt ?? 10;
    let windows = 0;
    for (const s of sources) {
      const T = s.shape[0];
      const [a, b] = s.frames ?? [0, T];
      const L = s.sequenceLength ?? T;
      for (let q = 0; q < T; q += L) windows += Math.max(0, Math.floor((Math.min(q + L, b) - Math.max(q, a)) / ntv));
    }
    steps = Math.max(1, Math.ceil((epochs * windows * (1 - (val ?? 0.1))) / (batch ?? 4)));
  }

  const tty = process.stderr.isTTY === true && !opts.json;
  let lastLine = 0;
  const onProgress = (p: TrainProgress) => {
    if (tty) {
      const width = 30;
      const filled = Math.round((p.step / p.steps) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.step}/${p.steps} loss ${p.loss.toFixed(5)} ETA ${duration(p.etaSeconds)}  `);
      if (p.step === p.steps) process.stderr.write('\n');
    } else if (!opts.json && (p.step === p.steps || p.step - lastLine >= Math.max(1, Math.floor(p.steps / 10)))) {
      lastLine = p.step;
      process.stderr.write(`step ${p.step}/${p.steps} loss ${p.loss.toFixed(5)} elapsed ${duration(p.elapsedSeconds)} ETA ${duration(p.etaSeconds)}\n`);
    }
  };
  const { train }: typeof import('../prednet/train.js') = require('../prednet/train.js');
  const res = await train(sources, {
    output,
    stack,
    nt: nt ?? datasetNt,
    normalization,
    batch,
    steps,
    learningRate: lr,
    validation: val,
    crop,
    seed,
    checkpointEvery: every,
    resume: opts.resume === true,
    backend: opts.backend as 'auto' | 'node' | 'wasm' | 'cpu' | undefined,
    onProgress,
  });
  const t = res.manifest.training!;
  if (opts.json) {
    process.stdout.write(JSON.stringify({ output, sha256: res.manifest.weights.sha256, backend: res.backend, training: t }) + '\n');
  } else {
    const v = (x: number | null) => (x === null ? 'n/a' : x.toFixed(5));
    process.stdout.write(
      `${output}: ${res.manifest.weights.count} weights, sha256 ${res.manifest.weights.sha256}\n` +
        `  backend ${res.backend}, ${t.steps} steps of ${t.batch}×${t.nt} frames in ${duration(t.seconds)}; validation loss ${v(t.loss.initialValidation)} → ${v(t.loss.validation)}\n`,
    );
  }
  return 0;
}
