// HDF5 datasets (NeXus detectors write /entry/data/data) through h5wasm, the HDF5 C library compiled to
// WebAssembly; its Node build reads the real file system, so a dataset is read slab by slab and a file larger
// than memory streams through. Named as `file.h5:/path/to/dataset`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importEsm } from './esm.js';
import { RAW_DTYPES, RawDType, RawInputError, RawTypedArray } from './raw.js';
import { FrameSource } from './source.js';

type H5 = typeof import('h5wasm');
type H5File = InstanceType<H5['File']>;
type H5Dataset = InstanceType<H5['Dataset']>;

const H5_EXT = /\.(h5|hdf5|hdf|he5|nxs|nx5|nx)$/i;
export const NEXUS_DATASET = '/entry/data/data';
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** `file.h5:/entry/data/data` → file and dataset path; `file.h5` alone → dataset undefined. */
export function parseH5Spec(spec: string): { file: string; dataset?: string } | undefined {
  const m = /^(.*?\.(?:h5|hdf5|hdf|he5|nxs|nx5|nx))(?::(.*))?$/i.exec(spec);
  if (!m) return undefined;
  const dataset = m[2] === undefined || m[2] === '' ? undefined : m[2].startsWith('/') ? m[2] : '/' + m[2];
  return { file: m[1], dataset };
}

export function isH5Path(p: string): boolean {
  return H5_EXT.test(p) || parseH5Spec(p)?.dataset !== undefined;
}

let ready: Promise<H5> | undefined;

/** h5wasm, loaded once, with HDF5 errors thrown as exceptions instead of printed to stderr. */
async function h5(): Promise<H5> {
  ready ??= (async () => {
    const m = await importEsm<H5>('h5wasm/node');
    const mod = await m.ready;
    mod.activate_throwing_error_handler();
    return m;
  })();
  return ready;
}

/** HDF5's error stack is many lines; the innermost "minor" reason is the one a user can act on. */
function h5Reason(e: unknown): string {
  const s = String((e as Error)?.message ?? e);
  const minors = [...s.matchAll(/minor:\s*(.+)/g)].map((m) => m[1].trim());
  const sig = /file signature not found/i.test(s) ? 'not an HDF5 file' : undefined;
  return sig ?? minors[minors.length - 1] ?? s.split('\n')[0];
}

