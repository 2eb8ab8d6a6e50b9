#!/usr/bin/env node
// Thread scaling: compress and decompress bulk_water (../shared/data) with threads = 1 and threads = 2 in the
// same run, check that the outputs are byte-identical, and print the speed-ups (issue 3, "done when" 4: each
// ≥ 1.7× with 2 threads). Best of --repeat runs each, alternating so that machine load hits both alike.
// Run after `npm run build`:
//
//     node bench/threads.mjs [--data ../shared/data] [--chunk-frames 5] [--repeat 3] [--abs E] [--threads-max 2]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const tezip = createRequire(import.meta.url)(path.join(here, '..', 'dist', 'index.js'));

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
}
const dataDir = path.resolve(arg('data', path.join(here, '..', '..', 'shared', 'data')));
const CF = Number(arg('chunk-frames', 5));
const REPEAT = Number(arg('repeat', 3));
const ABS = arg('abs', undefined);
const TMAX = Number(arg('threads-max', 2));

const rawPath = path.join(dataDir, 'bulk_water.raw');
if (!fs.existsSync(rawPath)) {
  console.log(`skipped: ${rawPath} not found (use --data DIR)`);
  process.exit(0);
}
const meta = JSON.parse(fs.readFileSync(path.join(dataDir, 'bulk_water.json'), 'utf8'));
const data = new Uint8Array(fs.readFileSync(rawPath));
const shape = meta.shape;
const opts = { chunkFrames: CF, ...(ABS !== undefined ? { abs: Number(ABS) } : {}) };
const MB = data.length / 1e6;

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const threadsList = [1, TMAX];
const best = { c: {}, d: {} };
const outputs = {};
const decoded = {};
for (let r = 0; r < REPEAT; r++) {
  for (const threads of r % 2 ? [...threadsList].reverse() : threadsList) {
    let t0 = process.hrtime.bigint();
    const tez = await tezip.compress({ data, shape }, { ...opts, threads });
    best.c[threads] = Math.min(best.c[threads] ?? Infinity, ms(t0));
    outputs[threads] = tez;
    t0 = process.hrtime.bigint();
    const dec = await tezip.decompress(tez, { threads });
    best.d[threads] = Math.min(best.d[threads] ?? Infinity, ms(t0));
    decoded[threads] = dec.data;
  }
}
const sameTez = Buffer.from(outputs[1]).equals(Buffer.from(outputs[TMAX]));
const sameDec = Buffer.from(decoded[1].buffer).equals(Buffer.from(decoded[TMAX].buffer));
const losslessOk = ABS !== undefined || Buffer.from(decoded[1].buffer).equals(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
const chunks = Math.ceil(shape[0] / CF);
const result = {
  dataset: 'bulk_water',
  shape,
  mode: ABS !== undefined ? `abs ${ABS}` : 'lossless',
  chunkFrames: CF,
  chunks,
  cpus: os.availableParallelism(),
  uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
  ratio: +(data.length / outputs[1].length).toFixed(3),
  compressMs: { 1: +best.c[1].toFixed(1), [TMAX]: +best.c[TMAX].toFixed(1) },
  decompressMs: { 1: +best.d[1].toFixed(1), [TMAX]: +best.d[TMAX].toFixed(1) },
  compressSpeedup: +(best.c[1] / best.c[TMAX]).toFixed(2),
  decompressSpeedup: +(best.d[1] / best.d[TMAX]).toFixed(2),
  identicalTez: sameTez,
  identicalDecoded: sameDec,
  losslessOk,
};
console.log(JSON.stringify(result));
console.log(
  `bulk_water ${MB.toFixed(1)} MB, ${chunks} chunks of ${CF} frames, ${result.mode}: ` +
    `compress ${(MB / (best.c[1] / 1000)).toFixed(1)} → ${(MB / (best.c[TMAX] / 1000)).toFixed(1)} MB/s (${result.compressSpeedup}×), ` +
    `decompress ${(MB / (best.d[1] / 1000)).toFixed(1)} → ${(MB / (best.d[TMAX] / 1000)).toFixed(1)} MB/s (${result.decompressSpeedup}×) ` +
    `with ${TMAX} threads vs 1; outputs identical: ${sameTez && sameDec}`,
);
process.exitCode = sameTez && sameDec && losslessOk ? 0 : 1;
