// The real datasets in ../shared/data (raw + json sidecar): lossless, abs and rel at 1e-2/1e-3/1e-4 of the
// value range, pwrel at 1e-2/1e-3, every bound checked element by element. Skipped where the folder is absent.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as tezip from '../src/index';
import type { DType } from '../src/index';
import { Bound, CTORS, checkBound, finiteRange, optionsFor } from './support';

const DATA_DIR = path.resolve(__dirname, '..', '..', '..', 'shared', 'data');
const NAMES = ['moving_mnist', 'bulk_water', 'calcium_imaging', 'era5_t2m_uk'];

describe('real datasets (../shared/data)', function () {
  this.timeout(600000);
  for (const name of NAMES) {
    describe(name, function () {
      let meta: { shape: number[]; dtype: DType; bytes: number };
      let data: InstanceType<(typeof CTORS)[DType]>;
      let range = 0;

      before(function () {
        const raw = path.join(DATA_DIR, `${name}.raw`);
        if (!fs.existsSync(raw) || !fs.existsSync(path.join(DATA_DIR, `${name}.json`))) this.skip();
        meta = JSON.parse(fs.readFileSync(path.join(DATA_DIR, `${name}.json`), 'utf8'));
        const buf = fs.readFileSync(raw);
        assert.equal(buf.length, meta.bytes);
        const Ctor = CTORS[meta.dtype];
        const copy = new Uint8Array(buf.length); // aligned copy
        copy.set(buf);
        data = new Ctor(copy.buffer, 0, buf.length / Ctor.BYTES_PER_ELEMENT);
        const r = finiteRange(data)!;
        range = r[1] - r[0];
      });

      const bounds = (): Bound[] => [
        { mode: 'lossless' },
        ...[1e-2, 1e-3, 1e-4].map((rel): Bound => ({ mode: 'rel', rel })),
        ...[1e-2, 1e-3, 1e-4].map((f): Bound => ({ mode: 'abs', abs: f * range })),
        ...[1e-2, 1e-3].map((pwrel): Bound => ({ mode: 'pwrel', pwrel })),
      ];

      it('round trips within every bound', async function () {
        const lines: string[] = [];
        for (const bound of bounds()) {
          const t0 = Date.now();
          const packed = await tezip.compress({ data, shape: meta.shape }, optionsFor(bound));
          const t1 = Date.now();
          const out = await tezip.decompress(packed);
          const t2 = Date.now();
          assert.deepEqual(out.shape, meta.shape);
          checkBound(data, out.data, bound);
          lines.push(
            `${bound.mode.padEnd(8)} ${JSON.stringify(optionsFor(bound)).padEnd(28)} ratio ${(meta.bytes / packed.length).toFixed(2).padStart(7)}  ` +
              `enc ${t1 - t0} ms, dec ${t2 - t1} ms`,
          );
        }
        if (process.env.TEZIP_TEST_VERBOSE) console.log(lines.map((l) => `      ${l}`).join('\n'));
      });
    });
  }
});
