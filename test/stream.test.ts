// Streaming: createEncoder (file or Writable), the compress/decompress Transforms, backpressure, and a writer
// killed with SIGKILL mid-stream whose complete chunks `tezip recover` brings back.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tezip from '../src/index';
import { bytesOf, expectTezipError, makeFrames, rng } from './support';

function findRoot(dir: string): string {
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}
const ROOT = findRoot(__dirname);

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-stream-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function collector(): { sink: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  return {
    sink: new Writable({
      write(c: Buffer, _e, cb) {
        parts.push(c);
        cb();
      },
    }),
    bytes: () => Buffer.concat(parts),
  };
}

/** The chunk payloads of a .tez file, in order. */
function payloads(bytes: Uint8Array): Buffer[] {
  const layout = tezip.container.openContainer(bytes, 1 << 30);
  return layout.entries.map((_e, i) => Buffer.from(tezip.container.chunkPayload(bytes, layout, i)));
}

describe('createEncoder', () => {
  const shape = [23, 12, 10];
  const fl = 12 * 10;
  const data = makeFrames('uint16', shape, 8);

  it('to a file, a frame at a time: the same chunks as one-shot compress, and the same decoded frames', async () => {
    const opts = { abs: 5, chunkFrames: 4, predictor: 'auto' as const };
    const p = path.join(tmp, 'enc.tez');
    const seen: number[] = [];
    const enc = tezip.createEncoder({ output: p, dtype: 'uint16', frameShape: [12, 10], ...opts, threads: 3, onChunk: (c) => seen.push(c.chunk) });
    for (let t = 0; t < shape[0]; t++) await enc.push(data.subarray(t * fl, (t + 1) * fl));
    assert.equal(enc.framesPushed, 23);
    const res = await enc.finish();
    assert.deepEqual(res, { frames: 23, chunks: 6, bytes: fs.statSync(p).size });
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5], 'records written in order');
    assert.equal(enc.framesWritten, 23);

    const streamed = fs.readFileSync(p);
    const oneShot = await tezip.compress({ data, shape }, opts);
    assert.deepEqual(payloads(streamed), payloads(oneShot));
    const a = tezip.decompressSync(streamed);
    const b = tezip.decompressSync(oneShot);
    assert.deepEqual(a.shape, shape);
    assert.ok(Buffer.from(bytesOf(a.data)).equals(Buffer.from(bytesOf(b.data))));
    assert.equal(tezip.container.parseHeader(streamed).frames, 0, 'a streaming header says "see the trailer"');
    await assert.rejects(enc.push(data.subarray(0, fl)), /closed/);
  });

  it('to a Writable, in batches of frames: identical bytes whatever the thread count', async () => {
    const outs: Buffer[] = [];
    for (const threads of [1, 2, 4]) {
      const c = collector();
      const enc = tezip.createEncoder({ output: c.sink, dtype: 'uint16', frameShape: [12, 10], chunkFrames: 3, threads });
      await enc.push({ data: data.subarray(0, 5 * fl), shape: [5, 12, 10] });
      await enc.push(data.subarray(5 * fl, 6 * fl));
      await enc.push(Buffer.from(bytesOf(data.subarray(6 * fl)))); // raw little-endian bytes
      await enc.finish();
      outs.push(c.bytes());
    }
    assert.ok(outs[0].equals(outs[1]) && outs[0].equals(outs[2]));
    assert.ok(Buffer.from(bytesOf(tezip.decompressSync(outs[0]).data)).equals(Buffer.from(bytesOf(data))));
  });

  it('rel needs a declared range, which bounds the error and must hold every value', async () => {
    const base = { output: collector().sink, dtype: 'uint16' as const, frameShape: [12, 10] };
    assert.throws(() => tezip.createEncoder({ ...base, rel: 1e-3 }), /options\.range/);
    const c = collector();
    const enc = tezip.createEncoder({ ...base, output: c.sink, rel: 1e-3, range: [0, 65535], chunkFrames: 5 });
    await enc.push(data);
    await enc.finish();
    const dec = tezip.decompressSync(c.bytes());
    const eb = 1e-3 * 65535;
    const out = dec.data as Uint16Array;
    for (let i = 0; i < data.length; i++) assert.ok(Math.abs(out[i] - data[i]) <= eb, `element ${i}`);
    const h = tezip.inspect(c.bytes());
    assert.deepEqual([h.valueRange.min, h.valueRange.max, h.effectiveAbs], [0, 65535, eb]);

    const narrow = tezip.createEncoder({ ...base, output: collector().sink, abs: 1, range: [0, 10], chunkFrames: 2 });
    await narrow.push(data.subarray(0, fl));
    await assert.rejects(
      (async () => {
        await narrow.push(data.subarray(fl, 3 * fl));
        await narrow.finish();
      })(),
      (e: Error) => e instanceof RangeError && /options\.range \[0, 10\]/.test(e.message),
    );
  });

  it('bad arguments: TypeError/RangeError before anything is written', async () => {
    const ok = { output: collector().sink, dtype: 'uint16' as const, frameShape: [12, 10] };
    assert.throws(() => tezip.createEncoder({ ...ok, dtype: 'int8' as never }), TypeError);
    assert.throws(() => tezip.createEncoder({ ...ok, frameShape: [12] }), TypeError);
    assert.throws(() => tezip.createEncoder({ ...ok, frameShape: [0, 3] }), RangeError);
    assert.throws(() => tezip.createEncoder({ ...ok, output: 42 as never }), TypeError);
    assert.throws(() => tezip.createEncoder({ ...ok, colour: 1 } as never), /options keys but received 'colour'/);
    assert.throws(() => tezip.createEncoder({ ...ok, range: [5, 1] }), RangeError);
    const enc = tezip.createEncoder({ ...ok, output: collector().sink });
    await assert.rejects(enc.push(new Uint16Array(fl + 1)), RangeError);
    await assert.rejects(enc.push(new Float32Array(fl)), TypeError);
    await assert.rejects(enc.push({ data: new Uint16Array(fl), shape: [1, 10, 12] }), TypeError);
    await assert.rejects(enc.finish(), /at least one frame/);
  });

  it('an unwritable output path fails the first push or finish with the system error', async () => {
    const enc = tezip.createEncoder({ output: path.join(tmp, 'no', 'such', 'dir.tez'), dtype: 'uint8', frameShape: [2, 2], chunkFrames: 1 });
    await assert.rejects(
      (async () => {
        await enc.push(new Uint8Array(4));
        await enc.push(new Uint8Array(4));
        await enc.finish();
      })(),
      { code: 'ENOENT' },
    );
  });
});

