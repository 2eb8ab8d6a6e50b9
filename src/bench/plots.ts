// Pictures of a run: per dataset one figure — rate–distortion curves (ratio vs PSNR, vs tolerance ÷ range, vs
// pwrel ε) and ratio-vs-throughput scatters (compression, decompression) — drawn from a vega-lite spec to SVG
// by vega (headless), then to PNG by resvg; plus one self-contained HTML page with the SVGs inline.
// vega, vega-lite and @resvg/resvg-js are devDependencies: loaded here only, so the library and the CLI's other
// commands never pay for them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BenchResult, DatasetResult, Row } from './harness.js';
import { htmlPage } from './report.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
// A real dynamic import (tsc would turn `import()` into `require()`, which cannot load ES modules on every Node 20).
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<any>;

async function load(name: string): Promise<any> {
  let resolved: string;
  try {
    resolved = require.resolve(name);
  } catch {
    throw new Error(`${name} is not installed (npm install --include=dev, or npm ci in a checkout)`);
  }
  return importEsm(require('node:url').pathToFileURL(resolved).href);
}

const FONT = 'DejaVu Sans, Arial, Helvetica, sans-serif';
const W = 300;
const H = 220;

interface Datum {
  tool: string;
  kind: string;
  comparison: string;
  ratio: number;
  psnr?: number;
  relTolerance?: number;
  eps?: number;
  compMBps: number;
  decompMBps: number;
}

function data(rows: Row[]): Datum[] {
  return rows
    .filter((r) => r.verified === 'yes' && r.ratio! > 0 && r.compMBps! > 0 && r.decompMBps! > 0)
    .map((r) => ({
      tool: r.tool, kind: r.kind, comparison: r.comparison, ratio: r.ratio!, compMBps: r.compMBps!, decompMBps: r.decompMBps!,
      psnr: Number.isFinite(r.psnr) ? r.psnr : undefined,
      relTolerance: r.kind === 'abs' && r.relTolerance! > 0 ? r.relTolerance! : undefined,
      eps: r.kind === 'pwrel' ? r.tolerance! : undefined,
    }));
}

