// Coverage-guided fuzzer for the TypeScript side of decoding: the .tez header, trailer, index and record
// parsing (src/container), then inspect and decompress on what survives (which reach the native chunk
// decoder through the addon). libFuzzer cannot see into JavaScript, so this is a small fuzzer of our own:
// V8's precise block coverage (node:inspector) is the feedback, mutations are byte-level plus a
// structure-aware pass that repairs the CRCs so that mutated fields get past the checksums.
// A finding is any error that is not a TezipError, an execution slower than --timeout-ms, or a crash
// (the input being run is always in FINDINGS/current, so a native crash keeps it).
// Usage: node scripts/fuzz-container.mjs --seconds N --corpus DIR --seeds DIR --findings DIR [--runs N]
//        node scripts/fuzz-container.mjs --replay FILE...   (runs inputs once, e.g. a finding)
import crypto from 'node:crypto';
import fs from 'node:fs';
import inspector from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const tezip = require(path.join(root, 'dist', 'index.js'));
const { container, TezipError } = tezip;

const MAX_BYTES = 64 * 1024 * 1024; // decode limit while fuzzing: big enough for every seed, small enough to be quick
const MAX_LEN = 256 * 1024;

// ---------- the target ----------

const isTezipError = (e) => e instanceof TezipError;

// In-memory decoding (inspect, decompressSync), then the on-disk paths: random access (openTez +
// readFrames, with and without ignoreDamaged) and recovery (recoverTez). `file` holds the same bytes.
async function target(bytes, file, scratch) {
  try {
    container.scanChunks(bytes);
  } catch (e) {
    if (!isTezipError(e)) throw e;
  }
  let inMemoryOk = true;
  try {
    tezip.inspect(bytes, { maxBytes: MAX_BYTES });
    tezip.decompressSync(bytes, { maxBytes: MAX_BYTES });
  } catch (e) {
    if (!isTezipError(e)) throw e;
    inMemoryOk = false;
  }
  let reader = null;
  try {
    reader = await container.openTez(file, { maxBytes: MAX_BYTES, threads: 2 });
    const n = reader.frameCount;
    await reader.readFrames(0, n, { ignoreDamaged: true });
    await reader.readFrames(n >> 1, n);
  } catch (e) {
    if (!isTezipError(e)) throw e;
  } finally {
    if (reader) await reader.close();
  }
  if (!inMemoryOk) {
    try {
      await container.recoverTez(file, scratch);
    } catch (e) {
      if (!isTezipError(e)) throw e;
    }
  }
}

// ---------- mutations ----------

const rand = (n) => Math.floor(Math.random() * n);
const INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

const { crc32c } = require(path.join(root, 'dist', 'native.js'));
const crcAt = (b, from, to) => crc32c(b.subarray(from, to));

function dv(b) {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Recomputes every CRC that can be located, so that a mutated field is judged by its meaning. */
function fixCrcs(b) {
  const v = dv(b);
  if (b.length >= 14) {
    const h = v.getUint32(10, true);
    if (h >= 98 && h <= b.length) v.setUint32(h - 4, crcAt(b, 0, h - 4), true);
  }
  if (b.length >= 24) {
    const t = b.length - 24;
    v.setUint32(t + 16, crcAt(b, t, t + 16), true);
    const io = Number(v.getBigUint64(t, true));
    if (io + 12 <= t) {
      const n = v.getUint32(io + 4, true);
      const size = 8 + 24 * n + 4;
      if (io + size <= t + 0 && n < 1e6) {
        for (let i = 0; i < n; i++) {
          const ro = Number(v.getBigUint64(io + 8 + 24 * i, true));
          if (ro + 32 > b.length) continue;
          const p = v.getUint32(ro + 20, true);
          if (ro + 32 + p <= b.length) v.setUint32(ro + 24, crcAt(b, ro + 32, ro + 32 + p), true);
          v.setUint32(ro + 28, crcAt(b, ro, ro + 28), true);
        }
        v.setUint32(io + size - 4, crcAt(b, io, io + size - 4), true);
      }
    }
  }
  return b;
}

function mutate(src, corpus) {
  let b = Uint8Array.from(src);
  const steps = 1 + rand(4);
  for (let s = 0; s < steps; s++) {
    const n = b.length;
    switch (rand(10)) {
      case 0: if (n) b[rand(n)] ^= 1 << rand(8); break;
      case 1: if (n) b[rand(n)] = rand(256); break;
      case 2: if (n) b[rand(n)] = INTERESTING[rand(6)]; break;
      case 3: // an interesting u32 or u64 at a random place (sizes, offsets, counts)
        if (n >= 8) {
          const at = rand(n - 7);
          const x = Math.random() < 0.3 ? rand(n + 64) : INTERESTING[rand(INTERESTING.length)];
          if (Math.random() < 0.5) dv(b).setUint32(at, x >>> 0, true);
          else dv(b).setBigUint64(at, Math.random() < 0.2 ? 2n ** BigInt(20 + rand(44)) : BigInt(x), true);
        }
        break;
      case 4: b = b.subarray(0, rand(n + 1)).slice(); break; // truncate
      case 5: { // delete a range
        const at = rand(n + 1), len = rand(Math.min(64, n - at) + 1);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + len)]);
        break;
      }
      case 6: { // insert random bytes
        const at = rand(n + 1), len = 1 + rand(16);
        const ins = crypto.randomBytes(len);
        b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
        break;
      }
      case 7: { // copy a range over another (overlapping records, duplicated index entries)
        if (n > 2) {
          const from = rand(n), to = rand(n), len = rand(Math.min(48, n - Math.max(from, to)) + 1);
          b.copyWithin(to, from, from + len);
        }
        break;
      }
      case 8: { // splice with another corpus entry
        const o = corpus[rand(corpus.length)];
        const cut = rand(Math.min(n, o.length) + 1);
        b = Uint8Array.from([...b.subarray(0, cut), ...o.subarray(cut)]);
        break;
      }
      default: if (n) b[rand(n)] = b[rand(n)];
    }
    if (b.length > MAX_LEN) b = b.subarray(0, MAX_LEN).slice();
  }
  return Math.random() < 0.7 ? fixCrcs(b) : b;
}

