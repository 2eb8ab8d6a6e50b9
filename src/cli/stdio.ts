// `-` as a file name: stdin for inputs, stdout for outputs.
import { UsageError } from './args.js';

export async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) throw new UsageError('reading from stdin (-) but stdin is a terminal; pipe the data in');
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Writes to stdout, waiting for the pipe to drain so large outputs keep memory flat. */
export function writeStdout(b: Uint8Array): Promise<void> | void {
  if (process.stdout.write(b)) return;
  return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}

/** Where human-readable summaries go: stderr when stdout carries the data. */
export function summaryStream(dataOnStdout: boolean): NodeJS.WriteStream {
  return dataOnStdout ? process.stderr : process.stdout;
}
