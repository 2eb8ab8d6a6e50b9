#!/usr/bin/env node
// PredNet vs the classical predictors, on held-out frames of moving_mnist and on bulk_water:
//   - ratio and encode/decode frames/s of tezip with predictor prednet (level 0: always the predicted and
//     entropy-coded path; level 1: the default, which may store zstd'd raw frames when that is smaller),
//   - tezip's best classical choice (auto without a model, level 1),
//   - the same PredNet predictions coded the way TEZip codes them (int16 residuals, first-order delta over the
//     flattened array, a frequency-ranked symbol table, zstd level 9), to show what tezip's coding stage adds.
// Every tezip output is decoded and checked against its bound. Lossless, rel 1e-2 and pwrel 1e-2.
//
//   node bench/prednet.mjs [--model models/moving_mnist] [--frames N] [--water-frames N] [--out FILE.json]
//   (npm run bench:prednet)
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const lib = require(path.join(root, 'dist/index.js'));
const { loadPredNetModel, nativePredict } = require(path.join(root, 'dist/prednet/model.js'));
const { readRaw } = require(path.join(root, 'dist/io/raw.js'));
const { native } = require(path.join(root, 'dist/native.js'));
const zstd = require('zstd-napi');

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const modelDir = path.resolve(root, opt('model', 'models/moving_mnist'));
const mmFrames = Number(opt('frames', 200));
const waterFrames = Number(opt('water-frames', 8));
const out = opt('out', null);
const dataDir = path.resolve(root, opt('data', '../shared/data'));

if (!fs.existsSync(path.join(dataDir, 'moving_mnist.raw'))) {
  console.log(`bench/prednet: ${dataDir} has no moving_mnist.raw; nothing to measure`);
  process.exit(0);
}
const model = loadPredNetModel(modelDir);
const trained = model.manifest.training?.data?.[0]?.frames ?? [0, 0];

/** TEZip's coding of residuals: int16, first-order delta, frequency-ranked symbols, zstd -9. */
function tezipStyleBytes(res) {
  const n = res.length;
  const delta = new Int32Array(n);
  let prev = 0;
  for (let i = 0; i < n; i++) {
    delta[i] = res[i] - prev;
    prev = res[i];
  }
  const freq = new Map();
  for (const v of delta) freq.set(v, (freq.get(v) ?? 0) + 1);
  const table = [...freq.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map((e) => e[0]);
  const rank = new Map(table.map((v, i) => [v, i]));
  const wide = table.length > 256;
  const body = wide ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) body[i] = rank.get(delta[i]);
  const tbl = new Int32Array(table);
  const buf = Buffer.concat([Buffer.from(tbl.buffer), Buffer.from(body.buffer, body.byteOffset, body.byteLength)]);
  return 8 + zstd.compress(buf, { compressionLevel: 9 }).length;
}

function tezipStyle(data, shape, mode, range) {
  // open loop, as TEZip: predictions from the original frames, residuals quantised once
  const [T, H, W] = shape;
  const norm = model.manifest.normalization;
  const x = new Float32Array(data.length);
  const span = norm.max - norm.min;
  for (let i = 0; i < x.length; i++) x[i] = (data[i] - norm.min) / span;
  const t0 = process.hrtime.bigint();
  const p = nativePredict(model, x, T, H, W);
  const predictS = Number(process.hrtime.bigint() - t0) / 1e9;
  const fl = H * W;
  const res = new Int16Array(data.length);
  const step = mode.rel ? Math.max(1, 2 * Math.floor(mode.rel * range)) : 1; // an integer bin keeps the bound on integers
  let maxErr = 0;
  for (let i = 0; i < data.length; i++) {
    // frame 0 has no prediction: TEZip stores it against zero
    const pred = i < fl ? 0 : Math.min(255, Math.max(0, Math.round(p[i] * span + norm.min)));
    const r = data[i] - pred;
    const q = Math.round(r / step);
    res[i] = q;
    maxErr = Math.max(maxErr, Math.abs(Math.min(255, Math.max(0, pred + q * step)) - data[i]));
  }
  return { bytes: tezipStyleBytes(res), predictS, maxErr };
}

