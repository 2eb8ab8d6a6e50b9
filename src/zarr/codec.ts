// tezip as a zarr / numcodecs.js codec: `codecId: 'tezip'`, static `fromConfig`, `encode`, `decode`,
// `getConfig`. It is a bytes-to-bytes codec: in zarr v3 it follows the `bytes` codec (little-endian) and
// learns the chunk's dtype and shape from the chunk metadata that zarrita passes to `fromConfig`; without
// that (plain numcodecs.js use) the configuration names them (`dtype`, `shape`).
//
//   import * as zarr from 'zarrita';
//   import { TezipCodec } from 'tezip';
//   zarr.registry.set('tezip', async () => TezipCodec);
//   await zarr.create(store, { shape, chunkShape, dtype: 'float32',
//     codecs: [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'tezip', configuration: { abs: 0.01 } }] });
//
// Each zarr chunk is one independent .tez file, so a `rel` bound is relative to each chunk's own range.
// Chunks of rank 1 and 2 are stored as one frame ([1, 1, n] and [1, h, w]); higher ranks fold the leading axes
// into frames ([prod(leading), h, w]), the last two axes being the image.
import type { CompressOptions, DType, PredictorName } from '../types';

const DTYPES: Record<DType, { new (b: ArrayBufferLike, o: number, n: number): ArrayBufferView & ArrayLike<number>; BYTES_PER_ELEMENT: number }> = {
  uint8: Uint8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

export interface TezipCodecConfig {
  abs?: number;
  rel?: number;
  pwrel?: number;
  predictor?: PredictorName;
  level?: 0 | 1 | 2;
  /** Chunk dtype and shape when no zarr chunk metadata is given (numcodecs.js use). */
  dtype?: DType;
  shape?: number[];
}

/** What zarrita passes as the second argument of fromConfig. */
interface ChunkMeta {
  dataType?: string;
  shape?: number[];
}

const CONFIG_KEYS = new Set(['id', 'abs', 'rel', 'pwrel', 'predictor', 'level', 'dtype', 'shape']);

function lib(): typeof import('../index') {
  return require('../index') as typeof import('../index');
}

export function tezipShape(shape: readonly number[]): number[] {
  if (shape.length === 0) return [1, 1, 1];
  if (shape.length === 1) return [1, 1, shape[0]];
  if (shape.length === 2) return [1, shape[0], shape[1]];
  const lead = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [lead, shape[shape.length - 2], shape[shape.length - 1]];
}

export class TezipCodec {
  static readonly codecId = 'tezip';
  readonly codecId = 'tezip';
  /** zarrita's codec kind. */
  readonly kind = 'bytes_to_bytes';
  private readonly options: CompressOptions;
  private readonly dtype: DType;
  private readonly shape?: number[];

  constructor(config: TezipCodecConfig = {}, meta?: ChunkMeta) {
    if (config === null || typeof config !== 'object' || Array.isArray(config))
      throw new TypeError(`Expected an object for the tezip codec configuration but received ${JSON.stringify(config)}`);
    for (const k of Object.keys(config))
      if (!CONFIG_KEYS.has(k)) throw new TypeError(`Expected one of ${[...CONFIG_KEYS].join(', ')} as tezip codec configuration keys but received '${k}'`);
    const dtype = (meta?.dataType ?? config.dtype ?? 'uint8') as string;
    if (!Object.prototype.hasOwnProperty.call(DTYPES, dtype))
      throw new TypeError(`tezip stores ${Object.keys(DTYPES).join(', ')} chunks, not ${JSON.stringify(dtype)}`);
    this.dtype = dtype as DType;
    const shape = meta?.shape ?? config.shape;
    if (shape !== undefined && (!Array.isArray(shape) || !shape.every((n) => Number.isSafeInteger(n) && n > 0)))
      throw new TypeError(`Expected an array of positive integers for the chunk shape but received ${JSON.stringify(shape)}`);
    this.shape = shape;
    const o: CompressOptions = {};
    if (config.abs !== undefined) o.abs = config.abs;
    if (config.rel !== undefined) o.rel = config.rel;
    if (config.pwrel !== undefined) o.pwrel = config.pwrel;
    if (config.predictor !== undefined) o.predictor = config.predictor;
    if (config.level !== undefined) o.level = config.level;
    // Validated now, so a bad configuration fails when the array is opened, not at the first write.
    (require('../codec/options') as typeof import('../codec/options')).resolveCompressOptions(o);
    this.options = o;
  }

  static fromConfig(config: TezipCodecConfig, meta?: ChunkMeta): TezipCodec {
    return new TezipCodec(config, meta);
  }

  getConfig(): TezipCodecConfig & { id: 'tezip' } {
    const c: TezipCodecConfig & { id: 'tezip' } = { id: 'tezip', ...this.options } as TezipCodecConfig & { id: 'tezip' };
    if (this.shape) {
      c.dtype = this.dtype;
      c.shape = [...this.shape];
    }
    return c;
  }

  /** Raw little-endian chunk bytes → a .tez file. */
  async encode(bytes: Uint8Array): Promise<Uint8Array> {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('Expected a Uint8Array of chunk bytes for the tezip codec');
    const C = DTYPES[this.dtype];
    if (bytes.byteLength % C.BYTES_PER_ELEMENT !== 0)
      throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${this.dtype} values`);
    const n = bytes.byteLength / C.BYTES_PER_ELEMENT;
    const shape = tezipShape(this.shape ?? [n]);
    if (shape[0] * shape[1] * shape[2] !== n)
      throw new RangeError(`chunk of ${n} ${this.dtype} values does not match the chunk shape ${JSON.stringify(this.shape)}`);
    const aligned = bytes.byteOffset % C.BYTES_PER_ELEMENT === 0 ? bytes : bytes.slice();
    const data = new C(aligned.buffer, aligned.byteOffset, n);
    return lib().compress({ data: data as never, shape, dtype: this.dtype }, this.options);
  }

  /** A .tez file → raw little-endian chunk bytes. */
  async decode(bytes: Uint8Array): Promise<Uint8Array> {
    const d = await lib().decompress(bytes);
    if (d.dtype !== this.dtype) {
      const { TezipError } = require('../errors') as typeof import('../errors');
      throw new TezipError('TEZ_CORRUPT', `tezip chunk holds ${d.dtype} values, the array is ${this.dtype}`);
    }
    if (this.shape && d.data.length !== this.shape.reduce((a, b) => a * b, 1)) {
      const { TezipError } = require('../errors') as typeof import('../errors');
      throw new TezipError('TEZ_CORRUPT', `tezip chunk holds ${d.data.length} values, the chunk shape ${JSON.stringify(this.shape)} needs ${this.shape.reduce((a, b) => a * b, 1)}`);
    }
    return new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.byteLength);
  }
}
