#!/usr/bin/env node
// Random access: reading one frame from the middle of a 1,000-frame .tez file decodes one chunk, not the file.
// Prints the decoded-chunk counter and the timing ratio of a full decode to a one-frame read (issue 3, "done
// when" 3: one chunk, or a ratio ≥ 20×). Run after `npm run build`:
//
//     node bench/random-access.mjs [--frames 1000] [--size 256] [--chunk-frames 10] [--repeat 5] [--threads N]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const tezip = createRequire(import.meta.url)(path.join(here, '..', 'dist', 'index.js'));

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}
const T = arg('frames', 1000);
const N = arg('size', 256);
const CF = arg('chunk-frames', 10);
const REPEAT = arg('repeat', 5);
const THREADS = arg('threads', os.availableParallelism());

// Synthetic smooth uint16 frames: a drifting pattern plus a little noise (deterministic).
const frameLen = N * N;
const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-ra-')), 'ra.tez');
const enc = tezip.createEncoder({ output: file, dtype: 'uint16', frameShape: [N, N], chunkFrames: CF, threads: THREADS });
let seed = 1;
const frame = new Uint16Array(frameLen);
for (let t = 0; t < T; t++) {
  for (let y = 0, i = 0; y < N; y++)
    for (let x = 0; x < N; x++, i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      frame[i] = 20000 + 8000 * Math.sin((x + 0.5 * t) / 17) * Math.cos((y - 0.2 * t) / 23) + (seed >>> 29);
    }
  await enc.push(frame);
}
const { bytes, chunks } = await enc.finish();

const f = await tezip.openTez(file, { threads: THREADS });
const mid = Math.floor(T / 2);
const best = async (fn) => {
  let min = Infinity;
  for (let r = 0; r < REPEAT; r++) {
    const t0 = process.hrtime.bigint();
    await fn();
    min = Math.min(min, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return min;
};
const before = f.stats.chunksDecoded;
const one = await f.readFrames(mid, mid + 1);
const chunksForOne = f.stats.chunksDecoded - before;
const b2 = f.stats.chunksDecoded;
const all = await f.readFrames(0, T);
const chunksForAll = f.stats.chunksDecoded - b2;
// The frame read alone equals the same frame of the full decode.
const same = Buffer.from(one.data.buffer).equals(Buffer.from(all.data.buffer, mid * frameLen * 2, frameLen * 2));
const msOne = await best(() => f.readFrames(mid, mid + 1));
const msAll = await best(() => f.readFrames(0, T));
await f.close();
fs.rmSync(path.dirname(file), { recursive: true, force: true });

const result = {
  frames: T,
  frameShape: [N, N],
  dtype: 'uint16',
  chunkFrames: CF,
  chunks,
  fileBytes: bytes,
  threads: THREADS,
  frameRead: mid,
  chunksDecodedForOneFrame: chunksForOne,
  chunksDecodedForAll: chunksForAll,
  sameBytes: same,
  msOneFrame: +msOne.toFixed(3),
  msAllFrames: +msAll.toFixed(3),
  ratio: +(msAll / msOne).toFixed(1),
};
console.log(JSON.stringify(result));
console.log(
  `one frame of ${T}: ${chunksForOne} chunk decoded (of ${chunks}), ${msOne.toFixed(2)} ms; full decode ${msAll.toFixed(1)} ms (${THREADS} threads): ratio ${result.ratio}×`,
);
process.exitCode = chunksForOne === 1 && same ? 0 : 1;
