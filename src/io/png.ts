// PNG frames through fast-png (maintained, pure JS; decodes and encodes 8- and 16-bit gray, gray+alpha, RGB
// and RGBA). 8-bit images are uint8 frames, 16-bit ones uint16; channels follow the colour type (1–4).
// Palette images are expanded to RGB(A) on reading, so they come back as RGB(A) PNGs with the same pixels.
import { importEsm } from './esm.js';
import { RawInputError, RawTypedArray } from './raw.js';

// fast-png's own types need moduleResolution node16; the part used here, declared locally.
interface DecodedPng {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray | Uint16Array;
  depth: number;
  channels: number;
  palette?: number[][];
  transparency?: Uint16Array;
}
interface FastPng {
  decode(data: Uint8Array): DecodedPng;
  encode(png: { width: number; height: number; data: Uint8Array | Uint16Array; depth: 8 | 16; channels: number }): Uint8Array;
  convertIndexedToRgb(png: DecodedPng): Uint8Array | Uint8ClampedArray;
}

export function fastPng(): Promise<FastPng> {
  return importEsm<FastPng>('fast-png');
}

export interface PngImage {
  width: number;
  height: number;
  channels: number;
  dtype: 'uint8' | 'uint16';
  data: Uint8Array | Uint16Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function hasPngSignature(b: Uint8Array): boolean {
  return b.length >= 8 && PNG_SIGNATURE.every((v, i) => b[i] === v);
}

/** The size a PNG declares in its IHDR, read before decoding so that a hostile header is refused cheaply. */
export function pngHeader(b: Uint8Array): { width: number; height: number; depth: number; colorType: number } | undefined {
  if (b.length < 33 || !hasPngSignature(b)) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint32(12) !== 0x49484452) return undefined; // "IHDR"
  return { width: v.getUint32(16), height: v.getUint32(20), depth: b[24], colorType: b[25] };
}

/** Largest frame a PNG may declare (width × height × 4 channels × 2 bytes): guards decoding. */
const MAX_PNG_PIXELS = 1 << 28;

export async function decodePng(bytes: Uint8Array, file: string): Promise<PngImage> {
  const h = pngHeader(bytes);
  if (!h) throw new RawInputError('BAD_IMAGE', `${file} is not a PNG file`);
  if (h.width === 0 || h.height === 0 || h.width * h.height > MAX_PNG_PIXELS)
    throw new RawInputError('BAD_IMAGE', `${file} declares an unsupported size ${h.width}×${h.height}`);
  const png = await fastPng();
  let d: DecodedPng;
  try {
    d = png.decode(bytes);
  } catch (e) {
    throw new RawInputError('BAD_IMAGE', `cannot decode ${file}: ${(e as Error).message}`);
  }
  let data: Uint8Array | Uint8ClampedArray | Uint16Array = d.data;
  let channels = d.channels;
  let depth: number = d.depth;
  if (d.palette) {
    data = png.convertIndexedToRgb(d);
    channels = data.length / (d.width * d.height);
    depth = 8;
  } else if (depth < 8) {
    throw new RawInputError('BAD_DTYPE', `${file}: ${depth}-bit PNGs are not supported (8 or 16 bits per sample)`);
  }
  if (data.length !== d.width * d.height * channels)
    throw new RawInputError('BAD_IMAGE', `${file}: decoded ${data.length} samples for ${d.width}×${d.height}×${channels}`);
  const out = data instanceof Uint8ClampedArray ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data;
  return { width: d.width, height: d.height, channels, dtype: depth === 16 ? 'uint16' : 'uint8', data: out };
}

export async function encodePng(data: RawTypedArray, width: number, height: number, channels: number): Promise<Uint8Array> {
  if (!(data instanceof Uint8Array || data instanceof Uint16Array))
    throw new RawInputError('BAD_DTYPE', `PNG holds uint8 or uint16 samples, not ${data.constructor.name.replace(/Array$/, '').toLowerCase()}; use --format tiff, h5 or raw`);
  if (channels < 1 || channels > 4) throw new RawInputError('BAD_SHAPE', `PNG holds 1 to 4 channels, not ${channels}; use --format tiff, h5 or raw`);
  const png = await fastPng();
  return png.encode({ width, height, channels, depth: data instanceof Uint16Array ? 16 : 8, data });
}
