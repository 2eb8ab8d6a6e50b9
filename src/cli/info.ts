// `tezip info`: what a .tez file says about itself — header, source, model hash, ratio — and a table of its
// chunks (frames, bytes, ratio, predictor, method); `--json` prints the same as one object. Header fields this
// command does not know yet are listed at the end, so new fields show up without touching this file.
import { UsageError } from './args.js';
import { readTez } from './decompress.js';
import { readStdin } from './stdio.js';
import { RAW_DTYPES, isRawDType } from '../io/raw.js';

type Opts = Record<string, string | number | boolean | undefined>;

/** Chunk payload methods (docs/FORMAT.md, "Chunk payload"). */
export const METHOD_NAMES: Record<number, string> = { 0: 'stored', 1: 'coded', 2: 'zstd', 3: 'coded-rows' };

export function methodName(m: unknown): string {
  return typeof m === 'number' && METHOD_NAMES[m] ? METHOD_NAMES[m] : `unknown(${String(m)})`;
}

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

function originalBytes(info: Record<string, unknown>): number | undefined {
  const { shape, dtype } = info;
  if (!Array.isArray(shape) || !isRawDType(dtype)) return undefined;
  return shape.reduce((a: number, b) => a * Number(b), 1) * RAW_DTYPES[dtype].BYTES_PER_ELEMENT;
}

/** A model hash wherever the container reports one (header field or metadata), else undefined. */
function modelHash(info: Record<string, unknown>): string | undefined {
  const meta = (info.metadata ?? {}) as Record<string, unknown>;
  const pn = (meta.prednet ?? {}) as Record<string, unknown>; // written by compress with a PredNet model
  for (const o of [info, meta, (info.model ?? {}) as Record<string, unknown>, (meta.model ?? {}) as Record<string, unknown>, pn]) {
    for (const k of ['modelSha256', 'modelHash', 'sha256']) if (typeof o[k] === 'string') return o[k] as string;
  }
  return undefined;
}

function table(rows: string[][], rightAligned: (i: number) => boolean): string[] {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => '  ' + r.map((s, i) => (rightAligned(i) ? s.padStart(w[i]) : s.padEnd(w[i]))).join('  ').trimEnd());
}

function num(v: unknown): string {
  if (typeof v !== 'number') return cell(v);
  return Number.isInteger(v) ? String(v) : String(+v.toPrecision(6));
}

export async function run(positionals: string[], opts: Opts): Promise<number> {
  if (positionals.length !== 1) throw new UsageError(`info takes one .tez file, got ${positionals.length} (try tezip info --help)`);
  const file = positionals[0];
  const bytes = file === '-' ? await readStdin() : readTez(file);
  const lib: typeof import('../index.js') = require('../index.js');
  const raw = lib.inspect(bytes) as unknown as Record<string, unknown>;
  const info = plain(raw) as Record<string, unknown>;
  const chunks = (Array.isArray(info.chunks) ? info.chunks : []) as Record<string, unknown>[];
  const frameBytes = (() => {
    const o = originalBytes(info);
    const shape = info.shape as number[] | undefined;
    return o !== undefined && shape?.[0] ? o / shape[0] : undefined;
  })();
  for (const c of chunks) {
    c.methodName = methodName(c.method);
    if (frameBytes !== undefined && typeof c.frameCount === 'number' && typeof c.payloadBytes === 'number')
      c.ratio = (c.frameCount * frameBytes) / Math.max(1, c.payloadBytes + 32);
  }
  const orig = originalBytes(info);
  const ratio = orig === undefined ? undefined : orig / bytes.byteLength;
  const model = modelHash(info);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ file, fileBytes: bytes.byteLength, originalBytes: orig, ...info, ratio, modelSha256: model ?? null }) + '\n');
    return 0;
  }
  const fv = info.formatVersion as { major: number; minor: number } | undefined;
  const req = (info.requested ?? {}) as Record<string, number>;
  const bound = Object.entries(req).filter(([, v]) => typeof v === 'number' && v !== 0).map(([k, v]) => `${k} ${v}`).join(', ');
  const vr = (info.valueRange ?? {}) as Record<string, unknown>;
  const meta = (info.metadata ?? {}) as Record<string, unknown>;
  const src = (meta.source ?? undefined) as Record<string, unknown> | undefined;
  const rows: Array<[string, string]> = [
    ['file', `${file} (${bytes.byteLength} bytes)`],
    ['format version', fv ? `${fv.major}.${fv.minor}` : '?'],
    ['shape', `${JSON.stringify(info.shape)} ${cell(info.dtype)}`],
    ['mode', `${cell(info.mode)}${bound ? ` (${bound})` : ''}${typeof info.effectiveAbs === 'number' && info.effectiveAbs ? `, effective abs ${num(info.effectiveAbs)}` : ''}`],
    ['predictor', cell(info.predictor)],
    ['value range', `${num(vr.min)} … ${num(vr.max)}`],
    ['chunk frames', cell(info.chunkFrames)],
  ];
  if (src) {
    const files = Array.isArray(src.files) ? src.files : undefined;
    let s = cell(src.format);
    if (files) s += ` (${files.length} files: ${files[0]}${files.length > 1 ? ` … ${files[files.length - 1]}` : ''})`;
    else if (src.dataset) s += ` (${cell(src.file)}:${cell(src.dataset)})`;
    else if (src.file) s += ` (${cell(src.file)})`;
    rows.push(['source', s]);
  }
  rows.push(['model sha256', model ?? '—']);
  if (orig !== undefined) rows.push(['original bytes', String(orig)], ['ratio', String(+ratio!.toPrecision(4))]);
  const known = new Set(['formatVersion', 'fileBytes', 'dtype', 'shape', 'mode', 'requested', 'effectiveAbs', 'valueRange', 'predictor', 'chunkFrames', 'metadata', 'decodedBytes', 'ratio', 'chunks']);
  for (const [k, v] of Object.entries(info)) if (!known.has(k)) rows.push([k, cell(v)]);
  const w = Math.max(...rows.map((r) => r[0].length));
  const lines = rows.map(([k, v]) => `${(k + ':').padEnd(w + 1)} ${v}`);
  lines.push(`chunks: ${chunks.length}`);
  if (chunks.length) {
    const head = ['chunk', 'frames', 'bytes', 'ratio', 'predictor', 'method', 'escapes'];
    const body = chunks.map((c) => {
      const first = Number(c.firstFrame);
      const n = Number(c.frameCount);
      return [
        cell(c.chunk),
        n === 1 ? String(first) : `${first}–${first + n - 1}`,
        cell(c.payloadBytes),
        typeof c.ratio === 'number' ? String(+c.ratio.toPrecision(3)) : '',
        cell(c.predictor),
        cell(c.methodName),
        cell(c.escapes),
      ];
    });
    lines.push(...table([head, ...body], (i) => i !== 4 && i !== 5));
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
