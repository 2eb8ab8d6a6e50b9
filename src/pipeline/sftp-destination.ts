// A folder on an SFTP server. Each parallel stream is its own SSH connection (its own TCP window, which is what
// fills a long fat network), opened on first use and reopened after a failure. Files are hashed at the server
// with `sha256sum` (and `dd` for ranges) over an exec channel when the server allows one; otherwise the bytes
// are read back over SFTP and hashed here, which costs a second transfer but trusts nothing on the server.
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import type { Client, SFTPWrapper } from 'ssh2';
import type { Destination } from './destination';
import { SshOptions, connect, execCapture, openSftp, shellQuote } from './ssh';

export type VerifyMode = 'auto' | 'exec' | 'readback';

interface Slot {
  client?: Client;
  sftp?: SFTPWrapper;
  opening?: Promise<SFTPWrapper>;
  handles: Map<string, Buffer>;
}

const OPEN_WRITE = 0x02;
const OPEN_CREAT = 0x08;
const OPEN_READ = 0x01;
/** Bytes per SFTP write/read request and requests kept in flight per stream. */
const PIECE = 64 * 1024;
const IN_FLIGHT = 16;

const hex64 = /^[0-9a-f]{64}\b/;

export class SftpDestination implements Destination {
  readonly label: string;
  private slots: Slot[];
  private execOk: boolean | undefined;
  connections = 0;

  constructor(
    private readonly ep: { user: string; host: string; port: number; dir: string; label: string },
    private readonly ssh: SshOptions,
    streams: number,
    private readonly verify: VerifyMode = 'auto',
  ) {
    this.label = ep.label;
    this.slots = Array.from({ length: Math.max(1, streams) }, () => ({ handles: new Map() }));
    if (verify === 'readback') this.execOk = false;
  }

  get verifyMethod(): string {
    if (this.execOk === true) return 'sha256sum on the server (exec channel)';
    if (this.execOk === false) return 'read back over SFTP and hashed locally';
    return 'none in this run: the journal holds earlier verifications';
  }

  private p(name: string): string {
    return path.posix.join(this.ep.dir, name);
  }

  /** The SFTP session of a slot, connecting when needed. */
  private sftp(slotIndex: number): Promise<SFTPWrapper> {
    const slot = this.slots[slotIndex % this.slots.length];
    if (slot.sftp) return Promise.resolve(slot.sftp);
    slot.opening ??= (async () => {
      try {
        const client = await connect(this.ep, this.ssh);
        this.connections++;
        const drop = () => this.drop(slot, client);
        client.on('close', drop);
        client.on('error', drop);
        const sftp = await openSftp(client);
        slot.client = client;
        slot.sftp = sftp;
        return sftp;
      } finally {
        slot.opening = undefined;
      }
    })();
    return slot.opening;
  }

  private drop(slot: Slot, client: Client): void {
    if (slot.client !== client) return;
    slot.client = undefined;
    slot.sftp = undefined;
    slot.handles.clear();
  }

  /** Forgets a slot's connection after an error, so the next try reconnects. */
  reset(slotIndex: number): void {
    const slot = this.slots[slotIndex % this.slots.length];
    const c = slot.client;
    if (c) {
      this.drop(slot, c);
      c.end();
    }
  }

