// Picks the reader for an input path: a folder of PNG/TIFF frames, a multi-page TIFF stack, an HDF5 dataset
// (`file.h5:/entry/data/data`), or a raw array with its JSON sidecar.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openH5, parseH5Spec } from './hdf5.js';
import { openImageFolder, openTiffStack } from './image-folder.js';
import { RawInputError } from './raw.js';
import { openRawSource } from './raw-source.js';
import { FrameSource } from './source.js';

export type InputKind = 'folder' | 'tiff' | 'hdf5' | 'raw';

export function inputKind(input: string): InputKind {
  const h5 = parseH5Spec(input);
  if (h5 && (h5.dataset !== undefined || !fs.existsSync(input) || fs.statSync(input).isFile())) return 'hdf5';
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(input);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) return 'folder';
  const ext = path.extname(input).toLowerCase();
  if (ext === '.tif' || ext === '.tiff') return 'tiff';
  if (ext === '.png') throw new RawInputError('BAD_ARG', `${input}: give the folder that holds the PNG frames, not one file`);
  return 'raw';
}

export async function openInput(input: string): Promise<FrameSource> {
  switch (inputKind(input)) {
    case 'folder':
      return openImageFolder(input);
    case 'tiff':
      return openTiffStack(input);
    case 'hdf5':
      return openH5(input);
    default:
      return openRawSource(input);
  }
}
