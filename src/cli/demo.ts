// `tezip demo` (what `npm start` runs): every bound mode on the samples shipped in samples/, with speed and
// the error measured by decoding again — a quick look at what the codec does on real data.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { boundLabel } from './compress.js';
import { Bound, measure } from './metrics.js';
import { RawInputError, readRaw } from '../io/raw.js';

type Opts = Record<string, string | number | boolean | undefined>;

/** Absolute bounds in each sample's units (bulk_water: grey levels; era5: kelvin). */
const ABS: Record<string, number> = { bulk_water_small: 2, era5_small: 0.1 };

export function samplesDir(): string {
  return path.resolve(__dirname, '../../samples');
}

/** Best time over repetitions until ~0.2 s has been spent (samples are small; one run is too noisy). */
async function timed<T>(f: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  let best = Infinity;
  let value!: T;
  const start = process.hrtime.bigint();
  for (let i = 0; i < 50; i++) {
    const t0 = process.hrtime.bigint();
    value = await f();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.min(best, s);
    if (i >= 2 && Number(process.hrtime.bigint() - start) / 1e9 > 0.2) break;
  }
  return { value, seconds: best };
}

function f3(v: number): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 0.01 && Math.abs(v) < 1e5 ? String(+v.toPrecision(3)) : v.toExponential(2);
}

export async function run(_positionals: string[], _opts: Opts): Promise<number> {
  const lib: typeof import('../index.js') = require('../index.js');
  const dir = samplesDir();
  if (!fs.existsSync(dir)) throw new RawInputError('ENOENT', `samples folder not found: ${dir}`);
  const names = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  let failures = 0;
  for (const name of names) {
    const arr = readRaw(path.join(dir, name + '.json'));
    const abs = ABS[name] ?? 1;
    const bounds: Bound[] = [
      { mode: 'lossless' },
      { mode: 'abs', abs },
      { mode: 'rel', rel: 1e-3 },
      { mode: 'rel', rel: 1e-2 },
      { mode: 'absrel', abs, rel: 1e-3 },
      { mode: 'pwrel', pwrel: 1e-2 },
    ];
    const header = ['mode', 'bound', 'ratio', 'comp MB/s', 'decomp MB/s', 'max abs err', 'max pw-rel err', 'verified'];
    const rows: string[][] = [];
    for (const b of bounds) {
      const opts: Record<string, number> = {};
      if (b.abs !== undefined) opts.abs = b.abs;
      if (b.rel !== undefined) opts.rel = b.rel;
      if (b.pwrel !== undefined) opts.pwrel = b.pwrel;
      const frames = { data: arr.data, shape: arr.shape, dtype: arr.dtype };
      const c = await timed(() => lib.compress(frames as never, opts as never));
      const d = await timed(() => lib.decompress(c.value));
      const m = measure(arr.data, d.value.data as typeof arr.data, b);
      if (!m.ok) failures++;
      rows.push([
        b.mode,
        boundLabel(b).replace(/^lossless$/, '—'),
        f3(arr.bytes / c.value.byteLength),
        f3(arr.bytes / 1e6 / c.seconds),
        f3(arr.bytes / 1e6 / d.seconds),
        f3(m.maxAbsError),
        f3(m.maxPwRelError),
        m.ok ? 'yes' : 'FAIL',
      ]);
    }
    const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => '| ' + r.map((s, i) => (i < 2 ? s.padEnd(w[i]) : s.padStart(w[i]))).join(' | ') + ' |';
    const units = typeof arr.meta.units === 'string' ? `, units ${arr.meta.units}` : '';
    process.stdout.write(`\n${name}: shape ${JSON.stringify(arr.shape)}, ${arr.dtype}, ${arr.bytes} bytes${units}\n`);
    process.stdout.write([line(header), '|' + w.map((n, i) => (i < 2 ? '-'.repeat(n + 1) + '-' : '-'.repeat(n + 1) + ':')).join('|') + '|', ...rows.map(line)].join('\n') + '\n');
  }
  failures += await pngFolderDemo(dir);
  process.stdout.write('\nmax errors are measured by decoding the output again; MB/s = original bytes / best of repeated runs.\n');
  if (failures) {
    process.stderr.write(`tezip: ${failures} demo row(s) failed verification\n`);
    return 1;
  }
  return 0;
}

/**
 * A folder of PNG frames (samples/png_small, named bulk_water_1.png ... bulk_water_12.png) compressed, then
 * written back as PNGs under the stored names into a temporary folder and compared pixel for pixel.
 */
async function pngFolderDemo(dir: string): Promise<number> {
  const folder = path.join(dir, 'png_small');
  if (!fs.existsSync(folder)) return 0;
  const { openInput } = require('../io/open-input.js') as typeof import('../io/open-input.js');
  const { MemorySink, compressSource, decodeSlabs } = require('../io/tez-slabs.js') as typeof import('../io/tez-slabs.js');
  const { writeSlabs } = require('../io/write-output.js') as typeof import('../io/write-output.js');
  const lib: typeof import('../index.js') = require('../index.js');
  const src = await openInput(folder);
  const files = ((src.meta.source as { files: string[] }).files ?? []).length;
  const pngBytes = fs.readdirSync(folder).filter((f) => f.endsWith('.png')).reduce((n, f) => n + fs.statSync(path.join(folder, f)).size, 0);
  const t0 = process.hrtime.bigint();
  const sink = new MemorySink();
  const res = await compressSource(src, sink);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const tez = sink.bytes();
  const out = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'tezip-demo-'));
  let same = false;
  let names: string[] = [];
  try {
    const info = lib.inspect(tez);
    await writeSlabs('png', path.join(out, 'restored'), { shape: info.shape, dtype: info.dtype, metadata: info.metadata }, decodeSlabs(tez));
    names = fs.readdirSync(path.join(out, 'restored'));
    const back = await openInput(path.join(out, 'restored'));
    const a = await src.read(0, src.shape[0]);
    const b = await back.read(0, back.shape[0]);
    same = Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
    await src.close();
  }
  const sameNames = names.length === files;
  process.stdout.write(
    `\npng_small/: ${files} PNG frames (bulk_water_1.png … bulk_water_${files}.png, read in natural order), shape ${JSON.stringify(src.shape)}, ${src.dtype}\n` +
      `  pixels ${res.inputBytes} bytes, as PNG files ${pngBytes} bytes → .tez ${res.outputBytes} bytes: ratio ${f3(res.inputBytes / res.outputBytes)} ` +
      `(${f3(pngBytes / res.outputBytes)}× smaller than the PNGs), ${f3(res.inputBytes / 1e6 / seconds)} MB/s including PNG decoding\n` +
      `  restored as PNGs under their original names: ${sameNames ? 'yes' : 'NO'}; pixels identical: ${same ? 'yes' : 'NO'}\n`,
  );
  return same && sameNames ? 0 : 1;
}