describe('createCompressStream / createDecompressStream', () => {
  const shape = [17, 9, 14, 2];
  const data = makeFrames('float32', shape, 3);
  const frameShape = shape.slice(1);

  function pieces(b: Uint8Array, seed: number): Uint8Array[] {
    const r = rng(seed);
    const out: Uint8Array[] = [];
    for (let i = 0; i < b.length; ) {
      const n = 1 + Math.floor(r() * 3000);
      out.push(b.subarray(i, i + n));
      i += n;
    }
    return out;
  }

  it('raw bytes split anywhere → the same file as createEncoder → the same frames back', async () => {
    const opts = { dtype: 'float32' as const, frameShape, chunkFrames: 4, abs: 0.25 };
    const c = collector();
    await pipeline(Readable.from(pieces(bytesOf(data), 1)), tezip.createCompressStream(opts), c.sink);
    const c2 = collector();
    const enc = tezip.createEncoder({ ...opts, output: c2.sink });
    await enc.push(data);
    await enc.finish();
    assert.ok(c.bytes().equals(c2.bytes()));

    const d = collector();
    const ds = tezip.createDecompressStream({ threads: 3 });
    let header: tezip.StreamHeader | undefined;
    ds.on('header', (h: tezip.StreamHeader) => (header = h));
    await pipeline(Readable.from(pieces(c.bytes(), 2)), ds, d.sink);
    assert.deepEqual(header && [header.dtype, header.frameShape, header.frames], ['float32', frameShape, 0]);
    assert.ok(d.bytes().equals(Buffer.from(bytesOf(tezip.decompressSync(c.bytes()).data))));
  });

  it('decodes a one-shot file fed a byte at a time', async () => {
    const small = makeFrames('int32', [5, 3, 4], 2);
    const tez = tezip.compressSync({ data: small, shape: [5, 3, 4] }, { chunkFrames: 2 });
    const d = collector();
    await pipeline(Readable.from(Array.from(tez, (b) => Uint8Array.of(b))), tezip.createDecompressStream(), d.sink);
    assert.ok(d.bytes().equals(Buffer.from(bytesOf(small))));
  });

  it('input that ends inside a frame, bad chunks and bad files are errors', async () => {
    await assert.rejects(
      pipeline(Readable.from([new Uint8Array(10)]), tezip.createCompressStream({ dtype: 'uint8', frameShape: [3, 3] }), collector().sink),
      /ended 1 bytes into a frame/,
    );
    await assert.rejects(pipeline(Readable.from([Buffer.from('hello world, not tez')]), tezip.createDecompressStream(), collector().sink), {
      code: 'TEZ_BAD_MAGIC',
    });
    await assert.rejects(pipeline(Readable.from([]), tezip.createDecompressStream(), collector().sink), { code: 'TEZ_TRUNCATED' });
    const tez = tezip.compressSync({ data, shape }, { chunkFrames: 4 });
    await assert.rejects(pipeline(Readable.from([tez, Uint8Array.of(1)]), tezip.createDecompressStream(), collector().sink), {
      code: 'TEZ_CORRUPT',
    });
  });

  it('backpressure: with nobody reading, writes stop being acknowledged and buffering stays bounded', async () => {
    const frameBytes = 9 * 14 * 2 * 4;
    const cs = tezip.createCompressStream({ dtype: 'float32', frameShape, chunkFrames: 2, threads: 2 }, { highWaterMark: 1024 });
    let acked = 0;
    const frame = bytesOf(data.subarray(0, frameBytes / 4));
    for (let i = 0; i < 400; i++) cs.write(frame, () => acked++);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(acked < 40, `only a few frames are taken in while the output is not read (acked ${acked} of 400)`);
    assert.ok(cs.readableLength < 64 * 1024, `readable buffer ${cs.readableLength}`);
    // Reading releases it all.
    const sink = collector();
    const done = pipeline(cs, sink.sink);
    cs.end();
    await done;
    assert.equal(acked, 400);
    assert.equal(tezip.decompressSync(sink.bytes()).shape[0], 400);
  });

  it('the decompress stream also waits for its reader', async () => {
    const big = makeFrames('uint8', [64, 32, 32], 1);
    const tez = tezip.compressSync({ data: big, shape: [64, 32, 32] }, { chunkFrames: 1 });
    const ds = tezip.createDecompressStream({ threads: 2 }, { highWaterMark: 1024 });
    const src = new PassThrough();
    src.pipe(ds);
    src.end(tez);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(ds.readableLength <= 4 * 1024, `readable buffer ${ds.readableLength}`);
    const c = collector();
    await pipeline(ds, c.sink);
    assert.ok(c.bytes().equals(Buffer.from(big)));
  });
});

