// `tezip info`: what a .tez file says about itself (header, chunk index) plus the ratio it achieves.
// Prints whatever fields the container reports, so new header fields show up without touching this file.
import { UsageError } from './args.js';
import { readTez } from './decompress.js';
import { RAW_DTYPES, isRawDType } from '../io/raw.js';

type Opts = Record<string, string | number | boolean | undefined>;

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, plain);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Uncompressed size from the fields the header reports (shape and dtype, at the top or under `header`). */
function originalBytes(info: Record<string, unknown>): number | undefined {
  const h = (info.header && typeof info.header === 'object' ? info.header : info) as Record<string, unknown>;
  const shape = h.shape ?? info.shape;
  const dtype = h.dtype ?? info.dtype;
  if (!Array.isArray(shape) || !isRawDType(dtype)) return undefined;
  return shape.reduce((a: number, b) => a * Number(b), 1) * RAW_DTYPES[dtype].BYTES_PER_ELEMENT;
}

export async function run(positionals: string[], opts: Opts): Promise<number> {
  if (positionals.length !== 1) throw new UsageError(`info takes one .tez file, got ${positionals.length} (try tezip info --help)`);
  const file = positionals[0];
  const bytes = readTez(file);
  const lib: typeof import('../index.js') = require('../index.js');
  const info = plain(lib.inspect(bytes)) as Record<string, unknown>;
  const orig = originalBytes(info);
  const ratio = orig === undefined ? undefined : orig / bytes.byteLength;
  if (opts.json) {
    process.stdout.write(JSON.stringify({ file, fileBytes: bytes.byteLength, originalBytes: orig, ratio, ...info }) + '\n');
    return 0;
  }
  const lines: string[] = [`file: ${file}`, `file bytes: ${bytes.byteLength}`];
  if (orig !== undefined) lines.push(`original bytes: ${orig}`, `ratio: ${+ratio!.toPrecision(4)}`);
  const shown = new Set(['chunks', 'fileBytes', 'ratio', 'decodedBytes']);
  const scalars = (o: Record<string, unknown>, prefix = '') => {
    for (const [k, v] of Object.entries(o)) {
      if (shown.has(prefix + k)) continue;
      if (v && typeof v === 'object' && !Array.isArray(v)) scalars(v as Record<string, unknown>, `${prefix}${k}.`);
      else lines.push(`${prefix}${k}: ${cell(v)}`);
    }
  };
  scalars(info);
  const chunks = Array.isArray(info.chunks) ? (info.chunks as Record<string, unknown>[]) : [];
  lines.push(`chunks: ${chunks.length}`);
  if (chunks.length) {
    const preferred = ['chunk', 'index', 'firstFrame', 'frameCount', 'frames', 'offset', 'payloadBytes', 'bytes', 'predictor', 'method'];
    const keys = [...new Set(chunks.flatMap((c) => Object.keys(c ?? {})))];
    const cols = [...preferred.filter((k) => keys.includes(k)), ...keys.filter((k) => !preferred.includes(k))];
    const rows = [cols, ...chunks.map((c) => cols.map((k) => cell(c?.[k])))];
    const w = cols.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) lines.push('  ' + r.map((s, i) => s.padStart(w[i])).join('  '));
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