const isVariant = (d: Datum) => /^tezip \(/.test(d.tool);

// tezip in red, its variants in warm light shades, the anchors in distinct cool/dark colours.
const TEZIP = '#d62728';
const VARIANTS = ['#ff9896', '#ffbb78', '#f7b6d2', '#c49c94', '#e377c2', '#dbdb8d', '#ff7f0e'];
const OTHERS = ['#1f77b4', '#2ca02c', '#9467bd', '#17becf', '#8c564b', '#7f7f7f', '#bcbd22', '#393b79', '#637939', '#aec7e8', '#98df8a', '#c5b0d5', '#9edae5', '#000000'];

function colors(tools: string[]): { domain: string[]; range: string[] } {
  const uniq = [...new Set(tools)];
  const domain = [...uniq.filter((t) => t === 'tezip'), ...uniq.filter((t) => t.startsWith('tezip (')), ...uniq.filter((t) => !t.startsWith('tezip'))];
  let v = 0;
  let o = 0;
  const range = domain.map((t) => (t === 'tezip' ? TEZIP : t.startsWith('tezip (') ? VARIANTS[v++ % VARIANTS.length] : OTHERS[o++ % OTHERS.length]));
  return { domain, range };
}

/** A line-with-points panel; `x` is a field of Datum. */
function curve(values: Datum[], x: keyof Datum, xTitle: string, title: string, logX: boolean, color: object): object {
  return {
    title: { text: title, fontSize: 12 },
    width: W,
    height: H,
    data: { values },
    layer: [
      { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { detail: { field: 'kind' } } },
      { mark: { type: 'point', filled: true, size: 45 }, encoding: { shape: { field: 'kind', type: 'nominal', title: 'comparison' } } },
    ],
    encoding: {
      x: { field: x, type: 'quantitative', title: xTitle, scale: logX ? { type: 'log' } : { zero: false } },
      y: { field: 'ratio', type: 'quantitative', title: 'compression ratio', scale: { type: 'log' } },
      color: { field: 'tool', type: 'nominal', title: 'tool', scale: color },
      order: { field: x, type: 'quantitative' },
    },
  };
}

function scatter(values: Datum[], x: 'compMBps' | 'decompMBps', title: string, color: object): object {
  return {
    title: { text: title, fontSize: 12 },
    width: W,
    height: H,
    data: { values },
    mark: { type: 'point', filled: true, size: 50, opacity: 0.85 },
    encoding: {
      x: { field: x, type: 'quantitative', title: `${x === 'compMBps' ? 'compression' : 'decompression'} MB/s (whole process)`, scale: { type: 'log' } },
      y: { field: 'ratio', type: 'quantitative', title: 'compression ratio', scale: { type: 'log' } },
      color: { field: 'tool', type: 'nominal', title: 'tool', scale: color },
      shape: { field: 'kind', type: 'nominal', title: 'comparison' },
    },
  };
}

/** The vega-lite spec of one dataset's figure. */
export function figureSpec(d: DatasetResult, quick: boolean): object | null {
  const all = data(d.rows);
  if (!all.length) return null;
  const main = all.filter((x) => !isVariant(x));
  const color = colors(all.map((x) => x.tool));
  const top: object[] = [];
  const psnr = main.filter((x) => x.kind !== 'lossless' && x.psnr !== undefined);
  if (psnr.length) top.push(curve(psnr, 'psnr', 'PSNR dB (over the value range)', 'ratio vs PSNR (exact outputs not shown)', false, color));
  const abs = main.filter((x) => x.relTolerance !== undefined);
  if (abs.length) top.push(curve(abs, 'relTolerance', 'abs tolerance ÷ value range (rel ε)', 'ratio vs bound (same tolerance for all)', true, color));
  const pw = main.filter((x) => x.eps !== undefined);
  if (pw.length) top.push(curve(pw, 'eps', 'pwrel ε (|x̂−x| ≤ ε|x|)', 'ratio vs point-wise relative bound', true, color));
  const bottom = [scatter(all, 'compMBps', 'ratio vs compression throughput', color), scatter(all, 'decompMBps', 'ratio vs decompression throughput', color)];
  const { ds } = d;
  const failed = d.rows.filter((r) => r.verified !== 'yes').length;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `${ds.name}: ${ds.dtype} ${JSON.stringify(ds.shape)}${quick ? ' (--quick subset)' : ''}`,
      subtitle: `verified rows only${failed ? ` (${failed} failed row${failed > 1 ? 's' : ''} not drawn: see the table)` : ''}; log scales`,
      fontSize: 15,
    },
    background: 'white',
    padding: 12,
    vconcat: [{ hconcat: top }, { hconcat: bottom }].filter((c) => c.hconcat.length),
    resolve: { scale: { color: 'shared', shape: 'shared' } },
    config: {
      font: FONT,
      legend: { labelLimit: 260 },
      axis: { labelFontSize: 10, titleFontSize: 11 },
    },
  };
}

export async function renderSvg(spec: object): Promise<string> {
  const vl = await load('vega-lite');
  const vega = await load('vega');
  const compiled = (vl.compile ?? vl.default.compile)(spec).spec;
  const view = new (vega.View ?? vega.default.View)((vega.parse ?? vega.default.parse)(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgToPng(svg: string): Buffer {
  let Resvg: any;
  try {
    Resvg = require('@resvg/resvg-js').Resvg;
  } catch {
    throw new Error('@resvg/resvg-js is not installed (npm install --include=dev, or npm ci in a checkout)');
  }
  const r = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}

/** Writes NAME.png per dataset and bench.html into `out`; returns the files written. */
export async function writePlots(r: BenchResult, out: string, quick: boolean): Promise<string[]> {
  const svgs = new Map<string, string>();
  const files: string[] = [];
  for (const d of r.datasets) {
    const spec = figureSpec(d, quick);
    if (!spec) continue;
    const svg = await renderSvg(spec);
    svgs.set(d.ds.name, svg);
    const png = path.join(out, `${d.ds.name}.png`);
    fs.writeFileSync(png, svgToPng(svg));
    files.push(png);
  }
  const html = path.join(out, 'bench.html');
  fs.writeFileSync(html, htmlPage(r, svgs, quick));
  files.push(html);
  return files;
}
