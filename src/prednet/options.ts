// Compress/decompress options that concern PredNet: the model and TEZip's window schemes.
import { PredNetModel, isPredNetModel, loadPredNetModel } from './model';

export interface ResolvedPredNet {
  prednet?: PredNetModel;
  window: number;
  warmup: number;
  mseThreshold: number;
}

// (not codec/options' show: that module imports this one)
function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
}

export const PREDNET_COMPRESS_KEYS = ['model', 'window', 'mseThreshold', 'warmup'];

function resolveModel(v: unknown): PredNetModel | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return loadPredNetModel(v);
  if (isPredNetModel(v)) return v;
  throw new TypeError(`Expected a model folder path or a loaded PredNet model for options.model but received ${show(v)}`);
}

function count(v: unknown, name: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number') throw new TypeError(`Expected a non-negative integer for options.${name} but received ${show(v)}`);
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new RangeError(`Expected a non-negative integer below 2^32 for options.${name} but received ${show(v)}`);
  return v;
}

export function resolvePredNetCompress(o: Record<string, unknown>, predictorIsPredNet: boolean): ResolvedPredNet {
  const prednet = resolveModel(o.model);
  if (predictorIsPredNet && !prednet) throw new TypeError("Expected options.model (a model folder) with predictor 'prednet'");
  const window = count(o.window, 'window');
  const warmup = count(o.warmup, 'warmup');
  let mseThreshold = 0;
  if (o.mseThreshold !== undefined) {
    if (typeof o.mseThreshold !== 'number') throw new TypeError(`Expected a positive number for options.mseThreshold but received ${show(o.mseThreshold)}`);
    if (!(o.mseThreshold > 0) || !Number.isFinite(o.mseThreshold))
      throw new RangeError(`Expected a positive number for options.mseThreshold but received ${show(o.mseThreshold)}`);
    mseThreshold = o.mseThreshold;
  }
  if (!prednet && (window || warmup || mseThreshold)) throw new TypeError('options.window, warmup and mseThreshold need options.model');
  return { prednet, window, warmup, mseThreshold };
}

export function resolvePredNetDecompress(o: Record<string, unknown>): PredNetModel | undefined {
  return resolveModel(o.model);
}
