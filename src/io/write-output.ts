// Writes decoded frames back as PNG or TIFF folders (with the original file names when the container
// metadata has them), a multi-page TIFF stack, an HDF5 dataset, or raw + JSON sidecar; a slab at a time.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureDir, ioError, writeFile } from './fs-util.js';
import { H5Writer, NEXUS_DATASET, parseH5Spec } from './hdf5.js';
import { encodePng } from './png.js';
import { RawDType, RawInputError, rawPaths } from './raw.js';
import { checkStoredNames, plainNames, withExtension } from './safe-names.js';
import { DecodedSlab } from './tez-slabs.js';
import { TiffWriter } from './tiff.js';

export type OutputFormat = 'png' | 'tiff' | 'h5' | 'raw';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['png', 'tiff', 'h5', 'raw'];

export interface OutputInfo {
  shape: number[];
  dtype: RawDType;
  /** The container's metadata (source format, file names, dataset path). */
  metadata: Record<string, unknown>;
}

export interface OutputOptions {
  /** Ignore stored file names and write frame_00000.png, ... */
  plainNames?: boolean;
  /** Extra fields for a raw sidecar. */
  sidecar?: Record<string, unknown>;
}

function source(meta: Record<string, unknown>): Record<string, unknown> {
  const s = meta.source;
  return s && typeof s === 'object' && !Array.isArray(s) ? (s as Record<string, unknown>) : {};
}

/** The format to write when --format is not given: what the output name says, else what the input was. */
export function defaultFormat(output: string, meta: Record<string, unknown>): OutputFormat {
  const ext = path.extname(parseH5Spec(output)?.file ?? output).toLowerCase();
  if (ext === '.tif' || ext === '.tiff') return 'tiff';
  if (parseH5Spec(output)) return 'h5';
  if (ext === '.raw' || ext === '.json') return 'raw';
  const f = source(meta).format;
  if (f === 'png-folder') return 'png';
  if (f === 'tiff-folder' || f === 'tiff-stack') return 'tiff';
  if (f === 'hdf5') return 'h5';
  return 'raw';
}

export interface WriteResult {
  /** What was written: a folder, a file, or file + sidecar. */
  paths: string[];
  files: number;
}

/**
 * Writes `slabs` (frame order) to `output` in `format`. Image folders: `output` is the folder (created);
 * TIFF: a folder when the input was a TIFF folder or the name has no .tif/.tiff extension, else one stack.
 */
export async function writeSlabs(format: OutputFormat, output: string, info: OutputInfo, slabs: AsyncIterable<DecodedSlab>, opts: OutputOptions = {}): Promise<WriteResult> {
  const [T, H, W, C = 1] = info.shape;
  const frameLen = H * W * C;
  const src = source(info.metadata);
  const ext = path.extname(output).toLowerCase();
  const stack = format === 'tiff' && (ext === '.tif' || ext === '.tiff');

  if (format === 'png' || (format === 'tiff' && !stack)) {
    const fext = format === 'png' ? '.png' : '.tif';
    const stored = src.format === 'png-folder' || src.format === 'tiff-folder';
    const names = !opts.plainNames && stored ? checkStoredNames(src.files, T).map((n) => withExtension(n, fext)) : plainNames(T, fext);
    if (format === 'png' && (info.dtype !== 'uint8' && info.dtype !== 'uint16'))
      throw new RawInputError('BAD_DTYPE', `PNG holds uint8 or uint16 samples, not ${info.dtype}; use --format tiff, h5 or raw`);
    if (format === 'png' && C > 4) throw new RawInputError('BAD_SHAPE', `PNG holds 1 to 4 channels, not ${C}; use --format tiff, h5 or raw`);
    ensureDir(output);
    for await (const s of slabs) {
      for (let i = 0; i < s.frames; i++) {
        const frame = s.data.subarray(i * frameLen, (i + 1) * frameLen);
        const file = path.join(output, names[s.start + i]);
        if (format === 'png') writeFile(file, await encodePng(frame, W, H, C));
        else {
          let w: TiffWriter;
          try {
            w = new TiffWriter(file, H, W, C, info.dtype);
          } catch (e) {
            throw ioError(e, 'write', file);
          }
          try {
            w.addPage(frame);
          } finally {
            w.close();
          }
        }
      }
    }
    return { paths: [output], files: T };
  }

  if (format === 'tiff') {
    let w: TiffWriter;
    try {
      w = new TiffWriter(output, H, W, C, info.dtype);
    } catch (e) {
      throw ioError(e, 'write', output);
    }
    try {
      for await (const s of slabs) for (let i = 0; i < s.frames; i++) w.addPage(s.data.subarray(i * frameLen, (i + 1) * frameLen));
    } finally {
      w.close();
    }
    return { paths: [output], files: 1 };
  }

  if (format === 'h5') {
    const spec = parseH5Spec(output);
    const file = spec?.file ?? output;
    const stored = typeof src.dataset === 'string' && src.dataset.startsWith('/') ? src.dataset : undefined;
    const dataset = spec?.dataset ?? stored ?? NEXUS_DATASET;
    const w = await H5Writer.create(file, dataset, info.shape.slice(1), info.dtype);
    try {
      for await (const s of slabs) w.append(s.data, s.frames);
    } finally {
      w.close();
    }
    return { paths: [`${file}:${dataset}`], files: 1 };
  }

  // raw + sidecar
  const { rawPath, jsonPath } = rawPaths(output);
  let fd: number;
  try {
    fd = fs.openSync(rawPath, 'w');
  } catch (e) {
    throw ioError(e, 'write', rawPath);
  }
  let bytes = 0;
  try {
    for await (const s of slabs) {
      const b = new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength);
      fs.writeSync(fd, b);
      bytes += b.byteLength;
    }
  } catch (e) {
    if (e instanceof RawInputError || (e as Error).name === 'TezipError') throw e;
    throw ioError(e, 'write', rawPath);
  } finally {
    fs.closeSync(fd);
  }
  const meta = { shape: info.shape, dtype: info.dtype, byte_order: 'little', order: 'C', bytes, ...(opts.sidecar ?? {}) };
  writeFile(jsonPath, new TextEncoder().encode(JSON.stringify(meta, null, 1) + '\n'));
  return { paths: [rawPath, jsonPath], files: 2 };
}
