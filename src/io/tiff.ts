// TIFF: multi-page stacks (one page a frame) and folders of single-page files.
// Reading uses geotiff (maintained; reads 8/16/32-bit signed and unsigned integers and 32/64-bit floats,
// uncompressed, LZW, Deflate and PackBits, tiles or strips, through positioned reads of the file, so a stack is
// decoded page by page). Writing is our own: no maintained npm package writes multi-page 16-bit, signed or
// float TIFFs (utif2 and geotiff's writer handle single 8-bit RGBA or GeoTIFF images only), and an uncompressed
// baseline TIFF is a few tags a page.
import * as fs from 'node:fs';
import { RawDType, RawInputError, RawTypedArray } from './raw.js';

type GeoTiffModule = typeof import('geotiff');

function geotiff(): GeoTiffModule {
  return require('geotiff') as GeoTiffModule;
}

/** geotiff's SampleFormat (1 uint, 2 int, 3 float) and BitsPerSample → tezip dtype. */
export function tiffDType(sampleFormat: number, bits: number): RawDType | undefined {
  if (sampleFormat === 1 && bits === 8) return 'uint8';
  if (sampleFormat === 1 && bits === 16) return 'uint16';
  if (sampleFormat === 2 && bits === 16) return 'int16';
  if (sampleFormat === 2 && bits === 32) return 'int32';
  if (sampleFormat === 3 && bits === 32) return 'float32';
  if (sampleFormat === 3 && bits === 64) return 'float64';
  return undefined;
}

function describeSample(sampleFormat: number, bits: number): string {
  const kind = sampleFormat === 1 ? 'unsigned' : sampleFormat === 2 ? 'signed' : sampleFormat === 3 ? 'float' : `format ${sampleFormat}`;
  return `${bits}-bit ${kind}`;
}

/** Largest page read (tezip's frame limit, 1 GiB). */
const MAX_PAGE_BYTES = 1024 * 1024 * 1024;

export interface TiffPage {
  width: number;
  height: number;
  channels: number;
  dtype: RawDType;
}

export interface TiffFile {
  file: string;
  pages: number;
  /** Page 0's layout; `readPage` checks that the others match. */
  first: TiffPage;
  readPage(i: number): Promise<{ page: TiffPage; data: RawTypedArray }>;
  close(): Promise<void>;
}

