#!/usr/bin/env node
// Streaming memory: pushes 10,000 frames of 512×512 uint16 (synthetic smooth data, 5.2 GB) through
// createEncoder into a file and samples the resident set size after every push. Issue 3, "done when" 2: RSS
// growth under 64 MiB, and the result equal to the one-shot `compress` output decoded. The equality check runs
// after the timed, measured part: each chunk's frames are compressed one-shot with the same options and
// chunkFrames, decoded, and compared with the same frames read back from the streamed file (openTez).
// Run after `npm run build` (several minutes on two busy cores; --frames N for a shorter run):
//
//     node bench/stream-memory.mjs [--frames 10000] [--size 512] [--abs 2] [--threads N] [--chunk-frames N] [--no-verify] [--trace]
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
const T = Number(arg('frames', 10000));
const N = Number(arg('size', 512));
const ABS = arg('abs', undefined);
const THREADS = Number(arg('threads', os.availableParallelism()));
const CF = arg('chunk-frames', undefined);
const verify = !process.argv.includes('--no-verify');
const trace = process.argv.includes('--trace'); // RSS every 500 frames on stderr
const MiB = 1024 * 1024;

// A smooth field larger than a frame; frame t is a window of it that drifts, plus t mod 4: cheap to make,
// and the same frame for the same t every time (the verification regenerates frames).
const S = 256;
const W = N + S;
const field = new Uint16Array(W * W);
for (let y = 0; y < W; y++)
  for (let x = 0; x < W; x++) field[y * W + x] = 30000 + 12000 * Math.sin(x / 37) * Math.cos(y / 53) + 3000 * Math.sin((x + y) / 11);
function frameAt(t, out) {
  const ox = (t * 3) % S;
  const oy = t % S;
  const add = t % 4;
  for (let y = 0; y < N; y++) {
    const row = field.subarray((oy + y) * W + ox, (oy + y) * W + ox + N);
    out.set(row, y * N);
  }
  for (let i = 0; i < out.length; i++) out[i] += add;
  return out;
}

const opts = { ...(ABS !== undefined ? { abs: Number(ABS) } : {}), ...(CF !== undefined ? { chunkFrames: Number(CF) } : {}) };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-stream-mem-'));
const file = path.join(dir, 'stream.tez');
const frame = new Uint16Array(N * N);
globalThis.gc?.();
const rss0 = process.memoryUsage().rss;
const enc = tezip.createEncoder({ output: file, dtype: 'uint16', frameShape: [N, N], threads: THREADS, ...opts });
let baseline = 0;
let peak = 0;
const t0 = process.hrtime.bigint();
const warm = 200; // frames before the baseline: buffers, the addon and the pool are set up by then
for (let t = 0; t < T; t++) {
  await enc.push(frameAt(t, frame));
  const rss = process.memoryUsage().rss;
  if (t === Math.min(warm, T - 1)) baseline = rss;
  if (t >= warm) peak = Math.max(peak, rss);
  if (trace && t % 500 === 499) console.error(`frame ${t + 1}: rss ${(rss / MiB).toFixed(1)} MiB`);
}
const res = await enc.finish();
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
peak = Math.max(peak, process.memoryUsage().rss);
const rawBytes = T * N * N * 2;
const result = {
  frames: T,
  frameShape: [N, N],
  dtype: 'uint16',
  mode: ABS !== undefined ? `abs ${ABS}` : 'lossless',
  threads: THREADS,
  chunks: res.chunks,
  rawBytes,
  fileBytes: res.bytes,
  ratio: +(rawBytes / res.bytes).toFixed(2),
  seconds: +seconds.toFixed(1),
  MBps: +(rawBytes / 1e6 / seconds).toFixed(1),
  rssStartMiB: +(rss0 / MiB).toFixed(1),
  rssBaselineMiB: +(baseline / MiB).toFixed(1),
  rssPeakMiB: +(peak / MiB).toFixed(1),
  rssGrowthMiB: +((peak - baseline) / MiB).toFixed(1),
  rssGrowthFromStartMiB: +((peak - rss0) / MiB).toFixed(1),
};

if (verify) {
  // Equal to one-shot compress decoded, chunk by chunk (a 5 GB one-shot array would not fit the point).
  const f = await tezip.openTez(file, { threads: THREADS });
  let checked = 0;
  const buf = new Uint16Array(N * N);
  for (const c of f.chunks) {
    const data = new Uint16Array(c.frameCount * N * N);
    for (let k = 0; k < c.frameCount; k++) data.set(frameAt(c.firstFrame + k, buf), k * N * N);
    const oneShot = await tezip.compress({ data, shape: [c.frameCount, N, N] }, { ...opts, chunkFrames: c.frameCount, threads: 1 });
    const want = (await tezip.decompress(oneShot)).data;
    const got = (await f.readFrames(c.firstFrame, c.firstFrame + c.frameCount)).data;
    if (!Buffer.from(want.buffer).equals(Buffer.from(got.buffer))) {
      console.error(`frames ${c.firstFrame}–${c.firstFrame + c.frameCount - 1} differ from one-shot compress decoded`);
      process.exitCode = 1;
      break;
    }
    if (ABS === undefined && !Buffer.from(got.buffer).equals(Buffer.from(data.buffer))) {
      console.error(`frames ${c.firstFrame}–${c.firstFrame + c.frameCount - 1} differ from the input (lossless)`);
      process.exitCode = 1;
      break;
    }
    checked += c.frameCount;
  }
  await f.close();
  result.verifiedFrames = checked;
  result.equalsOneShot = checked === T;
}
fs.rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(result));
console.log(
  `${T} frames ${N}×${N} uint16 (${(rawBytes / 1e9).toFixed(2)} GB) streamed in ${result.seconds} s (${result.MBps} MB/s, ratio ${result.ratio}): ` +
    `RSS ${result.rssBaselineMiB} → peak ${result.rssPeakMiB} MiB, growth ${result.rssGrowthMiB} MiB (${result.rssGrowthFromStartMiB} MiB from start)` +
    (verify ? `; equals one-shot compress decoded: ${result.equalsOneShot}` : ''),
);
if (result.rssGrowthMiB >= 64) process.exitCode = 1;
