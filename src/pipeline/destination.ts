// What the transfer engine needs from a place it writes to. Names are plain file names inside the target
// folder (never paths), so nothing is written outside it. `slot` picks one of the parallel streams.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Destination {
  /** The target as shown to the user (no secrets). */
  readonly label: string;
  /** How files are hashed at the destination, for the report. */
  readonly verifyMethod: string;
  /** Connections opened so far (reconnections after a drop count again); 0 for a local folder. */
  readonly connections?: number;
  /** Makes sure the target folder exists. */
  ensureDir(): Promise<void>;
  /** Size of a file in the target folder, or null when it does not exist. */
  size(name: string, slot?: number): Promise<number | null>;
  /** Creates `name` if it does not exist (existing content is kept, for resuming). */
  create(name: string, slot?: number): Promise<void>;
  /** Writes `data` at `offset` of `name` through stream `slot`. */
  writeAt(slot: number, name: string, offset: number, data: Uint8Array): Promise<void>;
  /** Flushes and closes whatever stream `slot`s hold open on `name` (before it is hashed and renamed). */
  finish(name: string): Promise<void>;
  /** Hex sha256 of the whole file, computed at the destination (through stream `slot`). */
  hashFile(name: string, slot?: number): Promise<string>;
  /** Hex sha256 of each [offset, length) range of the file, computed at the destination. */
  hashRanges(name: string, ranges: ReadonlyArray<readonly [number, number]>, slot?: number): Promise<string[]>;
  /** Renames atomically, replacing `to` if it exists. */
  rename(from: string, to: string, slot?: number): Promise<void>;
  remove(name: string, slot?: number): Promise<void>;
  close(): Promise<void>;
}

export function sha256Hex(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** sha256 of [offset, offset+length) of an open file, read in 1 MiB pieces. */
export function hashFdRange(fd: number, offset: number, length: number): string {
  const h = crypto.createHash('sha256');
  const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, length)));
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, 0, Math.min(buf.length, length - done), offset + done);
    if (n === 0) break; // short file: the hash then differs from the expected one, which is the point
    h.update(buf.subarray(0, n));
    done += n;
  }
  return h.digest('hex');
}

/** A folder on this machine (or a mounted file system). */
export class LocalDestination implements Destination {
  readonly label: string;
  readonly verifyMethod = 'sha256 of the written file (local)';
  private fds = new Map<string, number>();

  constructor(private readonly dir: string) {
    this.label = dir;
  }

  private p(name: string): string {
    return path.join(this.dir, name);
  }

  async ensureDir(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
  }

  async size(name: string): Promise<number | null> {
    try {
      return fs.statSync(this.p(name)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async create(name: string): Promise<void> {
    fs.closeSync(fs.openSync(this.p(name), fs.constants.O_CREAT | fs.constants.O_WRONLY, 0o644));
  }

  private fd(name: string): number {
    let fd = this.fds.get(name);
    if (fd === undefined) {
      fd = fs.openSync(this.p(name), fs.constants.O_WRONLY);
      this.fds.set(name, fd);
    }
    return fd;
  }

  async writeAt(_slot: number, name: string, offset: number, data: Uint8Array): Promise<void> {
    const fd = this.fd(name);
    let done = 0;
    while (done < data.byteLength) done += fs.writeSync(fd, data, done, data.byteLength - done, offset + done);
  }

  async finish(name: string): Promise<void> {
    const fd = this.fds.get(name);
    if (fd !== undefined) {
      this.fds.delete(name);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    }
  }

  async hashFile(name: string): Promise<string> {
    const fd = fs.openSync(this.p(name), 'r');
    try {
      return hashFdRange(fd, 0, fs.fstatSync(fd).size);
    } finally {
      fs.closeSync(fd);
    }
  }

  async hashRanges(name: string, ranges: ReadonlyArray<readonly [number, number]>): Promise<string[]> {
    const fd = fs.openSync(this.p(name), 'r');
    try {
      return ranges.map(([o, n]) => hashFdRange(fd, o, n));
    } finally {
      fs.closeSync(fd);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    fs.renameSync(this.p(from), this.p(to));
  }

  async remove(name: string): Promise<void> {
    fs.rmSync(this.p(name), { force: true });
  }

  async close(): Promise<void> {
    for (const name of [...this.fds.keys()]) await this.finish(name);
  }
}
