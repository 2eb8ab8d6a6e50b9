// A one-line progress bar on stderr: frames done, frames/s and ETA. Drawn only when stderr is a terminal
// (never into pipes, logs or test captures) and not with --quiet; redrawn at most 10 times a second.

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The bar's text for `done` of `total` frames after `seconds`, fitted to `columns`. */
export function renderProgress(label: string, done: number, total: number, seconds: number, columns = 80): string {
  const rate = seconds > 0 ? done / seconds : 0;
  const eta = rate > 0 ? (total - done) / rate : NaN;
  const pct = total > 0 ? Math.min(1, done / total) : 1;
  const right = ` ${done}/${total} frames  ${rate >= 100 ? Math.round(rate) : rate.toPrecision(3)} frames/s  ETA ${formatDuration(eta)}`;
  const room = Math.max(0, columns - 1 - label.length - right.length - 3);
  const width = Math.min(40, room);
  if (width < 5) return `${label}${right}`.slice(0, Math.max(0, columns - 1));
  const fill = Math.round(pct * width);
  return `${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}]${right}`;
}

export class Progress {
  private readonly start = process.hrtime.bigint();
  private last = -Infinity;
  private drawn = false;
  readonly enabled: boolean;

  constructor(
    private readonly label: string,
    private total: number,
    options: { quiet?: boolean; stream?: ProgressStream } = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.enabled = !options.quiet && this.stream.isTTY === true;
  }

  private readonly stream: ProgressStream;

  private seconds(): number {
    return Number(process.hrtime.bigint() - this.start) / 1e9;
  }

  update(done: number, total = this.total, label = this.label): void {
    if (!this.enabled) return;
    this.total = total;
    const t = this.seconds();
    if (done < total && t - this.last < 0.1) return;
    this.last = t;
    this.stream.write(`\r${renderProgress(label, done, total, t, this.stream.columns || 80)}\x1b[K`);
    this.drawn = true;
  }

  /** Clears the bar so the summary line starts on a clean line. */
  done(): void {
    if (this.enabled && this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
