// tezip: compression of time-evolutionary image data. Public API.
export { compress, compressSync, decompress, decompressSync, inspect } from './codec/codec';
export { TezipError } from './errors';
export { createEncoder, createCompressStream, createDecompressStream } from './stream';
export type { ChunkWritten, DecompressStreamOptions, Encoder, EncoderOptions, EncoderResult, StreamCompressOptions, StreamHeader } from './stream';
export { openTez } from './container/file';
export type { FramesRead, Gap, OpenTezOptions, ReadFramesOptions, TezReader } from './container/file';
export { recoverTez } from './container/recover';
export type { RecoverReport } from './container/recover';
export type { ChunkLocation } from './container/reader';
export type { TezipErrorCode } from './errors';
export type {
  ChunkSummary,
  CompressOptions,
  Decoded,
  DecompressOptions,
  DType,
  Frames,
  InspectResult,
  ModeName,
  NdArrayLike,
  PredictorName,
  TypedArray,
} from './types';

/** Package version (kept equal to package.json by a test). */
export const version = '0.1.0';

/** SIMD paths the native core uses on this CPU, e.g. "sse4.2,avx2". */
export function cpuFeatures(): string {
  // Loaded lazily so that importing tezip never fails before the addon is needed.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return (require('./native') as typeof import('./native')).native().cpuFeatures();
}

// Building blocks of the container, for streaming writers, random access and recovery tools.
export * as container from './container';

// zarr / numcodecs.js codec (register it with zarrita: `zarr.registry.set('tezip', async () => TezipCodec)`).
export { TezipCodec } from './zarr';
export type { TezipCodecConfig } from './zarr';