describe('crash safety: a writer killed with SIGKILL', () => {
  it('every chunk written before the kill is recovered, bit for bit', async function () {
    this.timeout(120000);
    const out = path.join(tmp, 'killed.tez');
    const lib = path.join(ROOT, 'dist-test', 'src', 'index.js');
    // Frames are a function of their index, so the parent can check what comes back.
    const child = `
      const t = require(${JSON.stringify(lib)});
      const H = 48, W = 40;
      const frame = (k) => { const f = new Uint16Array(H * W); for (let i = 0; i < f.length; i++) f[i] = (k * 31 + i * 7 + ((i * k) % 13)) & 0xffff; return f; };
      const enc = t.createEncoder({ output: ${JSON.stringify(out)}, dtype: 'uint16', frameShape: [H, W], chunkFrames: 3, threads: 2,
        onChunk: (c) => process.stdout.write('written ' + (c.firstFrame + c.frameCount) + '\\n') });
      (async () => { for (let k = 0; ; k++) await enc.push(frame(k)); })();
    `;
    const proc = spawn(process.execPath, ['-e', child], { stdio: ['ignore', 'pipe', 'inherit'] });
    let reported = 0;
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      proc.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const all = [...buf.matchAll(/written (\d+)\n/g)];
        if (all.length) reported = Number(all[all.length - 1][1]);
        if (reported >= 60) {
          proc.kill('SIGKILL');
          resolve();
        }
      });
      proc.on('exit', (code) => (reported >= 60 ? resolve() : reject(new Error(`writer exited early (${code})`))));
    });
    await new Promise((r) => proc.once('close', r));
    assert.equal(proc.signalCode, 'SIGKILL');

    await expectTezipError(() => tezip.openTez(out), ['TEZ_TRUNCATED', 'TEZ_CORRUPT', 'TEZ_CHECKSUM']);
    const fixed = path.join(tmp, 'killed-fixed.tez');
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli', 'main.js'), 'recover', out, '-o', fixed, '--json'], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    const rep = JSON.parse(cli.stdout) as tezip.RecoverReport;
    assert.ok(rep.framesKept >= reported, `kept ${rep.framesKept}, the writer had reported ${reported} written`);
    assert.equal(rep.framesKept % 3, 0, 'whole chunks only');

    const f = await tezip.openTez(fixed);
    try {
      assert.equal(f.frameCount, rep.framesKept);
      const got = (await f.readFrames()).data as Uint16Array;
      const H = 48;
      const W = 40;
      for (let k = 0; k < rep.framesKept; k++) {
        for (let i = 0; i < H * W; i++) {
          const want = (k * 31 + i * 7 + ((i * k) % 13)) & 0xffff;
          if (got[k * H * W + i] !== want) assert.fail(`frame ${k} element ${i}: ${got[k * H * W + i]} ≠ ${want}`);
        }
      }
    } finally {
      await f.close();
    }
  });
});