function firstBytes(file: string, n: number): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RawInputError('ENOENT', `input not found: ${file}`);
    throw new RawInputError(code ?? 'EIO', `cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const b = Buffer.alloc(n);
    const got = fs.readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

export function hasTiffSignature(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  const ii = b[0] === 0x49 && b[1] === 0x49 && (b[2] === 42 || b[2] === 43) && b[3] === 0;
  const mm = b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && (b[3] === 42 || b[3] === 43);
  return ii || mm;
}

export async function openTiff(file: string): Promise<TiffFile> {
  const head = firstBytes(file, 8);
  if (!hasTiffSignature(head)) throw new RawInputError('BAD_IMAGE', `${file} is not a TIFF file`);
  const g = geotiff();
  let tiff: Awaited<ReturnType<GeoTiffModule['fromFile']>>;
  let pages: number;
  try {
    tiff = await g.fromFile(file);
    pages = await tiff.getImageCount();
  } catch (e) {
    throw new RawInputError('BAD_IMAGE', `cannot read TIFF ${file}: ${(e as Error).message}`);
  }
  const describe = async (i: number) => {
    const img = await tiff.getImage(i);
    const channels = img.getSamplesPerPixel();
    const bits = img.getBitsPerSample(0);
    const sf = img.getSampleFormat(0);
    for (let s = 1; s < channels; s++) {
      if (img.getBitsPerSample(s) !== bits || img.getSampleFormat(s) !== sf)
        throw new RawInputError('BAD_IMAGE', `${file} page ${i}: samples of different types in one pixel are not supported`);
    }
    const dtype = tiffDType(sf, bits);
    if (!dtype)
      throw new RawInputError(
        'BAD_DTYPE',
        `${file} page ${i}: ${describeSample(sf, bits)} samples are not supported (uint8, uint16, int16, int32, float32, float64)`,
      );
    const width = img.getWidth();
    const height = img.getHeight();
    // geotiff allocates what the header declares; refuse absurd pages before it does.
    if (!(width > 0 && height > 0) || width * height * channels * SAMPLE_BYTES[dtype] > MAX_PAGE_BYTES)
      throw new RawInputError('BAD_IMAGE', `${file} page ${i}: unsupported size ${width}×${height}×${channels} ${dtype}`);
    return { img, page: { width, height, channels, dtype } };
  };
  let first: TiffPage;
  try {
    first = (await describe(0)).page;
  } catch (e) {
    if (e instanceof RawInputError) throw e;
    throw new RawInputError('BAD_IMAGE', `cannot read TIFF ${file}: ${(e as Error).message}`);
  }
  return {
    file,
    pages,
    first,
    async readPage(i) {
      try {
        const { img, page } = await describe(i);
        const r = (await img.readRasters({ interleave: true })) as unknown as RawTypedArray;
        return { page, data: r };
      } catch (e) {
        if (e instanceof RawInputError) throw e;
        throw new RawInputError('BAD_IMAGE', `cannot decode ${file} page ${i}: ${(e as Error).message}`);
      }
    },
    async close() {
      try {
        await tiff.close();
      } catch {
        // closing a read-only handle cannot lose data
      }
    },
  };
}

// ---------------- writer ----------------

const SAMPLE_FORMAT: Record<RawDType, number> = { uint8: 1, uint16: 1, int16: 2, int32: 2, float32: 3, float64: 3 };
const SAMPLE_BYTES: Record<RawDType, number> = { uint8: 1, uint16: 2, int16: 2, int32: 4, float32: 4, float64: 8 };

/** Classic TIFF addresses with 32-bit offsets. */
const TIFF_MAX_BYTES = 0xffffffff;

/**
 * Writes pages as an uncompressed little-endian baseline TIFF, strips of whole images, one IFD a page
 * (BlackIsZero for 1–2 channels, RGB for 3–4, extra samples as unassociated alpha, SampleFormat for signed and
 * float data). `pageName` fills tag 285 (PageName) when given.
 */
export class TiffWriter {
  private fd: number;
  private offset = 8;
  private lastNextIfdAt = 4;
  private pagesWritten = 0;

  constructor(
    readonly file: string,
    private readonly height: number,
    private readonly width: number,
    private readonly channels: number,
    private readonly dtype: RawDType,
  ) {
    this.fd = fs.openSync(file, 'w');
    const h = Buffer.alloc(8);
    h.write('II', 0, 'latin1');
    h.writeUInt16LE(42, 2);
    h.writeUInt32LE(0, 4); // first IFD offset, patched when the first page is written
    fs.writeSync(this.fd, h, 0, 8, 0);
  }

  addPage(data: RawTypedArray, pageName?: string): void {
    const { height, width, channels, dtype } = this;
    const pixelBytes = width * height * channels * SAMPLE_BYTES[dtype];
    if (data.byteLength !== pixelBytes) throw new RangeError(`page has ${data.byteLength} bytes, expected ${pixelBytes}`);
    const name = pageName === undefined ? undefined : Buffer.from(pageName + '\0', 'utf8');
    const extra = channels === 2 || channels === 4 ? 1 : channels > 4 ? channels - 3 : 0;
    type Entry = [tag: number, type: number, values: number[] | Buffer];
    const SHORT = 3;
    const LONG = 4;
    const ASCII = 2;
    const entries: Entry[] = [
      [256, LONG, [width]],
      [257, LONG, [height]],
      [258, SHORT, Array(channels).fill(SAMPLE_BYTES[dtype] * 8)],
      [259, SHORT, [1]],
      [262, SHORT, [channels >= 3 ? 2 : 1]],
      [273, LONG, [0]], // strip offset, filled below
      [277, SHORT, [channels]],
      [278, LONG, [height]],
      [279, LONG, [pixelBytes]],
      [284, SHORT, [1]],
    ];
    if (name) entries.push([285, ASCII, name]);
    if (extra) entries.push([338, SHORT, Array(extra).fill(channels === 2 || channels === 4 ? 2 : 0)]);
    entries.push([339, SHORT, Array(channels).fill(SAMPLE_FORMAT[dtype])]);
    entries.sort((a, b) => a[0] - b[0]);

    const valueBytes = (e: Entry) => (Buffer.isBuffer(e[2]) ? e[2].length : e[2].length * (e[1] === SHORT ? 2 : 4));
    const ifdBytes = 2 + entries.length * 12 + 4;
    const overflow = entries.reduce((n, e) => n + (valueBytes(e) > 4 ? (valueBytes(e) + 1) & ~1 : 0), 0);
    const ifdAt = this.offset + (this.offset & 1);
    const dataAt = ifdAt + ifdBytes + overflow;
    const end = dataAt + pixelBytes;
    if (end > TIFF_MAX_BYTES) throw new RawInputError('TOO_LARGE', `${this.file} would exceed the 4 GiB of a classic TIFF; write --format h5 or raw instead`);
    entries.find((e) => e[0] === 273)![2] = [dataAt];

    const ifd = Buffer.alloc(ifdBytes + overflow);
    ifd.writeUInt16LE(entries.length, 0);
    let extraAt = ifdBytes;
    entries.forEach((e, i) => {
      const at = 2 + i * 12;
      const [tag, type, vals] = e;
      ifd.writeUInt16LE(tag, at);
      ifd.writeUInt16LE(type, at + 2);
      ifd.writeUInt32LE(Buffer.isBuffer(vals) ? vals.length : vals.length, at + 4);
      const n = valueBytes(e);
      let target = at + 8;
      if (n > 4) {
        ifd.writeUInt32LE(ifdAt + extraAt, at + 8);
        target = extraAt;
        extraAt += (n + 1) & ~1;
      }
      if (Buffer.isBuffer(vals)) vals.copy(ifd, target);
      else vals.forEach((v, k) => (type === SHORT ? ifd.writeUInt16LE(v, target + 2 * k) : ifd.writeUInt32LE(v, target + 4 * k)));
    });
    ifd.writeUInt32LE(0, 2 + entries.length * 12); // next IFD: patched if another page follows

    fs.writeSync(this.fd, ifd, 0, ifd.length, ifdAt);
    // Typed arrays are little-endian on every platform Node supports, as TIFF "II" wants.
    fs.writeSync(this.fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0, pixelBytes, dataAt);
    const link = Buffer.alloc(4);
    link.writeUInt32LE(ifdAt, 0);
    fs.writeSync(this.fd, link, 0, 4, this.lastNextIfdAt);
    this.lastNextIfdAt = ifdAt + 2 + entries.length * 12;
    this.offset = end;
    this.pagesWritten++;
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  get pages(): number {
    return this.pagesWritten;
  }
}
