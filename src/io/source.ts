// What every reader gives the compressor: a shape, a dtype and frames read on demand, so an input larger than
// memory streams through in slabs (see tez-writer.ts).
import { RawDType, RawTypedArray } from './raw.js';

export type SourceFormat = 'raw' | 'png' | 'tiff' | 'hdf5';

export interface FrameSource {
  format: SourceFormat;
  /** The input as the user named it, for messages. */
  label: string;
  /** [T, H, W] or [T, H, W, C], C order. */
  shape: number[];
  dtype: RawDType;
  /** Reads frames [start, start + count) into a new C-order array. */
  read(start: number, count: number): Promise<RawTypedArray>;
  /** What decompress needs to write the same layout back (format, file names, dataset path...). */
  meta: Record<string, unknown>;
  close(): Promise<void> | void;
}

export function frameElements(shape: readonly number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/** Frames of `shape` as they will be stored: [T, H, W] for one channel, [T, H, W, C] otherwise. */
export function frameShape(frames: number, height: number, width: number, channels: number): number[] {
  return channels === 1 ? [frames, height, width] : [frames, height, width, channels];
}

export function describeFrame(shape: readonly number[], dtype: string): string {
  const [, h, w, c] = shape;
  return `${w}×${h}${c && c > 1 ? `×${c}` : ''} ${dtype}`;
}
