#!/usr/bin/env node
// Kernel micro-benchmarks (the `benchmark` package): the native chunk codec on small arrays, in-process, no
// container and no process start-up — encodeChunk (predict + quantize + entropy code + zstd stage) and
// decodeChunk per mode and predictor, and crc32c. MB/s = original bytes × ops/s.
//
//   node bench/kernels.mjs [--quick] [--grep REGEX] [--out DIR]       (npm run bench:kernels)
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const Benchmark = require('benchmark');
const { native } = require(path.join(root, 'dist/native.js'));
const { machineSummary, machineLine } = require(path.join(root, 'dist/bench/tools.js'));

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const outIdx = argv.indexOf('--out');
const out = outIdx >= 0 ? path.resolve(argv[outIdx + 1] ?? '.') : null;
const grepIdx = argv.indexOf('--grep');
const grep = grepIdx >= 0 ? new RegExp(argv[grepIdx + 1] ?? '') : null;

const DT = { uint8: 1, uint16: 2, int16: 3, int32: 4, float32: 5, float64: 6 };
const MODE = { lossless: 0, abs: 1, pwrel: 2 };
const PRED = { none: 0, prev: 1, lorenzo2d: 2, lorenzo3d: 3, auto: 255 };

function sample(name) {
  const meta = JSON.parse(fs.readFileSync(path.join(root, 'samples', name + '.json'), 'utf8'));
  const raw = new Uint8Array(fs.readFileSync(path.join(root, 'samples', name + '.raw')));
  const [frames, height, width, channels = 1] = meta.shape;
  return { name, raw, dtype: meta.dtype, shape: { dtype: DT[meta.dtype], frames, height, width, channels } };
}

const addon = native();
const cases = [];
for (const s of [sample('bulk_water_small'), sample('era5_small')]) {
  // abs bound: 1e-3 of the value range, like the harness's rel 1e-3 row.
  const [mn, mx] = addon.valueRange(s.raw, s.shape.dtype) ?? [0, 0];
  const modes = [
    ['lossless', 0, 0],
    ['abs (rel 1e-3)', MODE.abs, (mx - mn) * 1e-3],
    ['pwrel 1e-2', MODE.pwrel, 0],
  ];
  for (const [label, mode, ebAbs] of modes)
    for (const pred of ['none', 'prev', 'lorenzo2d', 'lorenzo3d']) {
      const p = { ...s.shape, mode, ebAbs, epsPw: mode === MODE.pwrel ? 1e-2 : 0, predictor: PRED[pred], level: 1 };
      const payload = addon.encodeChunk(s.raw, p);
      const dec = new Uint8Array(s.raw.byteLength);
      cases.push({ name: `encodeChunk ${s.name} ${s.dtype} ${label} ${pred}`, bytes: s.raw.byteLength, ratio: s.raw.byteLength / payload.byteLength, fn: () => addon.encodeChunk(s.raw, p) });
      cases.push({ name: `decodeChunk ${s.name} ${s.dtype} ${label} ${pred}`, bytes: s.raw.byteLength, ratio: s.raw.byteLength / payload.byteLength, fn: () => addon.decodeChunk(payload, s.shape, dec) });
    }
}
for (const n of [4096, 1 << 20]) {
  const buf = new Uint8Array(n).map((_, i) => (i * 2654435761) >>> 24);
  cases.push({ name: `crc32c ${n} bytes`, bytes: n, fn: () => addon.crc32c(buf, 0) });
}

const machine = machineSummary(root, null);
console.log(machineLine(machine));
const suite = new Benchmark.Suite();
const results = [];
for (const c of cases.filter((x) => !grep || grep.test(x.name))) suite.add(c.name, c.fn, { maxTime: quick ? 0.3 : 1.5, minSamples: 5 });
suite.on('cycle', (e) => {
  const b = e.target;
  const c = cases.find((x) => x.name === b.name);
  const r = { type: 'kernel', name: b.name, bytes: c.bytes, hz: b.hz, rme: b.stats.rme, samples: b.stats.sample.length, MBps: (c.bytes * b.hz) / 1e6, ratio: c.ratio ?? null };
  results.push(r);
  process.stderr.write('.');
});
suite.run({ async: false });
process.stderr.write('\n');

const rows = results.map((r) => [r.name, r.MBps.toFixed(1), `±${r.rme.toFixed(1)}%`, r.ratio ? r.ratio.toFixed(3) : '', String(r.samples)]);
const cols = ['kernel (in-process, one thread)', 'MB/s', 'rme', 'ratio', 'samples'];
const w = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
const line = (r) => '| ' + r.map((s, i) => s.padEnd(w[i])).join(' | ') + ' |';
const md = [line(cols), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...rows.map(line)].join('\n');
console.log('\n' + md);
if (out) {
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'kernels.jsonl'), [JSON.stringify({ type: 'machine', ...machine, quick }), ...results.map((r) => JSON.stringify(r))].join('\n') + '\n');
  fs.writeFileSync(path.join(out, 'kernels.md'), `# tezip kernel micro-benchmarks\n\n${machineLine(machine)}\n\n${md}\n`);
  console.log(`wrote ${path.join(out, 'kernels.jsonl')}, ${path.join(out, 'kernels.md')}`);
}
