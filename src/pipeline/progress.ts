// A one-line progress bar with throughput, redrawn at most 10 times a second, only on a terminal (a log file
// or a pipe gets no carriage-return noise).
import type { Progress } from './transfer';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${u[i]}`;
}

export class ProgressBar {
  private last = 0;
  private readonly t0 = Date.now();
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
  ) {}

  static forStderr(label: string, quiet: boolean): ProgressBar | undefined {
    return !quiet && process.stderr.isTTY ? new ProgressBar(process.stderr, label) : undefined;
  }

  update(p: Progress, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const frac = p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : 1;
    const width = 24;
    const fill = Math.round(frac * width);
    const secs = Math.max(1e-3, (now - this.t0) / 1000);
    const mbps = p.bytesSent / 1e6 / secs;
    const line = `${this.label} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)} ${mbps.toFixed(1)} MB/s files ${p.filesDone}/${p.filesTotal}`;
    const cols = this.stream.columns || 100;
    this.stream.write('\r' + line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length)) + '\x1b[K');
    this.drawn = true;
  }

  end(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
