// Reading frames from the files a detector leaves behind, one file at a time, for `watch`: raw+json arrays
// (src/io/raw), PNG frames and TIFF files (single frames or stacks, src/io). The decoding is src/io's; this
// module only says which file is a frame file, which other files belong to it, and when it is not whole yet.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RawDType, RawTypedArray, dtypeSize, parseSidecar, rawPaths, typedView } from '../io/raw';

export interface FrameArray {
  data: RawTypedArray;
  /** [T, H, W] or [T, H, W, C]. */
  shape: number[];
  dtype: RawDType;
}

export interface FrameReader {
  /** Whether this reader takes a file of this name (the name alone). */
  accepts(name: string): boolean;
  /** Other files that belong to `file` and must be complete too (e.g. a raw file's sidecar). */
  companions(file: string): string[];
  /** The frames of a complete file. Throws `IncompleteError` when the file is not whole (yet). */
  read(file: string): Promise<FrameArray>;
}

/** A file that is still being written (sizes disagree, sidecar missing or cut short). */
export class IncompleteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompleteError';
  }
}

export const rawReader: FrameReader = {
  accepts: (name) => /\.raw$/i.test(name),
  companions: (file) => [rawPaths(file).jsonPath],
  async read(file) {
    const { rawPath, jsonPath } = rawPaths(file);
    let meta: unknown;
    try {
      meta = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
    } catch (e) {
      throw new IncompleteError(`${jsonPath}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no sidecar yet' : 'sidecar not valid JSON yet'}`);
    }
    const { shape, dtype } = parseSidecar(meta, jsonPath);
    const expected = shape.reduce((a, b) => a * b, 1) * dtypeSize(dtype);
    const size = fs.statSync(rawPath).size;
    if (size !== expected) throw new IncompleteError(`${rawPath} has ${size} of ${expected} bytes`);
    const data = typedView(fs.readFileSync(rawPath), dtype);
    // A single 2-D frame is one frame; everything else is [T, H, W(, C)] as everywhere in tezip.
    const s = shape.length === 2 ? [1, ...shape] : shape;
    if (s.length !== 3 && s.length !== 4) throw new TypeError(`${jsonPath}: expected a shape [H, W], [T, H, W] or [T, H, W, C] but received ${JSON.stringify(shape)}`);
    return { data, shape: s, dtype };
  },
};

/** [T, H, W] for one channel, [T, H, W, C] otherwise, whatever the reader gave. */
function withFrames(shape: readonly number[]): number[] {
  return shape.length === 4 && shape[3] === 1 ? shape.slice(0, 3) : [...shape];
}

export const pngReader: FrameReader = {
  accepts: (name) => /\.png$/i.test(name),
  companions: () => [],
  async read(file) {
    const { decodePng } = require('../io/png') as typeof import('../io/png');
    let img: Awaited<ReturnType<typeof decodePng>>;
    try {
      img = await decodePng(fs.readFileSync(file), file);
    } catch (e) {
      // A PNG cut short does not decode: it is still being written, or damaged; either way it is not taken.
      throw new IncompleteError((e as Error).message);
    }
    const shape = withFrames([1, img.height, img.width, img.channels]);
    return { data: img.data, shape, dtype: img.dtype };
  },
};

export const tiffReader: FrameReader = {
  accepts: (name) => /\.tiff?$/i.test(name),
  companions: () => [],
  async read(file) {
    const { openTiffStack } = require('../io/image-folder') as typeof import('../io/image-folder');
    let src: Awaited<ReturnType<typeof openTiffStack>> | undefined;
    try {
      src = await openTiffStack(file);
      const data = await src.read(0, src.shape[0]);
      return { data, shape: withFrames(src.shape), dtype: src.dtype };
    } catch (e) {
      throw new IncompleteError((e as Error).message);
    } finally {
      await src?.close();
    }
  },
};

const READERS: readonly FrameReader[] = [rawReader, pngReader, tiffReader];

export function readerFor(file: string): FrameReader | undefined {
  const name = path.basename(file);
  return READERS.find((r) => r.accepts(name));
}

/** Frame shape (without T) as a key: frames with the same key can go in one array. */
export function frameKey(a: { shape: readonly number[]; dtype: string }): string {
  return `${a.dtype}:${a.shape.slice(1).join('x')}`;
}

/** Concatenates arrays of equal frame shape and dtype along T. */
export function concatFrames(parts: readonly FrameArray[]): FrameArray {
  if (parts.length === 0) throw new RangeError('nothing to concatenate');
  const key = frameKey(parts[0]);
  for (const p of parts) if (frameKey(p) !== key) throw new TypeError(`cannot join frames of ${frameKey(p)} with ${key}`);
  if (parts.length === 1) return parts[0];
  const bytes = parts.reduce((n, p) => n + p.data.byteLength, 0);
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength), at);
    at += p.data.byteLength;
  }
  const T = parts.reduce((n, p) => n + p.shape[0], 0);
  return { data: typedView(out, parts[0].dtype), shape: [T, ...parts[0].shape.slice(1)], dtype: parts[0].dtype };
}
