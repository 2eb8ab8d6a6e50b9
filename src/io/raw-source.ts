// Raw arrays (NAME.raw + NAME.json sidecar, or stdin with --shape/--dtype) as frame sources read in slabs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RAW_DTYPES, RawDType, RawInputError, dtypeSize, parseSidecar, rawPaths, typedView } from './raw.js';
import { FrameSource } from './source.js';
import { readFile } from './fs-util.js';

function checkFrameShape(shape: number[], where: string): void {
  if (shape.length < 3 || shape.length > 4)
    throw new RawInputError('BAD_SHAPE', `${where}: expected a shape [T, H, W] or [T, H, W, C] but received ${JSON.stringify(shape)}`);
}

/** `x.raw` + `x.json`, read a slab at a time from the file. */
export function openRawSource(input: string): FrameSource {
  const { rawPath, jsonPath } = rawPaths(input);
  if (!fs.existsSync(rawPath) && !fs.existsSync(jsonPath)) throw new RawInputError('ENOENT', `input not found: ${input}`);
  let meta: unknown;
  try {
    meta = JSON.parse(readFile(jsonPath).toString('utf8'));
  } catch (e) {
    if (e instanceof RawInputError) throw new RawInputError(e.code, e.message.replace('input not found', 'sidecar not found'));
    throw new RawInputError('BAD_SIDECAR', `${jsonPath}: invalid JSON (${(e as Error).message})`);
  }
  const { shape, dtype } = parseSidecar(meta, jsonPath);
  checkFrameShape(shape, jsonPath);
  let size: number;
  try {
    const st = fs.statSync(rawPath);
    if (!st.isFile()) throw new RawInputError('EISDIR', `input is not a file: ${rawPath}`);
    size = st.size;
  } catch (e) {
    if (e instanceof RawInputError) throw e;
    throw new RawInputError('ENOENT', `input not found: ${rawPath}`);
  }
  const frameBytes = shape.slice(1).reduce((a, b) => a * b, 1) * dtypeSize(dtype);
  const expected = shape[0] * frameBytes;
  if (size !== expected)
    throw new RawInputError('SIZE_MISMATCH', `${rawPath} has ${size} bytes but ${jsonPath} describes ${expected} (shape ${JSON.stringify(shape)}, ${dtype})`);
  let fd: number | undefined;
  return {
    format: 'raw',
    label: rawPath,
    shape,
    dtype,
    meta: { source: { format: 'raw', file: path.basename(rawPath) } },
    async read(start, count) {
      fd ??= fs.openSync(rawPath, 'r');
      const buf = new Uint8Array(count * frameBytes);
      let done = 0;
      while (done < buf.length) {
        const n = fs.readSync(fd, buf, done, buf.length - done, start * frameBytes + done);
        if (n === 0) throw new RawInputError('SIZE_MISMATCH', `${rawPath} ended early (it changed while being read)`);
        done += n;
      }
      return typedView(buf, dtype);
    },
    close() {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    },
  };
}

/** A raw array already in memory (stdin), described by --shape and --dtype. */
export function memoryRawSource(bytes: Uint8Array, shape: number[], dtype: RawDType, label: string): FrameSource {
  checkFrameShape(shape, label);
  const frameBytes = shape.slice(1).reduce((a, b) => a * b, 1) * dtypeSize(dtype);
  const expected = shape[0] * frameBytes;
  if (bytes.byteLength !== expected)
    throw new RawInputError('SIZE_MISMATCH', `${label} has ${bytes.byteLength} bytes but shape ${JSON.stringify(shape)} of ${dtype} needs ${expected}`);
  const data = typedView(bytes, dtype);
  const elems = frameBytes / RAW_DTYPES[dtype].BYTES_PER_ELEMENT;
  return {
    format: 'raw',
    label,
    shape,
    dtype,
    meta: { source: { format: 'raw' } },
    async read(start, count) {
      return data.subarray(start * elems, (start + count) * elems);
    },
    close() {},
  };
}
