// Regenerates the small samples shipped in samples/ from the shared datasets (../shared/data by default).
// node samples/make-samples.mjs [DATA_DIR]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.argv[2] ?? path.resolve(here, '../../shared/data');

function load(name) {
  const meta = JSON.parse(fs.readFileSync(path.join(dataDir, name + '.json'), 'utf8'));
  return { meta, raw: fs.readFileSync(path.join(dataDir, name + '.raw')) };
}

function write(name, buf, meta) {
  fs.writeFileSync(path.join(here, name + '.raw'), buf);
  fs.writeFileSync(path.join(here, name + '.json'), JSON.stringify(meta, null, 1) + '\n');
}

// bulk_water: first 10 frames, a 128x128 window from the middle of the 424x640 field.
{
  const { meta, raw } = load('bulk_water');
  const [, H, W] = meta.shape;
  const T = 10, h = 128, w = 128, y0 = Math.floor((H - h) / 2), x0 = Math.floor((W - w) / 2);
  const out = Buffer.alloc(T * h * w);
  for (let t = 0; t < T; t++)
    for (let y = 0; y < h; y++) {
      const src = t * H * W + (y0 + y) * W + x0;
      raw.copy(out, (t * h + y) * w, src, src + w);
    }
  write('bulk_water_small', out, {
    name: 'bulk_water_small', shape: [T, h, w], dtype: meta.dtype, byte_order: 'little', order: 'C', bytes: out.length,
    source: meta.source, license: meta.license, axes: meta.axes,
    subsetting: `cut from shared bulk_water ${JSON.stringify(meta.shape)}: frames 0..${T - 1}, rows ${y0}..${y0 + h - 1}, columns ${x0}..${x0 + w - 1}`,
  });
}

// era5_t2m_uk: first 24 hourly frames (one day), full grid.
{
  const { meta, raw } = load('era5_t2m_uk');
  const [, H, W] = meta.shape;
  const T = 24, bytes = T * H * W * 4;
  const out = Buffer.from(raw.subarray(0, bytes));
  write('era5_small', out, {
    name: 'era5_small', shape: [T, H, W], dtype: meta.dtype, byte_order: 'little', order: 'C', bytes,
    source: meta.source, license: meta.license, axes: meta.axes, units: meta.units,
    subsetting: `cut from shared era5_t2m_uk ${JSON.stringify(meta.shape)}: frames 0..${T - 1} (2019-03-01 00Z..23Z), full grid`,
  });
}
