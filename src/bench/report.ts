// Text forms of a run: Markdown tables (stdout and bench.md), JSON-safe numbers, and the HTML page.
import type { BenchResult, DatasetResult, Row } from './harness.js';
import type { MachineSummary } from './tools.js';

// Reference figures quoted in issue #2 (whole datasets, measured once elsewhere; not measured by this run).
const REF_SZ3_REL_1E3: Record<string, number> = { calcium_imaging: 2.79, era5_t2m_uk: 8.45, bulk_water: 2.54, moving_mnist: 7.59 };
const REF_FPZIP_PWREL_1E2: Record<string, number> = { calcium_imaging: 1.77, era5_t2m_uk: 31.2, bulk_water: 3.79, moving_mnist: 3.68 };

export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === undefined || v === null) return '';
  if (v === 0) return '0';
  if (v === Infinity) return 'inf';
  if (Number.isNaN(v)) return 'nan';
  return Math.abs(v) >= 0.01 && Math.abs(v) < 1e5 ? String(+v.toPrecision(digits)) : v.toExponential(digits - 1);
}

export function jsonSafe(v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf') : v;
}

export function machineMarkdown(m: MachineSummary): string {
  const tools = Object.entries(m.tools)
    .map(([k, v]) => `${k} ${v ?? '(not installed)'}`)
    .join('; ');
  return [
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; CPU flags: ${m.cpuFlags.join(' ') || 'unknown'}; tezip's SIMD paths: ${m.tezipSimd ?? 'unknown'}`,
    `- software: node ${m.node}, ${m.platform}, tezip ${m.tezip ?? '?'}`,
    `- tools: ${tools}`,
  ].join('\n');
}

const COLS = ['comparison', 'tool', 'fed as', 'ratio', 'comp MB/s', 'decomp MB/s', 'max abs err', 'max pw-rel err', 'PSNR dB', 'verified'];

function comparisonCell(r: Row): string {
  if (r.kind === 'abs' && r.comparison.startsWith('rel')) return `${r.comparison} (abs ${fmt(r.tolerance, 4)})`;
  return r.comparison;
}

export function tableRow(r: Row): string[] {
  return [
    comparisonCell(r), r.tool, r.fedAs, fmt(r.ratio), fmt(r.compMBps), fmt(r.decompMBps),
    fmt(r.maxAbs), fmt(r.maxPw), fmt(r.psnr, 4), r.verified + (r.error ? ` (${r.error.replace(/\|/g, '/')})` : ''),
  ];
}

export function markdownTable(rows: Row[]): string {
  const cells = rows.map(tableRow);
  const w = COLS.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((s, i) => s.padEnd(w[i])).join(' | ') + ' |';
  return [line(COLS), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...cells.map(line)].join('\n');
}

export function datasetTitle(d: DatasetResult, quick: boolean): string {
  const { ds } = d;
  const sub = quick ? ` (--quick: frames 0..${ds.shape[0] - 1} of ${ds.fullShape[0]})` : '';
  return `${ds.name}: shape ${JSON.stringify(ds.shape)}, ${ds.dtype}, ${ds.bytes} bytes, value range ${fmt(ds.min, 6)}..${fmt(ds.max, 6)}${sub}`;
}

export function datasetMarkdown(d: DatasetResult, quick: boolean): string {
  const parts = [`## ${datasetTitle(d, quick)}`, '', markdownTable(d.rows)];
  if (d.skipped.length) parts.push('', `skipped: ${d.skipped.join('; ')}`);
  return parts.join('\n');
}

