// Writes the seed corpora of the fuzz targets (scripts/fuzz.mjs) from files encoded by tezip itself:
// small synthetic arrays in every dtype × mode × predictor, and pieces cut from samples/. Each .tez file
// seeds the container fuzzer; its chunk payloads (prefixed with the 5 shape bytes of native/fuzz/
// fuzz_input.h) seed the chunk decoder, inspectChunk and, cut down to their entropy-coded section, the
// rANS decoder; the PredNet model target gets seeds built from models/moving_mnist.
// Usage: node scripts/fuzz-seeds.mjs OUT_DIR   (needs dist/ and the addon: npm ci)
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const tezip = require(path.join(root, 'dist', 'index.js'));

const DTYPE_IDS = { uint8: 1, uint16: 2, int16: 3, int32: 4, float32: 5, float64: 6 };
const CTORS = { uint8: Uint8Array, uint16: Uint16Array, int16: Int16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array };

// Deterministic pseudo-random numbers so that the seeds are the same on every machine.
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function synthetic(dtype, shape, seed) {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new CTORS[dtype](n);
  const r = rng(seed);
  const [t, h, w] = shape;
  const c = shape[3] ?? 1;
  const isFloat = dtype.startsWith('float');
  const scale = { uint8: 100, uint16: 3000, int16: 3000, int32: 100000, float32: 10, float64: 10 }[dtype];
  for (let f = 0, i = 0; f < t; f++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++, i++) {
          const v = scale * (0.5 + 0.4 * Math.sin(0.3 * x + 0.2 * y + 0.5 * f + k)) + (r() - 0.5) * scale * 0.05;
          a[i] = isFloat ? v : Math.round(v) - (dtype.startsWith('int') ? scale / 2 : 0);
        }
  if (isFloat && n > 8) {  // specials: the codec must reproduce them exactly
    a[1] = NaN;
    a[2] = Infinity;
    a[3] = -0;
    a[4] = dtype === 'float32' ? 1e-40 : 1e-310;
  }
  return a;
}

function samplePieces() {
  const out = [];
  const bw = path.join(root, 'samples', 'bulk_water_small.raw');
  if (fs.existsSync(bw)) {
    const raw = fs.readFileSync(bw); // [10,128,128] uint8
    const piece = new Uint8Array(4 * 32 * 32);
    for (let f = 0; f < 4; f++)
      for (let y = 0; y < 32; y++) piece.set(raw.subarray(f * 16384 + y * 128, f * 16384 + y * 128 + 32), (f * 32 + y) * 32);
    out.push({ name: 'bulk_water', dtype: 'uint8', shape: [4, 32, 32], data: piece });
  }
  const era = path.join(root, 'samples', 'era5_small.raw');
  if (fs.existsSync(era)) {
    const raw = fs.readFileSync(era); // [24,33,49] float32
    const bytes = new Uint8Array(raw.buffer, raw.byteOffset, 3 * 33 * 49 * 4).slice();
    out.push({ name: 'era5', dtype: 'float32', shape: [3, 33, 49], data: new Float32Array(bytes.buffer) });
  }
  return out;
}

function readVarint(b, at) {
  let v = 0n;
  for (let shift = 0n; shift < 64n; shift += 7n) {
    const x = b[at.i++];
    if (x === undefined) throw new Error('varint runs off the payload');
    v |= BigInt(x & 0x7f) << shift;
    if (!(x & 0x80)) return Number(v);
  }
  throw new Error('bad varint');
}

// The entropy-coded section and extra bits of a coded payload, as fuzz_rans.cc (method 1) and
// fuzz_rans_rows.cc (method 3) read them: { method, bytes }, or null for other methods.
function ransSection(p) {
  const method = p[1];
  if (method !== 1 && method !== 3) return null;
  const at = { i: 3 };
  if (p[2] === 8) at.i += 48; // PredNet block: model sha256, window, warm-up, MSE threshold
  const quant = p[at.i++];
  const params = { 0: 17, 1: 8, 2: 8, 3: 9, 4: 17 }[quant]; // docs/FORMAT.md "Chunk payload": quantizer parameters
  if (params === undefined) return null;
  at.i += params;
  readVarint(p, at); // escapes
  const start = at.i;
  if (method === 3) at.i++; // lanes
  const maskBytes = method === 3 ? 4 : 2;
  let mask = 0;
  for (let b = 0; b < maskBytes; b++) mask += p[at.i + b] * 2 ** (8 * b);
  at.i += maskBytes;
  for (let c = 0; c < 8 * maskBytes; c++) {
    if (!(Math.floor(mask / 2 ** c) % 2)) continue;
    const used = readVarint(p, at);
    for (let k = 0; k < 2 * used; k++) readVarint(p, at);
  }
  at.i += readVarint(p, at);
  const ransEnd = at.i;
  const exLen = readVarint(p, at);
  return { method, bytes: Buffer.concat([p.subarray(start, ransEnd), p.subarray(at.i, at.i + exLen)]) };
}