/** The superblock signature sits at 0, 512, 1024, 2048... (a user block may precede it). */
function hasHdf5Signature(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const b = Buffer.alloc(8);
    for (let at = 0; at + 8 <= size && at <= 1 << 20; at = at === 0 ? 512 : at * 2) {
      fs.readSync(fd, b, 0, 8, at);
      if (b.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

function h5DType(meta: { type: number; signed: boolean; size: number }): RawDType | undefined {
  if (meta.type === 0) {
    if (!meta.signed && meta.size === 1) return 'uint8';
    if (!meta.signed && meta.size === 2) return 'uint16';
    if (meta.signed && meta.size === 2) return 'int16';
    if (meta.signed && meta.size === 4) return 'int32';
  } else if (meta.type === 1) {
    if (meta.size === 4) return 'float32';
    if (meta.size === 8) return 'float64';
  }
  return undefined;
}

const H5_TYPE_CODE: Record<RawDType, string> = { uint8: '<B', uint16: '<H', int16: '<h', int32: '<i', float32: '<f', float64: '<d' };

function listDatasets(f: H5File, H: H5): Array<{ path: string; ndim: number }> {
  const out: Array<{ path: string; ndim: number }> = [];
  for (const p of f.paths()) {
    const o = f.get(p);
    if (o instanceof H.Dataset && Array.isArray(o.shape)) out.push({ path: p.startsWith('/') ? p : '/' + p, ndim: o.shape.length });
  }
  return out;
}

export async function openH5(spec: string): Promise<FrameSource> {
  const parsed = parseH5Spec(spec);
  if (!parsed) throw new RawInputError('BAD_ARG', `expected FILE.h5[:/dataset] but received ${JSON.stringify(spec)}`);
  const { file } = parsed;
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new RawInputError('ENOENT', `input not found: ${file}`);
  }
  if (!st.isFile()) throw new RawInputError('EISDIR', `${file} is not a file`);
  if (!hasHdf5Signature(file)) throw new RawInputError('BAD_HDF5', `${file} is not an HDF5 file`);
  const H = await h5();
  let f: H5File;
  try {
    f = new H.File(file, 'r');
  } catch (e) {
    throw new RawInputError('BAD_HDF5', `cannot open ${file}: ${h5Reason(e)}`);
  }
  try {
    let dsPath = parsed.dataset;
    if (dsPath === undefined) {
      const all = listDatasets(f, H).filter((d) => d.ndim >= 2 && d.ndim <= 4);
      if (all.some((d) => d.path === NEXUS_DATASET)) dsPath = NEXUS_DATASET;
      else if (all.length === 1) dsPath = all[0].path;
      else
        throw new RawInputError(
          'BAD_ARG',
          all.length === 0 ? `${file} holds no 2-D to 4-D dataset` : `${file} holds several datasets; name one, e.g. ${file}:${all[0].path} (${all.map((d) => d.path).join(', ')})`,
        );
    }
    let ds: unknown;
    try {
      ds = f.get(dsPath);
    } catch (e) {
      ds = null;
    }
    if (!(ds instanceof H.Dataset)) throw new RawInputError('BAD_ARG', `${file} has no dataset ${dsPath}`);
    const d = ds as H5Dataset;
    const shape = d.shape;
    if (!shape || shape.length < 2 || shape.length > 4)
      throw new RawInputError('BAD_SHAPE', `${file}:${dsPath} has shape ${JSON.stringify(shape)}; frames need 2 to 4 dimensions ([H,W], [T,H,W] or [T,H,W,C])`);
    const meta = d.metadata as unknown as { type: number; signed: boolean; size: number; littleEndian: boolean };
    const dtype = h5DType(meta);
    if (!dtype)
      throw new RawInputError('BAD_DTYPE', `${file}:${dsPath} has dtype ${JSON.stringify(d.dtype)}, not one of uint8, uint16, int16, int32, float32, float64`);
    // h5wasm hands back the stored bytes; refusing big-endian data beats decoding it byte-swapped.
    if (meta.littleEndian === false)
      throw new RawInputError('BAD_DTYPE', `${file}:${dsPath} is stored big-endian, which tezip does not read yet; convert it to little-endian first`);
    const fshape = shape.length === 2 ? [1, ...shape] : [...shape];
    if (fshape.some((n) => !Number.isSafeInteger(n) || n <= 0))
      throw new RawInputError('BAD_SHAPE', `${file}:${dsPath} has an empty or unbounded shape ${JSON.stringify(shape)}`);
    return {
      format: 'hdf5',
      label: `${file}:${dsPath}`,
      shape: fshape,
      dtype,
      meta: { source: { format: 'hdf5', file: path.basename(file), dataset: dsPath } },
      async read(start, count) {
        let v: unknown;
        try {
          v = shape.length === 2 ? d.value : d.slice([[start, start + count]]);
        } catch (e) {
          throw new RawInputError('BAD_HDF5', `cannot read frames ${start}–${start + count - 1} of ${file}:${dsPath}: ${h5Reason(e)}`);
        }
        const a = v as RawTypedArray;
        const expect = count * fshape.slice(1).reduce((x, y) => x * y, 1);
        if (!ArrayBuffer.isView(a) || a.length !== expect)
          throw new RawInputError('BAD_HDF5', `${file}:${dsPath}: read ${(a as { length?: number })?.length} values for frames ${start}–${start + count - 1}, expected ${expect}`);
        return a;
      },
      close() {
        f.close();
      },
    };
  } catch (e) {
    f.close();
    throw e;
  }
}

/** Writes frames into `file` (created or truncated) as one dataset, slab by slab, chunked a frame a chunk. */
export class H5Writer {
  private constructor(
    private readonly f: H5File,
    private readonly ds: H5Dataset,
    private readonly frameShape: number[],
    private written: number,
  ) {}

  static async create(file: string, dataset: string, frameShape: number[], dtype: RawDType): Promise<H5Writer> {
    const H = await h5();
    let f: H5File;
    try {
      f = new H.File(file, 'w');
    } catch (e) {
      throw new RawInputError('EIO', `cannot create ${file}: ${h5Reason(e)}`);
    }
    try {
      const parts = dataset.split('/').filter(Boolean);
      if (parts.length === 0 || parts.some((p) => p === '.' || p === '..'))
        throw new RawInputError('BAD_ARG', `bad HDF5 dataset path ${JSON.stringify(dataset)}`);
      let g: InstanceType<H5['Group']> = f;
      for (const p of parts.slice(0, -1)) {
        const existing = g.get(p);
        g = existing instanceof H.Group ? existing : g.create_group(p);
      }
      // NeXus readers look for these classes on /entry and /entry/data.
      if (dataset === NEXUS_DATASET) {
        (f.get('entry') as InstanceType<H5['Group']>).create_attribute('NX_class', 'NXentry');
        (f.get('entry/data') as InstanceType<H5['Group']>).create_attribute('NX_class', 'NXdata');
      }
      const ds = g.create_dataset({
        name: parts[parts.length - 1],
        data: new RAW_DTYPES[dtype](new ArrayBuffer(0), 0, 0) as never,
        shape: [0, ...frameShape],
        maxshape: [null, ...frameShape],
        chunks: [1, ...frameShape],
        dtype: H5_TYPE_CODE[dtype],
      });
      return new H5Writer(f, ds, frameShape, 0);
    } catch (e) {
      f.close();
      if (e instanceof RawInputError) throw e;
      throw new RawInputError('EIO', `cannot create ${file}:${dataset}: ${h5Reason(e)}`);
    }
  }

  append(data: RawTypedArray, frames: number): void {
    try {
      this.ds.resize([this.written + frames, ...this.frameShape]);
      this.ds.write_slice([[this.written, this.written + frames]], data);
    } catch (e) {
      throw new RawInputError('EIO', `cannot write HDF5 frames: ${h5Reason(e)}`);
    }
    this.written += frames;
  }

  close(): void {
    this.f.close();
  }
}
