// Streaming: an encoder for streams of unknown length, and Transform streams both ways.
export { createEncoder } from './encoder';
export type { ChunkWritten, Encoder, EncoderOptions, EncoderResult, StreamCompressOptions } from './encoder';
export { createCompressStream, createDecompressStream } from './transform';
export type { DecompressStreamOptions, StreamHeader } from './transform';