// ---------- coverage ----------

const session = new inspector.Session();
session.connect();
function post(method, params) {
  let out, err;
  session.post(method, params, (e, r) => { err = e; out = r; }); // answered synchronously
  if (err) throw err;
  return out;
}
post('Profiler.enable');
post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
const WATCH = /[\\/]dist[\\/](container|codec)[\\/]/;
const known = new Set(); // every block V8 reported in the watched files
const blocksHit = new Set(); // those that ever ran
function takeCoverage() {
  const hit = [];
  for (const sc of post('Profiler.takePreciseCoverage').result) {
    if (!WATCH.test(sc.url)) continue;
    const file = path.basename(sc.url);
    for (const fn of sc.functions)
      for (const r of fn.ranges) {
        const key = `${file}:${r.startOffset}:${r.endOffset}`;
        known.add(key);
        // A block counts as a feature per order of magnitude of its count (loops that run more).
        if (r.count > 0) blocksHit.add(key);
        if (r.count > 0) hit.push(`${key}:${Math.min(4, Math.floor(Math.log10(r.count)))}`);
      }
  }
  return hit;
}

// ---------- the loop ----------

function parseArgs(argv) {
  const a = { seconds: 60, runs: Infinity, timeoutMs: 2000, replay: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--seconds') a.seconds = Number(argv[++i]);
    else if (k === '--runs') a.runs = Number(argv[++i]);
    else if (k === '--corpus') a.corpus = argv[++i];
    else if (k === '--seeds') a.seeds = argv[++i];
    else if (k === '--findings') a.findings = argv[++i];
    else if (k === '--timeout-ms') a.timeoutMs = Number(argv[++i]);
    else if (k === '--replay') a.replay = argv.slice(i + 1), (i = argv.length);
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

function readDir(d) {
  if (!d || !fs.existsSync(d)) return [];
  return fs.readdirSync(d).filter((f) => !f.startsWith('.')).map((f) => new Uint8Array(fs.readFileSync(path.join(d, f))));
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.replay.length) {
    for (const f of a.replay) {
      await target(new Uint8Array(fs.readFileSync(f)), f, path.join(os.tmpdir(), `tezip-fuzz-replay-${process.pid}.tez`));
      console.log(`replayed ${f}: no finding`);
    }
    return 0;
  }
  for (const d of [a.corpus, a.findings]) fs.mkdirSync(d, { recursive: true });
  const current = path.join(a.findings, 'current');
  const scratch = path.join(a.findings, 'recovered.tez');
  const corpus = [...readDir(a.seeds), ...readDir(a.corpus)];
  if (!corpus.length) corpus.push(new Uint8Array(0));
  const features = new Set();
  const addFeatures = (hit) => {
    let fresh = 0;
    for (const f of hit) if (!features.has(f)) features.add(f), fresh++;
    return fresh;
  };
  const runOne = async (b) => {
    fs.writeFileSync(current, b);
    const t0 = process.hrtime.bigint();
    await target(b, current, scratch);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > a.timeoutMs) throw Object.assign(new Error(`slow input: ${ms.toFixed(0)} ms`), { slow: true });
    return takeCoverage();
  };
  const finding = (b, e) => {
    const name = `crash-${crypto.createHash('sha1').update(b).digest('hex')}`;
    fs.writeFileSync(path.join(a.findings, name), b);
    console.error(`container fuzzer: FINDING saved as ${path.join(a.findings, name)}\n${e && e.stack ? e.stack : e}`);
    return 1;
  };
  takeCoverage(); // drop what loading the library covered
  for (const b of corpus) {
    try {
      addFeatures(await runOne(b));
    } catch (e) {
      return finding(b, e);
    }
  }
  const start = Date.now();
  let execs = 0, added = 0;
  let nextReport = start + 10_000;
  while (Date.now() - start < a.seconds * 1000 && execs < a.runs) {
    const b = mutate(corpus[rand(corpus.length)], corpus);
    let hit;
    try {
      hit = await runOne(b);
    } catch (e) {
      return finding(b, e);
    }
    execs++;
    if (addFeatures(hit)) {
      corpus.push(b);
      added++;
      fs.writeFileSync(path.join(a.corpus, crypto.createHash('sha1').update(b).digest('hex')), b);
    }
    if (Date.now() > nextReport) {
      nextReport += 10_000;
      console.log(`#${execs} cov: ${coveredBlocks()} of ${known.size} blocks, ft: ${features.size}, corp: ${corpus.length}`);
    }
  }
  fs.rmSync(current, { force: true });
  fs.rmSync(scratch, { force: true });
  const secs = (Date.now() - start) / 1000;
  console.log(`#${execs} DONE cov: ${coveredBlocks()} of ${known.size} blocks, ft: ${features.size}, corp: ${corpus.length} (+${added})`);
  console.log(`stat::number_of_executed_units: ${execs}`);
  console.log(`stat::average_exec_per_sec: ${Math.round(execs / Math.max(secs, 1e-3))}`);
  return 0;
}

function coveredBlocks() {
  return blocksHit.size;
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(e);
    process.exitCode = 2;
  },
);
