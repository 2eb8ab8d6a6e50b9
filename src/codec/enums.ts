// Names ↔ numbers shared by the native core (native/include/tezip/codec.h) and the .tez header.
import type { DType, ModeName, PredictorName, TypedArray } from '../types';

export interface DTypeInfo {
  name: DType;
  id: number; // codec.h DType
  bytes: number;
  isFloat: boolean;
  ctor: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray; new (length: number): TypedArray };
}

export const DTYPES: readonly DTypeInfo[] = [
  { name: 'uint8', id: 1, bytes: 1, isFloat: false, ctor: Uint8Array },
  { name: 'uint16', id: 2, bytes: 2, isFloat: false, ctor: Uint16Array },
  { name: 'int16', id: 3, bytes: 2, isFloat: false, ctor: Int16Array },
  { name: 'int32', id: 4, bytes: 4, isFloat: false, ctor: Int32Array },
  { name: 'float32', id: 5, bytes: 4, isFloat: true, ctor: Float32Array },
  { name: 'float64', id: 6, bytes: 8, isFloat: true, ctor: Float64Array },
];

export const DTYPE_NAMES = DTYPES.map((d) => d.name);

export function dtypeByName(name: string): DTypeInfo | undefined {
  return DTYPES.find((d) => d.name === name);
}

export function dtypeById(id: number): DTypeInfo | undefined {
  return DTYPES.find((d) => d.id === id);
}

/** The dtype a TypedArray holds, or undefined for kinds tezip does not store (Int8Array, BigInt64Array...). */
export function dtypeOfArray(a: unknown): DTypeInfo | undefined {
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return DTYPES[0];
  if (a instanceof Uint16Array) return DTYPES[1];
  if (a instanceof Int16Array) return DTYPES[2];
  if (a instanceof Int32Array) return DTYPES[3];
  if (a instanceof Float32Array) return DTYPES[4];
  if (a instanceof Float64Array) return DTYPES[5];
  return undefined;
}

/** Chunk-codec modes (codec.h Mode): rel and absrel are resolved to Abs before reaching the core. */
export const NativeMode = { Lossless: 0, Abs: 1, PwRel: 2 } as const;

/** Requested modes as stored in the header. */
export const MODE_IDS: Record<ModeName, number> = { lossless: 0, abs: 1, rel: 2, absrel: 3, pwrel: 4 };
export const MODE_NAMES: readonly ModeName[] = ['lossless', 'abs', 'rel', 'absrel', 'pwrel'];

export const PREDICTOR_IDS: Record<PredictorName, number> = {
  none: 0,
  prev: 1,
  lorenzo2d: 2,
  lorenzo3d: 3,
  lorenzo: 3, // alias of lorenzo3d (after it, so ids map back to lorenzo3d)
  prednet: 8,
  auto: 255,
};
export const PREDICTOR_NAMES = ['auto', 'none', 'prev', 'lorenzo', 'lorenzo2d', 'lorenzo3d', 'prednet'] as const;

export function predictorName(id: number): PredictorName | 'prednet' | undefined {
  for (const [k, v] of Object.entries(PREDICTOR_IDS)) if (v === id) return k as PredictorName | 'prednet';
  return undefined;
}