  private call<T>(fn: (cb: (err: Error | null | undefined, v?: T) => void) => void): Promise<T> {
    return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));
  }

  async ensureDir(): Promise<void> {
    const s = await this.sftp(0);
    // mkdir -p, one level at a time; "already exists" is fine, anything else shows at the stat below.
    const parts = this.ep.dir.split('/').filter((x) => x !== '' && x !== '.');
    let cur = this.ep.dir.startsWith('/') ? '/' : '';
    for (const part of parts) {
      cur = cur === '' ? part : path.posix.join(cur, part);
      await this.call<void>((cb) => s.mkdir(cur, cb as never)).catch(() => undefined);
    }
    const st = await this.call<{ isDirectory(): boolean }>((cb) => s.stat(this.ep.dir || '.', cb as never)).catch((e: Error) => {
      throw Object.assign(new Error(`cannot create or open ${this.label}: ${e.message}`), { code: 'EREMOTE' });
    });
    if (!st.isDirectory()) throw Object.assign(new Error(`${this.label} is not a folder`), { code: 'ENOTDIR' });
  }

  async size(name: string, slot = 0): Promise<number | null> {
    const s = await this.sftp(slot);
    try {
      const st = await this.call<{ size: number }>((cb) => s.stat(this.p(name), cb as never));
      return st.size;
    } catch (e) {
      if ((e as { code?: number }).code === 2) return null; // SSH_FX_NO_SUCH_FILE
      throw e;
    }
  }

  async create(name: string, slot = 0): Promise<void> {
    const s = await this.sftp(slot);
    const h = await this.call<Buffer>((cb) => s.open(this.p(name), OPEN_WRITE | OPEN_CREAT, 0o644, cb as never));
    await this.call<void>((cb) => s.close(h, cb as never));
  }

  private async handle(slotIndex: number, name: string): Promise<{ s: SFTPWrapper; h: Buffer }> {
    const s = await this.sftp(slotIndex);
    const slot = this.slots[slotIndex % this.slots.length];
    let h = slot.handles.get(name);
    if (!h) {
      h = await this.call<Buffer>((cb) => s.open(this.p(name), OPEN_WRITE, cb as never));
      slot.handles.set(name, h);
    }
    return { s, h };
  }

  async writeAt(slotIndex: number, name: string, offset: number, data: Uint8Array): Promise<void> {
    const { s, h } = await this.handle(slotIndex, name);
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    // Several requests in flight: one at a time would wait a round trip per 64 KiB.
    let next = 0;
    const worker = async () => {
      while (next < buf.length) {
        const at = next;
        const n = Math.min(PIECE, buf.length - at);
        next += n;
        await this.call<void>((cb) => s.write(h, buf, at, n, offset + at, cb as never));
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, Math.ceil(buf.length / PIECE)) }, worker));
  }

  async finish(name: string): Promise<void> {
    for (const slot of this.slots) {
      const h = slot.handles.get(name);
      if (!h || !slot.sftp) continue;
      slot.handles.delete(name);
      const s = slot.sftp;
      // fsync@openssh.com when offered, so that what we hash next is what survives a server crash.
      await this.call<void>((cb) => s.ext_openssh_fsync(h, cb as never)).catch(() => undefined);
      await this.call<void>((cb) => s.close(h, cb as never)).catch(() => undefined);
    }
  }

  /** The SSH connection of a slot, (re)connecting when needed. */
  private async client(slotIndex: number): Promise<Client> {
    const slot = this.slots[slotIndex % this.slots.length];
    for (let i = 0; i < 2; i++) {
      await this.sftp(slotIndex);
      if (slot.client) return slot.client;
    }
    throw Object.assign(new Error(`${this.label}: connection lost`), { code: 'ECONNRESET' });
  }

  private async canExec(slotIndex = 0): Promise<boolean> {
    if (this.execOk !== undefined) return this.execOk;
    const client = await this.client(slotIndex);
    // The probe checks the exact features the range hashes use (GNU dd's byte-based skip/count).
    const probe = `printf abcdef | dd iflag=skip_bytes,count_bytes skip=1 count=3 bs=2 status=none 2>/dev/null | sha256sum`;
    const want = crypto.createHash('sha256').update('bcd').digest('hex');
    try {
      const r = await execCapture(client, probe);
      this.execOk = r.code === 0 && r.stdout.slice(0, 64) === want;
    } catch {
      this.execOk = false;
    }
    if (!this.execOk && this.verify === 'exec')
      throw Object.assign(new Error(`${this.label}: the server runs no sha256sum/dd over exec (--verify exec); use --verify readback`), { code: 'EREMOTE' });
    return this.execOk;
  }

  async hashFile(name: string, slot = 0): Promise<string> {
    if (await this.canExec(slot)) {
      const r = await execCapture(await this.client(slot), `sha256sum -b -- ${shellQuote(this.p(name))}`);
      const m = hex64.exec(r.stdout);
      if (r.code !== 0 || !m) throw Object.assign(new Error(`${this.label}: sha256sum of ${name} failed on the server`), { code: 'EREMOTE' });
      return m[0];
    }
    const size = await this.size(name, slot);
    return (await this.readBackHashes(name, [[0, size ?? 0]], slot))[0];
  }

  async hashRanges(name: string, ranges: ReadonlyArray<readonly [number, number]>, slot = 0): Promise<string[]> {
    if (ranges.length === 0) return [];
    if (!(await this.canExec(slot))) return this.readBackHashes(name, ranges, slot);
    const out: string[] = [];
    const file = shellQuote(this.p(name));
    for (let i = 0; i < ranges.length; i += 64) {
      const batch = ranges.slice(i, i + 64);
      const cmd = batch
        .map(([o, n]) => `dd if=${file} iflag=skip_bytes,count_bytes skip=${o} count=${n} bs=1M status=none 2>/dev/null | sha256sum`)
        .join('; ');
      const r = await execCapture(await this.client(slot), cmd);
      const lines = r.stdout.split('\n').filter((l) => l !== '');
      if (lines.length !== batch.length || !lines.every((l) => hex64.test(l)))
        throw Object.assign(new Error(`${this.label}: range hashes of ${name} failed on the server`), { code: 'EREMOTE' });
      out.push(...lines.map((l) => l.slice(0, 64)));
    }
    return out;
  }

  private async readBackHashes(name: string, ranges: ReadonlyArray<readonly [number, number]>, slot = 0): Promise<string[]> {
    const s = await this.sftp(slot);
    const h = await this.call<Buffer>((cb) => s.open(this.p(name), OPEN_READ, cb as never));
    try {
      const out: string[] = [];
      for (const [o, n] of ranges) {
        const hash = crypto.createHash('sha256');
        // Pieces are requested IN_FLIGHT at a time and hashed in order.
        for (let at = 0; at < n; at += PIECE * IN_FLIGHT) {
          const reqs: Promise<Buffer>[] = [];
          for (let k = at; k < Math.min(n, at + PIECE * IN_FLIGHT); k += PIECE) {
            const len = Math.min(PIECE, n - k);
            const buf = Buffer.allocUnsafe(len);
            reqs.push(this.readFull(s, h, buf, o + k));
          }
          for (const b of await Promise.all(reqs)) hash.update(b);
        }
        out.push(hash.digest('hex'));
      }
      return out;
    } finally {
      await this.call<void>((cb) => s.close(h, cb as never)).catch(() => undefined);
    }
  }

  /** Fills buf from position, or less at the end of the file (a server may answer a read with fewer bytes). */
  private async readFull(s: SFTPWrapper, h: Buffer, buf: Buffer, position: number): Promise<Buffer> {
    let got = 0;
    while (got < buf.length) {
      const n = await new Promise<number>((resolve, reject) =>
        s.read(h, buf, got, buf.length - got, position + got, (err: (Error & { code?: number }) | undefined, k: number) =>
          err ? (err.code === 1 ? resolve(0) : reject(err)) : resolve(k),
        ),
      );
      if (n === 0) break; // end of file
      got += n;
    }
    return buf.subarray(0, got);
  }

  async rename(from: string, to: string, slot = 0): Promise<void> {
    const s = await this.sftp(slot);
    // posix-rename@openssh.com replaces the target atomically; plain SFTP rename refuses an existing target.
    await this.call<void>((cb) => s.ext_openssh_rename(this.p(from), this.p(to), cb as never)).catch(async (e: Error) => {
      if (!/not supported|unsupported/i.test(e.message)) throw e;
      await this.call<void>((cb) => s.rename(this.p(from), this.p(to), cb as never));
    });
  }

  async remove(name: string, slot = 0): Promise<void> {
    const s = await this.sftp(slot);
    await this.call<void>((cb) => s.unlink(this.p(name), cb as never)).catch((e: { code?: number }) => {
      if (e.code !== 2) throw e;
    });
  }

  async close(): Promise<void> {
    for (const slot of this.slots) {
      const c = slot.client;
      if (c) {
        this.drop(slot, c);
        c.end();
      }
    }
  }
}
