// A folder of PNG or TIFF files, one frame each, in natural order (frame_2 before frame_10). All frames must
// have the same size, channels and sample type; the file names are kept in the container metadata so that
// decompress can write the same names back.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { naturalSort } from './natural-sort.js';
import { decodePng } from './png.js';
import { RawInputError, RawTypedArray, RAW_DTYPES, RawDType } from './raw.js';
import { FrameSource, describeFrame, frameShape } from './source.js';
import { openTiff } from './tiff.js';
import { readFile, ioError } from './fs-util.js';

export type ImageKind = 'png' | 'tiff';

export function imageKind(name: string): ImageKind | undefined {
  const ext = path.extname(name).toLowerCase();
  if (ext === '.png') return 'png';
  if (ext === '.tif' || ext === '.tiff') return 'tiff';
  return undefined;
}

/** The image files of `dir` in natural order; other files (sidecars, notes) and dot files are ignored. */
export function listImages(dir: string): { kind: ImageKind; names: string[] } {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new RawInputError('ENOENT', `input not found: ${dir}`);
    throw ioError(e, 'list', dir);
  }
  const files = entries.filter((e) => !e.name.startsWith('.') && (e.isFile() || e.isSymbolicLink()) && imageKind(e.name));
  if (files.length === 0) throw new RawInputError('NO_IMAGES', `no PNG or TIFF files in ${dir}`);
  const kinds = new Set(files.map((f) => imageKind(f.name)!));
  if (kinds.size > 1) throw new RawInputError('MIXED_FORMATS', `${dir} holds both PNG and TIFF files; put one kind of frame in a folder`);
  return { kind: [...kinds][0], names: naturalSort(files.map((f) => f.name)) };
}

interface Frame {
  width: number;
  height: number;
  channels: number;
  dtype: RawDType;
  data: RawTypedArray;
}

async function readImage(kind: ImageKind, file: string): Promise<Frame> {
  if (kind === 'png') return decodePng(readFile(file), file);
  const t = await openTiff(file);
  try {
    if (t.pages !== 1)
      throw new RawInputError('BAD_IMAGE', `${file} has ${t.pages} pages; a folder holds one frame a file (give a multi-page stack on its own)`);
    const { page, data } = await t.readPage(0);
    return { ...page, data };
  } finally {
    await t.close();
  }
}

export async function openImageFolder(dir: string): Promise<FrameSource> {
  const { kind, names } = listImages(dir);
  const first = await readImage(kind, path.join(dir, names[0]));
  const shape = frameShape(names.length, first.height, first.width, first.channels);
  const frameLen = first.width * first.height * first.channels;
  const firstDesc = describeFrame(shape, first.dtype);
  return {
    format: kind,
    label: dir,
    shape,
    dtype: first.dtype,
    meta: { source: { format: `${kind}-folder`, files: names } },
    async read(start, count) {
      const out = new RAW_DTYPES[first.dtype](new ArrayBuffer(count * frameLen * RAW_DTYPES[first.dtype].BYTES_PER_ELEMENT), 0, count * frameLen);
      for (let i = 0; i < count; i++) {
        const name = names[start + i];
        const f = start + i === 0 ? first : await readImage(kind, path.join(dir, name));
        if (f.width !== first.width || f.height !== first.height || f.channels !== first.channels || f.dtype !== first.dtype) {
          const desc = describeFrame(frameShape(1, f.height, f.width, f.channels), f.dtype);
          throw new RawInputError('MIXED_FRAMES', `frames differ in ${dir}: ${names[0]} is ${firstDesc} but ${name} is ${desc}`);
        }
        out.set(f.data as never, i * frameLen);
      }
      return out;
    },
    close() {},
  };
}

/** A multi-page TIFF stack, one page a frame, decoded page by page. */
export async function openTiffStack(file: string): Promise<FrameSource> {
  const t = await openTiff(file);
  const { width, height, channels, dtype } = t.first;
  const shape = frameShape(t.pages, height, width, channels);
  const frameLen = width * height * channels;
  const firstDesc = describeFrame(shape, dtype);
  return {
    format: 'tiff',
    label: file,
    shape,
    dtype,
    meta: { source: { format: 'tiff-stack', file: path.basename(file) } },
    async read(start, count) {
      const C = RAW_DTYPES[dtype];
      const out = new C(new ArrayBuffer(count * frameLen * C.BYTES_PER_ELEMENT), 0, count * frameLen);
      for (let i = 0; i < count; i++) {
        const { page, data } = await t.readPage(start + i);
        if (page.width !== width || page.height !== height || page.channels !== channels || page.dtype !== dtype) {
          const desc = describeFrame(frameShape(1, page.height, page.width, page.channels), page.dtype);
          throw new RawInputError('MIXED_FRAMES', `pages differ in ${file}: page 0 is ${firstDesc} but page ${start + i} is ${desc}`);
        }
        out.set(data as never, i * frameLen);
      }
      return out;
    },
    close: () => t.close(),
  };
}
