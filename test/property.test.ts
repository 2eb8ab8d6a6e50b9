// Property tests: random small shapes, dtypes, bounds and special values; the bound must hold for every element.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tezip from '../src/index';
import type { DType } from '../src/index';
import { Bound, CTORS, DTYPES, checkBound, isFloat, optionsFor } from './support';

const shapeArb = fc.tuple(
  fc.integer({ min: 1, max: 6 }),
  fc.integer({ min: 1, max: 9 }),
  fc.integer({ min: 1, max: 9 }),
  fc.constantFrom(0, 1, 3),
).map(([t, h, w, c]) => (c === 0 ? [t, h, w] : [t, h, w, c]));

const INT_LIMITS: Record<string, [number, number]> = {
  uint8: [0, 255],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

function valueArb(dtype: DType): fc.Arbitrary<number> {
  if (dtype === 'float32') {
    return fc.oneof(
      { weight: 6, arbitrary: fc.float({ min: -1000, max: 1000, noNaN: true }) },
      { weight: 1, arbitrary: fc.float() }, // NaN, ±Inf, -0, subnormals, extremes
    );
  }
  if (dtype === 'float64') {
    return fc.oneof(
      { weight: 6, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
      { weight: 1, arbitrary: fc.double() },
    );
  }
  const [lo, hi] = INT_LIMITS[dtype];
  return fc.oneof(fc.integer({ min: lo, max: hi }), fc.constantFrom(lo, hi, 0));
}

const boundArb: fc.Arbitrary<Bound> = fc.oneof(
  fc.constant<Bound>({ mode: 'lossless' }),
  fc.double({ min: 1e-6, max: 100, noNaN: true }).map((abs): Bound => ({ mode: 'abs', abs })),
  fc.double({ min: 1e-6, max: 0.5, noNaN: true }).map((rel): Bound => ({ mode: 'rel', rel })),
  fc.tuple(fc.double({ min: 1e-6, max: 100, noNaN: true }), fc.double({ min: 1e-6, max: 0.5, noNaN: true })).map(
    ([abs, rel]): Bound => ({ mode: 'absrel', abs, rel }),
  ),
  fc.double({ min: 1e-6, max: 0.999, noNaN: true }).map((pwrel): Bound => ({ mode: 'pwrel', pwrel })),
);

// Rows wide enough for the vector decoder of chunk method 3 (32 lanes: rows of 32 elements or more).
const wideShapeArb = fc.tuple(
  fc.integer({ min: 1, max: 3 }),
  fc.integer({ min: 1, max: 5 }),
  fc.integer({ min: 1, max: 70 }),
  fc.constantFrom(0, 1, 3),
).map(([t, h, w, c]) => (c === 0 ? [t, h, w] : [t, h, w, c]));

const caseArb = caseArbFor(shapeArb);

function caseArbFor(shapes: fc.Arbitrary<number[]>) {
  return fc
    .tuple(fc.constantFrom(...DTYPES), shapes, boundArb, fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }))
    .chain(([dtype, shape, bound, chunkFrames]) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return fc
        .oneof(
          fc.array(valueArb(dtype), { minLength: n, maxLength: n }),
          // smooth data, the kind predictors like
          fc.tuple(fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: -5, max: 5, noNaN: true })).map(([a, b]) =>
            Array.from({ length: n }, (_, i) => a + b * Math.sin(i / 3)),
          ),
        )
        .map((values) => ({ dtype, shape, bound, chunkFrames, values }));
    });
}

function toArray(dtype: DType, values: number[]) {
  const a = new CTORS[dtype](values.length);
  for (let i = 0; i < values.length; i++) {
    const [lo, hi] = INT_LIMITS[dtype] ?? [-Infinity, Infinity];
    a[i] = isFloat(dtype) ? values[i] : Math.min(hi, Math.max(lo, Math.round(values[i])));
  }
  return a;
}

describe('properties (fast-check)', () => {
  it('sync round trips hold their bound for random shapes, dtypes, bounds and values', () => {
    fc.assert(
      fc.property(caseArb, ({ dtype, shape, bound, chunkFrames, values }) => {
        const data = toArray(dtype, values);
        const packed = tezip.compressSync({ data, shape }, { ...optionsFor(bound), chunkFrames });
        const out = tezip.decompressSync(packed);
        assert.deepEqual(out.shape, shape);
        assert.equal(out.dtype, dtype);
        checkBound(data, out.data, bound);
      }),
      { numRuns: 400 },
    );
  });

  it('every chunk coder (method 1; method 3 with 8, 16 and 32 lanes) holds the bound, rows up to 210 elements', () => {
    // TEZIP_CODER forces the coder of the native encoder (docs/FORMAT.md); it is read at every chunk.
    fc.assert(
      fc.property(caseArbFor(wideShapeArb), fc.constantFrom('1', '3/8', '3/16', '3/32'), (c, coder) => {
        const data = toArray(c.dtype, c.values);
        process.env.TEZIP_CODER = coder;
        let packed: Uint8Array;
        try {
          packed = tezip.compressSync({ data, shape: c.shape }, { ...optionsFor(c.bound), chunkFrames: c.chunkFrames });
        } finally {
          delete process.env.TEZIP_CODER;
        }
        const want = coder === '1' ? 1 : 3;
        for (const k of tezip.inspect(packed).chunks) assert.ok([0, 2, want].includes(k.method), `method ${k.method} under ${coder}`);
        const out = tezip.decompressSync(packed);
        checkBound(data, out.data, c.bound);
      }),
      { numRuns: 300 },
    );
  });

  it('async round trips give the same bytes as sync ones', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.integer({ min: 1, max: 3 }), async ({ dtype, shape, bound, chunkFrames, values }, threads) => {
        const data = toArray(dtype, values);
        const opts = { ...optionsFor(bound), chunkFrames };
        const a = await tezip.compress({ data, shape }, { ...opts, threads });
        const b = tezip.compressSync({ data, shape }, opts);
        assert.ok(Buffer.from(a).equals(Buffer.from(b)));
        const out = await tezip.decompress(a, { threads });
        checkBound(data, out.data, bound);
      }),
      { numRuns: 100 },
    );
  });
});
