// File names read back from a container's metadata are hostile input: each must be a plain name inside the
// output folder. No separators, no `.`/`..`, no absolute or drive paths, no control characters, no duplicates.
import { RawInputError } from './raw.js';

const MAX_NAME_BYTES = 255;

/** Why `name` is not a safe plain file name, or undefined when it is. */
export function unsafeNameReason(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'not a string';
  if (name === '' || name === '.' || name === '..') return 'empty or a dot name';
  if (/[\/\\]/.test(name)) return 'contains a path separator';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
  if (/[\x00-\x1f\x7f]/.test(name)) return 'contains control characters';
  if (name.startsWith('.')) return 'is a hidden (dot) name';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

/**
 * Checks a list of stored frame names before anything is written: `count` names, each plain and unique
 * (case-insensitively, so nothing is overwritten on case-folding file systems).
 */
export function checkStoredNames(names: unknown, count: number): string[] {
  if (!Array.isArray(names)) throw new RawInputError('BAD_NAMES', 'the container metadata holds no list of file names');
  if (names.length !== count)
    throw new RawInputError('BAD_NAMES', `the container metadata names ${names.length} files for ${count} frames`);
  const seen = new Set<string>();
  for (const n of names) {
    const why = unsafeNameReason(n);
    if (why) throw new RawInputError('UNSAFE_NAME', `refusing file name ${JSON.stringify(n)} from the container metadata (${why}); --plain-names writes frame_NNNNN names instead`);
    const k = (n as string).toLowerCase();
    if (seen.has(k)) throw new RawInputError('UNSAFE_NAME', `file name ${JSON.stringify(n)} appears twice in the container metadata`);
    seen.add(k);
  }
  return names as string[];
}

/** frame_00000, frame_00001, ... wide enough for `count` frames. */
export function plainNames(count: number, ext: string): string[] {
  const w = Math.max(5, String(Math.max(0, count - 1)).length);
  return Array.from({ length: count }, (_, i) => `frame_${String(i).padStart(w, '0')}${ext}`);
}

/** Replaces the extension of a stored name (e.g. `a.png` written back as TIFF becomes `a.tif`). */
export function withExtension(name: string, ext: string): string {
  const dot = name.lastIndexOf('.');
  return (dot > 0 ? name.slice(0, dot) : name) + ext;
}