function shapeBytes(dtypeId, frames, h, w, c) {
  return Buffer.from([dtypeId - 1, frames - 1, h - 1, w - 1, c - 1]);
}

// PredNet model seeds in the layout of native/fuzz/fuzz_prednet_model.cc: the architecture of the shipped
// models/moving_mnist (and smaller ones), its real weights quantised to int8/64 or cut short as raw float32
// (tiled by the target to the full count, so that a seed stays under 64 KiB), and a few frames of a moving
// square. Byte values: dims 1..32 are written as n - 1, odd filters 1,3,5,7 as (k - 1) / 2; reals are
// indexes into the target's kReals (0: 1, 1: 255, 2: 0, 4: 0.5).
function prednetSeeds(dir) {
  const mdir = path.join(root, 'models', 'moving_mnist');
  const manifest = JSON.parse(fs.readFileSync(path.join(mdir, 'manifest.json'), 'utf8'));
  const wbin = fs.readFileSync(path.join(mdir, 'weights.bin'));
  const real = new Float32Array(wbin.buffer.slice(wbin.byteOffset, wbin.byteOffset + wbin.length));
  const a = manifest.architecture;
  const norm = manifest.normalization;
  const realIndex = { 1: 0, 255: 1, 0: 2, 0.5: 4 };
  const archBytes = (arch) =>
    arch.stack.flatMap((s, l) => [s - 1, arch.rStack[l] - 1, (arch.ahatFilt[l] - 1) / 2, (arch.rFilt[l] - 1) / 2, ((arch.aFilt[l] ?? 3) - 1) / 2]);
  const u16 = (n) => [n & 255, n >> 8];
  const frames = (T, H, W, C, dtypeBytes) => {
    const out = [];
    for (let t = 0; t < T; t++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          for (let c = 0; c < C; c++) {
            const on = Math.abs(x - 3 - t) < 3 && Math.abs(y - 4 - t) < 3;
            for (let b = 0; b < dtypeBytes; b++) out.push(b === 0 ? (on ? 200 + c : 10) : 0);
          }
    return out;
  };
  const seed = (name, { flags = 0, arch, delta = 0, reals, fr, weights, T, H, W, dtypeBytes = 1, damages = [] }) => {
    const data = frames(T, H, W, arch.stack[0], dtypeBytes);
    const bytes = [
      flags, arch.stack.length, delta, ...archBytes(arch), ...reals,
      ...fr, ...u16(weights.length), ...weights, ...u16(data.length), ...data, ...damages,
    ];
    fs.writeFileSync(path.join(dir, name), Buffer.from(bytes));
  };
  const int8 = (n) => Array.from(real.subarray(0, n), (w) => Math.max(-128, Math.min(127, Math.round(w * 64))) & 255);
  const f32 = (n) => [...Buffer.from(real.buffer, 0, n * 4)];
  const shippedReals = [realIndex[a.pixelMax], realIndex[norm.min], realIndex[norm.max]];
  // frames: dtype (0: uint8, 1: uint16, 4: float32), count-1, height-1, width-1, mode (+16*level), bound, window, warmup, MSE index
  // (the shipped architecture on frames of at most 8x8: the target skips steps above 2 M multiply-adds)
  seed('moving_mnist_lossless', { arch: a, reals: shippedReals, fr: [0, 3, 7, 7, 0, 0x73, 0, 1, 0], weights: int8(30000), T: 4, H: 8, W: 8 });
  seed('moving_mnist_abs_window', { arch: a, reals: shippedReals, fr: [0, 3, 5, 7, 1, 0x93, 2, 1, 0], weights: int8(20000), T: 4, H: 6, W: 8 });
  seed('moving_mnist_f32_pwrel', { flags: 1, arch: a, reals: shippedReals, fr: [4, 2, 7, 7, 2, 0x35, 0, 0, 4], weights: f32(8000), T: 3, H: 8, W: 8, dtypeBytes: 4 });
  const small = { stack: [1, 4], rStack: [1, 4], aFilt: [3], ahatFilt: [3, 3], rFilt: [3, 3], pixelMax: 1 };
  seed('small_mse_damaged', {
    flags: 16, arch: small, reals: [0, 2, 1], fr: [1, 3, 9, 9, 1, 0x55, 0, 2, 3], weights: int8(600), T: 4, H: 10, W: 10, dtypeBytes: 2,
    damages: [0x30, 0, 0x40, 0x50, 0, 0x08, 0x20, 0, 0],
  });
  const one = { stack: [1], rStack: [2], aFilt: [], ahatFilt: [5], rFilt: [1], pixelMax: 1 };
  seed('one_layer', { arch: one, reals: [0, 2, 0], fr: [0, 1, 4, 4, 0, 0x10, 0, 0, 0], weights: int8(64), T: 2, H: 5, W: 5 });
  const rgb = { stack: [3, 2, 2], rStack: [2, 2, 2], aFilt: [1, 3], ahatFilt: [3, 1, 1], rFilt: [3, 3, 1], pixelMax: 1 };
  seed('three_channels', { arch: rgb, reals: [0, 2, 1], fr: [0, 1, 6, 6, 1, 0x40, 1, 0, 0], weights: int8(500), T: 2, H: 7, W: 7 });
  seed('refused_short_list', { flags: 4, delta: 0x81, arch: small, reals: [0, 2, 1], fr: [0, 0, 3, 3, 0, 0, 0, 0, 0], weights: int8(64), T: 1, H: 4, W: 4 });
  seed('refused_nan_norm', { arch: small, reals: [0, 12, 1], fr: [0, 0, 3, 3, 0, 0, 0, 0, 0], weights: int8(64), T: 1, H: 4, W: 4 });
}

export function writeSeeds(outDir) {
  const dirs = {};
  for (const t of ['container', 'decode_chunk', 'inspect_chunk', 'rans', 'rans_rows', 'roundtrip', 'container_reader', 'json', 'prednet_model']) {
    dirs[t] = path.join(outDir, t);
    fs.mkdirSync(dirs[t], { recursive: true });
  }
  const inputs = [];
  let seed = 1;
  for (const dtype of Object.keys(DTYPE_IDS)) {
    inputs.push({ name: `${dtype}_3d`, dtype, shape: [4, 16, 16], data: synthetic(dtype, [4, 16, 16], seed++) });
    inputs.push({ name: `${dtype}_4d`, dtype, shape: [3, 8, 8, 2], data: synthetic(dtype, [3, 8, 8, 2], seed++) });
  }
  inputs.push(...samplePieces());
  const variants = [
    {},
    { predictor: 'prev', chunkFrames: 2, metadata: { source: 'fuzz seed' } },
    { abs: 0.5, predictor: 'lorenzo3d' },
    { abs: 3, predictor: 'lorenzo2d', chunkFrames: 1 },
    { rel: 1e-3, predictor: 'none', level: 0 },
    { abs: 0.1, rel: 1e-2, level: 2 },
    { pwrel: 1e-2 },
  ];
  let files = 0;
  for (const inp of inputs) {
    variants.forEach((v, vi) => {
      const tez = Buffer.from(tezip.compressSync({ data: inp.data, shape: inp.shape, dtype: inp.dtype }, v));
      const base = `${inp.name}_${vi}`;
      fs.writeFileSync(path.join(dirs.container, `${base}.tez`), tez);
      fs.writeFileSync(path.join(dirs.container_reader, `${base}.tez`), tez);
      const layout = tezip.container.openContainer(tez, 2 ** 40);
      fs.writeFileSync(path.join(dirs.json, `${base}_meta.json`), JSON.stringify(layout.header.metadata));
      layout.entries.forEach((e, i) => {
        const payload = Buffer.from(tezip.container.chunkPayload(tez, layout, i));
        const [, h, w] = inp.shape;
        const sb = shapeBytes(DTYPE_IDS[inp.dtype], e.frameCount, h, w, inp.shape[3] ?? 1);
        fs.writeFileSync(path.join(dirs.decode_chunk, `${base}_c${i}`), Buffer.concat([sb, payload]));
        fs.writeFileSync(path.join(dirs.inspect_chunk, `${base}_c${i}`), payload);
        const rs = ransSection(payload);
        if (rs) fs.writeFileSync(path.join(rs.method === 3 ? dirs.rans_rows : dirs.rans, `${base}_c${i}`), Buffer.concat([sb, rs.bytes]));
        files++;
      });
    });
    // Round-trip seeds: shape bytes, then mode, predictor, level, bound byte, then the raw values.
    const raw = Buffer.from(inp.data.buffer, inp.data.byteOffset, inp.data.byteLength);
    const [t, h, w] = inp.shape;
    const sb = shapeBytes(DTYPE_IDS[inp.dtype], Math.min(t, 16), Math.min(h, 16), Math.min(w, 16), inp.shape[3] ?? 1);
    for (let mode = 0; mode < 3; mode++) {
      const ctl = Buffer.from([mode, (mode * 2 + files) % 5, mode % 3, 0x73]);
      fs.writeFileSync(path.join(dirs.roundtrip, `${inp.name}_m${mode}`), Buffer.concat([sb, ctl, raw.subarray(0, 4096)]));
    }
  }
  // The C++ reader (fuzz_container_reader) also starts from the golden fixtures; the JSON reader (fuzz_json)
  // from the sidecars shipped in the repository and a few documents with escapes and nesting.
  const fixtures = path.join(root, 'test', 'fixtures');
  for (const f of fs.readdirSync(fixtures)) {
    if (f.endsWith('.tez')) {
      fs.copyFileSync(path.join(fixtures, f), path.join(dirs.container_reader, `fixture_${f}`));
      // Their chunks too: the fixtures hold method 1 payloads, which the encoder no longer writes by default.
      const tez = fs.readFileSync(path.join(fixtures, f));
      const layout = tezip.container.openContainer(tez, 2 ** 40);
      const hd = layout.header;
      layout.entries.forEach((e, i) => {
        const dims = [e.frameCount, hd.height, hd.width, hd.channels];
        if (dims.some((d) => d < 1 || d > 256) || dims.reduce((a, b) => a * b, 1) > 2 ** 16) return;
        const payload = Buffer.from(tezip.container.chunkPayload(tez, layout, i));
        const sb = shapeBytes(hd.dtype, ...dims);
        fs.writeFileSync(path.join(dirs.decode_chunk, `fixture_${f}_c${i}`), Buffer.concat([sb, payload]));
        fs.writeFileSync(path.join(dirs.inspect_chunk, `fixture_${f}_c${i}`), payload);
        const rs = ransSection(payload);
        if (rs) fs.writeFileSync(path.join(rs.method === 3 ? dirs.rans_rows : dirs.rans, `fixture_${f}_c${i}`), Buffer.concat([sb, rs.bytes]));
      });
    }
    if (f.endsWith('.json')) fs.copyFileSync(path.join(fixtures, f), path.join(dirs.json, `fixture_${f}`));
  }
  for (const f of fs.readdirSync(path.join(root, 'samples')))
    if (f.endsWith('.json')) fs.copyFileSync(path.join(root, 'samples', f), path.join(dirs.json, `sample_${f}`));
  const docs = ['{"a":"\\u00e9\\ud83d\\ude00\\n\\"","b":[1,-0.5e-3,true,false,null,{}]}', '[[[[[[[[[[]]]]]]]]]]', '"é😀"', '-0', '1E+400'];
  docs.forEach((d, i) => fs.writeFileSync(path.join(dirs.json, `doc_${i}.json`), d));
  prednetSeeds(dirs.prednet_model);
  return files;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node scripts/fuzz-seeds.mjs OUT_DIR');
    process.exit(2);
  }
  const n = writeSeeds(out);
  console.log(`fuzz seeds: ${n} chunk payloads written under ${out}`);
}
