// Raw arrays with a JSON sidecar: NAME.raw holds the values (C order, little-endian), NAME.json says
// {"shape": [T, H, W(, C)], "dtype": "uint8" | ...} plus whatever provenance the producer adds.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type RawDType = 'uint8' | 'uint16' | 'int16' | 'int32' | 'float32' | 'float64';

export type RawTypedArray = Uint8Array | Uint16Array | Int16Array | Int32Array | Float32Array | Float64Array;

type Ctor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): RawTypedArray; BYTES_PER_ELEMENT: number };

export const RAW_DTYPES: Readonly<Record<RawDType, Ctor>> = {
  uint8: Uint8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** An error in the user's input files (missing file, bad sidecar, size mismatch). */
export class RawInputError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'RawInputError';
    this.code = code;
  }
}

export interface RawArray {
  data: RawTypedArray;
  shape: number[];
  dtype: RawDType;
}

export interface RawFile extends RawArray {
  rawPath: string;
  jsonPath: string;
  /** The whole sidecar object, as read. */
  meta: Record<string, unknown>;
  /** Size of the .raw file in bytes. */
  bytes: number;
}

export function isRawDType(s: unknown): s is RawDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(RAW_DTYPES, s);
}

export function dtypeSize(dtype: RawDType): number {
  return RAW_DTYPES[dtype].BYTES_PER_ELEMENT;
}

/**
 * The two files of a raw array named by either of them: `x.raw` or `x.json` (or `x`, meaning `x.raw`).
 * Any other extension is kept for the data file and replaced by `.json` for the sidecar.
 */
export function rawPaths(input: string): { rawPath: string; jsonPath: string } {
  const ext = path.extname(input);
  if (ext.toLowerCase() === '.json') return { rawPath: input.slice(0, -ext.length) + '.raw', jsonPath: input };
  if (ext === '') return { rawPath: input + '.raw', jsonPath: input + '.json' };
  return { rawPath: input, jsonPath: input.slice(0, -ext.length) + '.json' };
}

function readFileOrThrow(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RawInputError('ENOENT', `${what} not found: ${file}`);
    if (code === 'EISDIR') throw new RawInputError('EISDIR', `${what} is a directory: ${file}`);
    throw new RawInputError(code ?? 'EIO', `cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

/** Parses and checks a sidecar object; `where` names it in messages. */
export function parseSidecar(meta: unknown, where: string): { shape: number[]; dtype: RawDType } {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta))
    throw new RawInputError('BAD_SIDECAR', `${where}: expected a JSON object with "shape" and "dtype"`);
  const m = meta as Record<string, unknown>;
  const shape = m.shape;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
    throw new RawInputError(
      'BAD_SIDECAR',
      `${where}: expected "shape" to be an array of non-negative integers but received ${JSON.stringify(shape)}`,
    );
  if (!isRawDType(m.dtype))
    throw new RawInputError(
      'BAD_DTYPE',
      `${where}: unknown dtype ${JSON.stringify(m.dtype)} (expected one of ${Object.keys(RAW_DTYPES).join(', ')})`,
    );
  if (m.byte_order !== undefined && m.byte_order !== 'little')
    throw new RawInputError('BAD_SIDECAR', `${where}: only "byte_order": "little" is supported, got ${JSON.stringify(m.byte_order)}`);
  if (m.order !== undefined && m.order !== 'C')
    throw new RawInputError('BAD_SIDECAR', `${where}: only "order": "C" is supported, got ${JSON.stringify(m.order)}`);
  return { shape: shape as number[], dtype: m.dtype };
}

/** A typed view of `buf`, copied only when the Buffer's offset is not aligned for the element type. */
export function typedView(buf: Uint8Array, dtype: RawDType): RawTypedArray {
  const C = RAW_DTYPES[dtype];
  const size = C.BYTES_PER_ELEMENT;
  if (buf.byteLength % size !== 0)
    throw new RawInputError('SIZE_MISMATCH', `${buf.byteLength} bytes is not a whole number of ${dtype} values`);
  if (buf.byteOffset % size !== 0) buf = new Uint8Array(buf); // pooled small Buffers may be unaligned
  return new C(buf.buffer, buf.byteOffset, buf.byteLength / size);
}

/** Reads `x.raw` + `x.json` (either path may be given) and checks that the sizes agree. */
export function readRaw(input: string): RawFile {
  const { rawPath, jsonPath } = rawPaths(input);
  const text = readFileOrThrow(jsonPath, 'sidecar').toString('utf8');
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (e) {
    throw new RawInputError('BAD_SIDECAR', `${jsonPath}: invalid JSON (${(e as Error).message})`);
  }
  const { shape, dtype } = parseSidecar(meta, jsonPath);
  const buf = readFileOrThrow(rawPath, 'input');
  const expected = shape.reduce((a, b) => a * b, 1) * dtypeSize(dtype);
  if (buf.byteLength !== expected)
    throw new RawInputError(
      'SIZE_MISMATCH',
      `${rawPath} has ${buf.byteLength} bytes but ${jsonPath} describes ${expected} (shape ${JSON.stringify(shape)}, ${dtype})`,
    );
  return { data: typedView(buf, dtype), shape, dtype, rawPath, jsonPath, meta: meta as Record<string, unknown>, bytes: buf.byteLength };
}

/** Writes `x.raw` and its `x.json` sidecar (output may be given as either); returns both paths. */
export function writeRaw(output: string, arr: RawArray, extra: Record<string, unknown> = {}): { rawPath: string; jsonPath: string } {
  const { rawPath, jsonPath } = rawPaths(output);
  const bytes = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const meta = { shape: arr.shape, dtype: arr.dtype, byte_order: 'little', order: 'C', bytes: bytes.byteLength, ...extra };
  try {
    fs.writeFileSync(rawPath, bytes);
    fs.writeFileSync(jsonPath, JSON.stringify(meta, null, 1) + '\n');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such folder' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new RawInputError(err.code ?? 'EIO', `cannot write ${err.path ?? rawPath}: ${why}`);
  }
  return { rawPath, jsonPath };
}
