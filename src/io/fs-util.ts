// File-system errors turned into one plain line for the CLI.
import * as fs from 'node:fs';
import { RawInputError } from './raw.js';

export function ioError(e: unknown, verb: string, file: string): RawInputError {
  const err = e as NodeJS.ErrnoException;
  const why =
    err.code === 'ENOENT' ? 'no such file or folder' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a folder' : err.code === 'ENOTDIR' ? 'not a folder' : err.code === 'ENOSPC' ? 'no space left on the device' : err.message;
  return new RawInputError(err.code ?? 'EIO', `cannot ${verb} ${file}: ${why}`);
}

export function readFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new RawInputError('ENOENT', `input not found: ${file}`);
    throw ioError(e, 'read', file);
  }
}

export function writeFile(file: string, bytes: Uint8Array): void {
  try {
    fs.writeFileSync(file, bytes);
  } catch (e) {
    throw ioError(e, 'write', file);
  }
}

/** Creates `dir` (and parents) for image output; an existing non-folder is an error. */
export function ensureDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw ioError(e, 'create folder', dir);
  }
  if (!fs.statSync(dir).isDirectory()) throw new RawInputError('ENOTDIR', `cannot write into ${dir}: not a folder`);
}