/** The comparisons issue #2 tracks, from this run's rows (and its quoted references where nothing was measured). */
export function comparisons(d: DatasetResult, quick: boolean): string {
  const { rows, ds } = d;
  const ok = rows.filter((r) => r.verified === 'yes');
  const pick = (tool: string, comparison: string) => ok.find((r) => r.tool === tool && r.comparison === comparison);
  const lines: string[] = [];
  const tl = pick('tezip', 'lossless');
  const best = ok.filter((r) => r.kind === 'lossless' && /^(zstd -19|xz -9|aec\b)/.test(r.tool)).sort((a, b) => b.ratio! - a.ratio!)[0];
  const video = ok.filter((r) => r.kind === 'lossless' && /^(x264|x265|FFV1)/.test(r.tool)).sort((a, b) => b.ratio! - a.ratio!)[0];
  if (tl)
    lines.push(
      `- lossless: tezip ${fmt(tl.ratio)} vs best of zstd -19 / xz -9 / aec: ${best ? `${fmt(best.ratio)} (${best.tool})` : 'n/a'}` +
        (best ? ` → tezip ${tl.ratio! >= best.ratio! ? 'ahead' : 'behind'} ×${fmt(Math.max(tl.ratio! / best.ratio!, best.ratio! / tl.ratio!))}` : '') +
        (video ? `; best video codec: ${fmt(video.ratio)} (${video.tool})` : ''),
    );
  const t3 = pick('tezip', 'rel 0.001');
  if (t3) {
    const sz = pick('SZ3', 'rel 0.001');
    const zfp = pick('zfp -a', 'rel 0.001');
    lines.push(
      `- rel 1e-3: tezip ${fmt(t3.ratio)} (${fmt(t3.compMBps)} / ${fmt(t3.decompMBps)} MB/s)` +
        (sz ? `; SZ3 measured: ${fmt(sz.ratio)} (${fmt(sz.compMBps)} / ${fmt(sz.decompMBps)} MB/s)` : '') +
        (REF_SZ3_REL_1E3[ds.name] ? `; SZ3 reference from issue #2: ${REF_SZ3_REL_1E3[ds.name]}` : '') +
        (zfp ? `; zfp -a: ${fmt(zfp.ratio)}` : ''),
    );
  }
  const p2 = pick('tezip', 'pwrel 0.01');
  if (p2) {
    const fp = pick('fpzip', 'pwrel 0.01');
    lines.push(
      `- pwrel 1e-2: tezip ${fmt(p2.ratio)}` +
        (fp ? `; fpzip measured: ${fmt(fp.ratio)} (${fp.args.match(/-p \d+/)?.[0] ?? ''}, fed ${fp.fedAs})` : '') +
        (REF_FPZIP_PWREL_1E2[ds.name] ? `; fpzip reference from issue #2: ${REF_FPZIP_PWREL_1E2[ds.name]}` : ''),
    );
  }
  if (quick && lines.length) lines.push('- (--quick: a subset of the frames; the references are for the whole datasets)');
  return lines.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One page, no scripts or external files: the machine, then per dataset its figure (inline SVG) and table. */
export function htmlPage(r: BenchResult, svgs: Map<string, string>, quick: boolean): string {
  const m = r.machine;
  const sections = r.datasets.map((d) => {
    const head = `<tr>${COLS.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
    const body = d.rows
      .map((row) => {
        const cells = tableRow(row);
        const cls = row.verified === 'yes' ? '' : ' class="fail"';
        return `<tr${cls}>${cells.map((c, i) => `<td${i >= 3 && i <= 8 ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`;
      })
      .join('\n');
    const svg = svgs.get(d.ds.name);
    const cmp = comparisons(d, quick);
    return [
      `<h2>${esc(datasetTitle(d, quick))}</h2>`,
      svg ? `<figure>${svg}</figure>` : '',
      `<table>${head}\n${body}</table>`,
      d.skipped.length ? `<p class="note">skipped: ${esc(d.skipped.join('; '))}</p>` : '',
      cmp ? `<ul>${cmp.split('\n').map((l) => `<li>${esc(l.replace(/^- /, ''))}</li>`).join('')}</ul>` : '',
    ].join('\n');
  });
  const total = r.datasets.reduce((a, d) => a + d.rows.length, 0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tezip benchmark${quick ? ' (quick)' : ''}</title>
<style>
body{font-family:system-ui,"DejaVu Sans",sans-serif;margin:2em;color:#222;max-width:1400px}
table{border-collapse:collapse;font-size:13px;margin:1em 0}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.fail td{background:#fdd;color:#900;font-weight:bold}
figure{margin:0}figure svg{max-width:100%;height:auto}
.note{color:#555;font-size:13px}
</style></head><body>
<h1>tezip benchmark${quick ? ' (--quick)' : ''}</h1>
<ul>
<li>machine: ${esc(`${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; CPU flags: ${m.cpuFlags.join(' ')}; tezip's SIMD paths: ${m.tezipSimd ?? '?'}`)}</li>
<li>software: ${esc(`node ${m.node}, ${m.platform}, tezip ${m.tezip ?? '?'}`)}</li>
<li>tools: ${esc(Object.entries(m.tools).map(([k, v]) => `${k} ${v ?? '(not installed)'}`).join('; '))}</li>
</ul>
<p class="note">Whole processes timed (start-up included); every output decoded and checked by the harness: bit-exact for
lossless, |x̂−x| ≤ the same absolute tolerance for every tool in a rel/abs comparison (rel ε × value range), |x̂−x| ≤ ε|x|
for pwrel (tools that guarantee it). Plots show verified rows only; failed rows are red in the tables. Timings on a shared
machine are noisy.</p>
<p><b>${r.failed ? `${r.failed} row(s) FAILED verification` : `all ${total} rows verified`}</b></p>
${sections.join('\n')}
</body></html>
`;
}