async function tezip(data, shape, options, boundOf) {
  const frames = { data, shape };
  const t0 = process.hrtime.bigint();
  const c = await lib.compress(frames, { threads: 1, ...options });
  const t1 = process.hrtime.bigint();
  const d = await lib.decompress(c, { threads: 1, model: options.model });
  const t2 = process.hrtime.bigint();
  let bad = 0;
  let mn = Infinity;
  let mx = -Infinity;
  for (const v of data) {
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  for (let i = 0; i < data.length; i++) if (!(Math.abs(d.data[i] - data[i]) <= boundOf(data[i], mx - mn))) bad++;
  const info = lib.inspect(c);
  return {
    ratio: data.length / c.length,
    encodeFps: shape[0] / (Number(t1 - t0) / 1e9),
    decodeFps: shape[0] / (Number(t2 - t1) / 1e9),
    violations: bad,
    chunks: [...new Set(info.chunks.map((k) => `${k.predictor}/${k.method === 1 ? 'coded' : k.method === 2 ? 'zstd-raw' : 'stored'}`))].join(' '),
  };
}

const modes = [
  { name: 'lossless', opts: {}, bound: () => 0 },
  { name: 'rel 1e-2', rel: 1e-2, opts: { rel: 1e-2 }, bound: (x, range) => 1e-2 * range },
  { name: 'pwrel 1e-2', opts: { pwrel: 1e-2 }, bound: (x) => 1e-2 * Math.abs(x) },
];

const datasets = [];
{
  const r = readRaw(path.join(dataDir, 'moving_mnist.raw'));
  const [T, H, W] = r.shape;
  const first = Math.max(trained[1], 3000);
  const n = Math.min(mmFrames, T - first);
  datasets.push({ name: `moving_mnist frames ${first}..${first + n - 1} (model trained on ${trained[0]}..${trained[1] - 1})`, data: r.data.subarray(first * H * W, (first + n) * H * W), shape: [n, H, W] });
}
if (fs.existsSync(path.join(dataDir, 'bulk_water.raw'))) {
  const r = readRaw(path.join(dataDir, 'bulk_water.raw'));
  const [, H, W] = r.shape;
  datasets.push({ name: `bulk_water frames 0..${waterFrames - 1} (model not trained on it)`, data: r.data.subarray(0, waterFrames * H * W), shape: [waterFrames, H, W] });
}

const rows = [];
console.log(`PredNet model ${path.relative(root, modelDir)} sha256 ${model.sha256.slice(0, 16)}…, kernels ${native().predNetKernelPath()}, one thread`);
for (const ds of datasets) {
  console.log(`\n${ds.name}: ${ds.shape.join("×")} uint8`);
  console.log('mode        | classical (auto)         | prednet level 0          | prednet level 1          | TEZip-style coding of the predictions');
  for (const m of modes) {
    const classical = await tezip(ds.data, ds.shape, { ...m.opts }, m.bound);
    const pn0 = await tezip(ds.data, ds.shape, { ...m.opts, predictor: 'prednet', model, level: 0 }, m.bound);
    const pn1 = await tezip(ds.data, ds.shape, { ...m.opts, predictor: 'prednet', model }, m.bound);
    let mn = Infinity;
    let mx = -Infinity;
    for (const v of ds.data) {
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    const ts = m.name === 'pwrel 1e-2' ? null : tezipStyle(ds.data, ds.shape, m, mx - mn);
    const cell = (r) => `${r.ratio.toFixed(2).padStart(7)}× ${r.encodeFps.toFixed(0).padStart(5)}/${r.decodeFps.toFixed(0).padStart(5)} f/s${r.violations ? ` ${r.violations} BAD` : ''}`;
    const tsCell = ts ? `${(ds.data.length / ts.bytes).toFixed(2)}× (predict ${(ds.shape[0] / ts.predictS).toFixed(1)} f/s, max err ${ts.maxErr})` : 'n/a (TEZip has no point-wise bound)';
    console.log(`${m.name.padEnd(11)} | ${cell(classical)} | ${cell(pn0)} | ${cell(pn1)} | ${tsCell}`);
    console.log(`${''.padEnd(11)} | ${classical.chunks.padEnd(24)} | ${pn0.chunks.padEnd(24)} | ${pn1.chunks.padEnd(24)} |`);
    rows.push({ dataset: ds.name, mode: m.name, classical, prednetLevel0: pn0, prednetLevel1: pn1, tezipStyle: ts && { ratio: ds.data.length / ts.bytes, predictFps: ds.shape[0] / ts.predictS, maxErr: ts.maxErr } });
    if (classical.violations || pn0.violations || pn1.violations) process.exitCode = 1;
  }
}
console.log('\nratio = original bytes / .tez bytes; f/s = frames per second encoding/decoding (one thread, includes PredNet inference)');
if (out) fs.writeFileSync(out, JSON.stringify({ model: { dir: path.relative(root, modelDir), sha256: model.sha256 }, rows }, null, 1) + '\n');
