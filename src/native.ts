// Loads the Node-API addon (build/Release/tezip.node) and gives it types. Conversion and async plumbing
// live in native/addon; everything here is a thin typed view of it.
import fs from 'node:fs';
import path from 'node:path';

export interface NativeEncodeParams {
  dtype: number;
  frames: number;
  height: number;
  width: number;
  channels: number;
  mode: number; // 0 lossless, 1 abs, 2 pwrel (codec.h Mode)
  ebAbs: number;
  epsPw: number;
  predictor: number;
  level: number;
  /** PredNet: the loaded model (loadPredNet) and TEZip's window options. */
  prednet?: unknown;
  window?: number;
  warmup?: number;
  mseThreshold?: number;
}

export interface NativeShapeParams {
  dtype: number;
  frames: number;
  height: number;
  width: number;
  channels: number;
  /** The PredNet model the chunks may need (checked by sha256 in the core). */
  prednet?: unknown;
}

export interface NativeChunkInfo {
  predictor: number;
  method: number;
  escapes: number;
}

export interface NativeAddon {
  encodeChunk(data: Uint8Array, p: NativeEncodeParams): Uint8Array;
  encodeChunkAsync(data: Uint8Array, p: NativeEncodeParams): Promise<Uint8Array>;
  decodeChunk(payload: Uint8Array, p: NativeShapeParams, out: Uint8Array): void;
  decodeChunkAsync(payload: Uint8Array, p: NativeShapeParams, out: Uint8Array): Promise<void>;
  inspectChunk(payload: Uint8Array): NativeChunkInfo;
  valueRange(data: Uint8Array, dtype: number): [number, number] | null;
  valueRangeAsync(data: Uint8Array, dtype: number): Promise<[number, number] | null>;
  crc32c(bytes: Uint8Array, seed?: number): number;
  cpuFeatures(): string;
  loadPredNet(arch: object, weights: Float32Array, sha256: Uint8Array): unknown;
  predNetPredict(model: unknown, frames: Float32Array, T: number, H: number, W: number): Float32Array;
  predNetKernelPath(): string;
}

function locate(): string {
  const override = process.env.TEZIP_ADDON;
  if (override) return override;
  // dist/native.js and dist-test/src/native.js both reach the package root by walking up.
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'build', 'Release', 'tezip.node');
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(
    'tezip: native addon build/Release/tezip.node not found; run `npm install` (or `npm run build`) in the package folder',
  );
}

let cached: NativeAddon | undefined;

/** The addon, loaded on first use. */
export function native(): NativeAddon {
  if (!cached) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    cached = require(locate()) as NativeAddon;
  }
  return cached;
}

export function crc32c(bytes: Uint8Array, seed = 0): number {
  return native().crc32c(bytes, seed);
}
