// Writes samples/png_small/: 12 frames of bulk_water as 8-bit grey PNGs named bulk_water_1.png ...
// bulk_water_12.png (numbered without zero padding, so reading them in order needs natural sort).
// node samples/make-png-samples.mjs [DATA_DIR]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from 'fast-png';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.argv[2] ?? path.resolve(here, '../../shared/data');
const meta = JSON.parse(fs.readFileSync(path.join(dataDir, 'bulk_water.json'), 'utf8'));
const raw = fs.readFileSync(path.join(dataDir, 'bulk_water.raw'));
const [, H, W] = meta.shape;
const T = 12, h = 64, w = 96, y0 = 180, x0 = 260;
const out = path.join(here, 'png_small');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out);
for (let t = 0; t < T; t++) {
  const frame = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) frame.set(raw.subarray(t * H * W + (y0 + y) * W + x0, t * H * W + (y0 + y) * W + x0 + w), y * w);
  fs.writeFileSync(path.join(out, `bulk_water_${t + 1}.png`), encode({ width: w, height: h, data: frame, depth: 8, channels: 1 }));
}
fs.writeFileSync(
  path.join(out, 'README.md'),
  `# png_small\n\n${T} frames of ${w}×${h} 8-bit grey PNG cut from the shared bulk_water dataset by \`samples/make-png-samples.mjs\`:\n` +
    `frames 0..${T - 1}, rows ${y0}..${y0 + h - 1}, columns ${x0}..${x0 + w - 1}.\n\nSource: ${meta.source}.\nLicence: ${meta.license}.\n`,
);
