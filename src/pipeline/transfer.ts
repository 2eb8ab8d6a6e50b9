// Verified, resumable, parallel file transfer (the engine behind `tezip send` and `tezip watch`).
//
// Each file is cut into parts; parts go out over N streams, written at their offsets into `.NAME.tezip-part` at
// the destination. Every written part is recorded in a journal (fsync'd) before it counts. When all parts are
// there, the destination hashes the whole file; only a sha256 equal to the source's lets the temporary file be
// renamed to NAME. A rerun after a crash checks the parts the journal lists (range hashes at the destination)
// and sends only those that are missing or do not match, so nothing verified travels twice.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Destination, LocalDestination } from './destination';
import { tezipHome } from './home';
import { Journal } from './journal';
import { HostKeyError } from './known-hosts';
import { SftpDestination, VerifyMode } from './sftp-destination';
import { SshOptions, SshSetupError } from './ssh';
import { Target, destName } from './target';

export interface SendOptions {
  /** Parallel streams (default 4). */
  parallel?: number;
  /** Bytes per part (default 8 MiB). */
  partSize?: number;
  /** Retries of a failed step before the file fails (default 5). */
  retries?: number;
  /** First retry delay in ms, doubled each time up to 30 s (default 500). */
  retryBaseMs?: number;
  /** Folder of the journals (default $TEZIP_HOME/transfers). */
  stateDir?: string;
  /** Overall bandwidth cap in bytes per second (default: none). */
  limitRate?: number;
  /** Hash files the journal says are complete again, and repair them if they differ. */
  reverify?: boolean;
  verify?: VerifyMode;
  ssh?: SshOptions;
  onProgress?: (p: Progress) => void;
  /** An open destination to use (and leave open), e.g. across the chunks of a watch; default: one per call. */
  destination?: Destination;
  /** One line per notable event (retries, repairs); never secrets. */
  log?: (line: string) => void;
}

export interface Progress {
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
  /** Bytes sent in this run (not counting parts verified from an earlier run). */
  bytesSent: number;
}

export interface FileReport {
  source: string;
  dest: string;
  bytes: number;
  sha256: string;
  /** sent: transferred in this run; skipped: already complete and verified; repaired: re-sent parts of a damaged copy. */
  status: 'sent' | 'skipped' | 'repaired';
  partsSent: number;
  partsReused: number;
}

export interface SendReport {
  target: string;
  journal: string;
  verifyMethod: string;
  files: FileReport[];
  bytesSent: number;
  partsSent: number;
  /** Parts written by an earlier (interrupted) run whose range hash matched: not sent again. */
  partsReused: number;
  /** Parts found damaged at the destination and sent again. */
  partsRepaired: number;
  retries: number;
  /** SSH connections opened (more than --parallel means some were reopened). */
  connections: number;
  seconds: number;
}

type Rec =
  | { e: 'file'; src: string; size: number; mtimeMs: number; partSize: number; sha256: string; parts: string[]; dest: string; run: string }
  | { e: 'part'; src: string; i: number; run: string }
  | { e: 'bad'; src: string; i: number; run: string }
  | { e: 'done'; src: string; sha256: string; run: string }
  | { e: 'reset'; src: string; run: string };

interface FileState {
  file?: Extract<Rec, { e: 'file' }>;
  sent: Set<number>;
  done?: string;
}

export class TransferError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'TransferError';
    this.code = code;
  }
}

export function tempName(name: string): string {
  return `.${name}.tezip-part`;
}

export function journalPath(stateDir: string, target: Target): string {
  const key = crypto.createHash('sha256').update(target.label).digest('hex').slice(0, 16);
  return path.join(stateDir, `send-${key}.jsonl`);
}

export function makeDestination(target: Target, o: { parallel: number; ssh?: SshOptions; verify?: VerifyMode }): Destination {
  if (target.kind === 'local') return new LocalDestination(target.dir);
  return new SftpDestination(target, o.ssh ?? {}, o.parallel, o.verify ?? 'auto');
}

/** Errors that no retry can fix. */
function isFatal(e: unknown): boolean {
  if (e instanceof HostKeyError || e instanceof SshSetupError || e instanceof TransferError || e instanceof TypeError) return true;
  const code = (e as { code?: unknown }).code;
  return code === 3 /* SFTP permission denied */ || code === 'EACCES' || code === 'EROFS' || code === 'ENOSPC' || code === 'ENOTDIR';
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A token bucket shared by all streams. */
class RateLimit {
  private next = 0;
  constructor(private readonly bytesPerSecond: number) {}
  async take(n: number): Promise<void> {
    if (!(this.bytesPerSecond > 0)) return;
    const now = Date.now();
    const start = Math.max(now, this.next);
    this.next = start + (n / this.bytesPerSecond) * 1000;
    if (start > now) await sleep(start - now);
  }
}

class SlotPool {
  private free: number[];
  private waiters: Array<(slot: number) => void> = [];
  constructor(n: number) {
    this.free = Array.from({ length: n }, (_, i) => i);
  }
  acquire(): Promise<number> {
    const s = this.free.shift();
    if (s !== undefined) return Promise.resolve(s);
    return new Promise((r) => this.waiters.push(r));
  }
  release(slot: number): void {
    const w = this.waiters.shift();
    if (w) w(slot);
    else this.free.push(slot);
  }
}

/** sha256 of every part and of the whole file, in one pass. */
async function hashSource(file: string, size: number, partSize: number): Promise<{ sha256: string; parts: string[] }> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const whole = crypto.createHash('sha256');
    const parts: string[] = [];
    const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, partSize)));
    for (let off = 0; off < size; off += partSize) {
      const len = Math.min(partSize, size - off);
      const h = crypto.createHash('sha256');
      for (let done = 0; done < len; ) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, len - done), off + done);
        if (bytesRead === 0) throw new TransferError('SOURCE_CHANGED', `${file} became shorter while it was read`);
        h.update(buf.subarray(0, bytesRead));
        whole.update(buf.subarray(0, bytesRead));
        done += bytesRead;
      }
      parts.push(h.digest('hex'));
    }
    return { sha256: whole.digest('hex'), parts };
  } finally {
    await fh.close();
  }
}

export async function sendFiles(sources: readonly string[], target: Target, o: SendOptions = {}): Promise<SendReport> {
  const parallel = o.parallel ?? 4;
  const partSize = o.partSize ?? 8 * 1024 * 1024;
  const retries = o.retries ?? 5;
  const retryBase = o.retryBaseMs ?? 500;
  if (!Number.isSafeInteger(parallel) || parallel < 1 || parallel > 64) throw new RangeError(`expected 1..64 parallel streams but received ${parallel}`);
  if (!Number.isSafeInteger(partSize) || partSize < 4096 || partSize > 1 << 30)
    throw new RangeError(`expected a part size between 4 KiB and 1 GiB but received ${partSize}`);
  if (!Number.isSafeInteger(retries) || retries < 0 || retries > 100) throw new RangeError(`expected 0..100 retries but received ${retries}`);

  const files = sources.map((s) => path.resolve(s));
  const names = new Map<string, string>();
  for (const f of files) {
    const n = destName(f);
    const prev = names.get(n);
    if (prev !== undefined && prev !== f) throw new TypeError(`${prev} and ${f} would both be sent as ${n}`);
    names.set(n, f);
  }
  const unique = [...new Set(files)];
  const stats = new Map<string, fs.Stats>();
  for (const f of unique) {
    let st: fs.Stats;
    try {
      st = fs.statSync(f);
    } catch (e) {
      throw Object.assign(new Error(`cannot read ${f}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`), {
        code: (e as NodeJS.ErrnoException).code ?? 'EIO',
      });
    }
    if (!st.isFile()) throw Object.assign(new Error(`${f} is not a regular file`), { code: 'EISDIR' });
    stats.set(f, st);
  }

  const stateDir = o.stateDir ?? path.join(tezipHome(), 'transfers');
  const jfile = journalPath(stateDir, target);
  const { journal, records } = Journal.open<Rec>(jfile);
  const state = new Map<string, FileState>();
  const st = (src: string) => {
    let s = state.get(src);
    if (!s) state.set(src, (s = { sent: new Set() }));
    return s;
  };
  for (const r of records) {
    if (typeof r.src !== 'string') continue;
    const s = st(r.src);
    if (r.e === 'file') Object.assign(s, { file: r, sent: new Set<number>(), done: undefined });
    else if (r.e === 'part' && Number.isSafeInteger(r.i)) s.sent.add(r.i);
    else if (r.e === 'bad') s.sent.delete(r.i);
    else if (r.e === 'done') s.done = r.sha256;
    else if (r.e === 'reset') state.delete(r.src);
  }

  const run = crypto.randomBytes(6).toString('hex');
  const dest = o.destination ?? makeDestination(target, { parallel, ssh: o.ssh, verify: o.verify });
  const pool = new SlotPool(parallel);
  const limit = new RateLimit(o.limitRate ?? 0);
  const log = o.log ?? (() => {});
  const t0 = Date.now();
  const report: SendReport = {
    target: target.label,
    journal: jfile,
    verifyMethod: '',
    files: [],
    bytesSent: 0,
    partsSent: 0,
    partsReused: 0,
    partsRepaired: 0,
    retries: 0,
    connections: 0,
    seconds: 0,
  };
  const progress: Progress = { bytesDone: 0, bytesTotal: 0, filesDone: 0, filesTotal: unique.length, bytesSent: 0 };
  for (const f of unique) progress.bytesTotal += stats.get(f)!.size;
  const tick = () => o.onProgress?.({ ...progress });

  /** Runs fn on a stream, retrying with exponential backoff; a failed stream is reconnected. */
  const onStream = async <T>(what: string, fn: (slot: number) => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      const slot = await pool.acquire();
      try {
        return await fn(slot);
      } catch (e) {
        if (isFatal(e) || attempt >= retries) throw e;
        if (dest instanceof SftpDestination) dest.reset(slot);
        const delay = Math.min(30000, retryBase * 2 ** attempt) * (0.5 + Math.random() / 2);
        report.retries++;
        log(`${what}: ${(e as Error).message}; retry ${attempt + 1}/${retries} in ${(delay / 1000).toFixed(1)} s`);
        await sleep(delay);
      } finally {
        pool.release(slot);
      }
    }
  };

  const sendPart = async (src: string, fh: fs.promises.FileHandle, tmp: string, i: number, size: number, partSize: number) => {
    const off = i * partSize;
    const len = Math.min(partSize, size - off);
    // The part is read once a stream is free, so at most `parallel` parts sit in memory.
    await onStream(`${path.basename(src)} part ${i}`, async (slot) => {
      const buf = Buffer.allocUnsafe(len);
      for (let got = 0; got < len; ) {
        const { bytesRead } = await fh.read(buf, got, len - got, off + got);
        if (bytesRead === 0) throw new TransferError('SOURCE_CHANGED', `${src} became shorter during the transfer`);
        got += bytesRead;
      }
      await limit.take(len);
      await dest.writeAt(slot, tmp, off, buf);
    });
    journal.append({ e: 'part', src, i, run });
    st(src).sent.add(i);
    report.bytesSent += len;
    report.partsSent++;
    progress.bytesSent += len;
    progress.bytesDone += len;
    tick();
  };

  const processFile = async (src: string): Promise<FileReport> => {
    const name = destName(src);
    const tmp = tempName(name);
    const fst = stats.get(src)!;
    let s = st(src);
    if (s.file && (s.file.size !== fst.size || s.file.mtimeMs !== fst.mtimeMs || s.file.dest !== name || !(s.file.partSize >= 4096))) {
      // The source changed: what was sent before is not this file.
      journal.append({ e: 'reset', src, run });
      state.delete(src);
      s = st(src);
      await onStream(`${name} clean-up`, (slot) => dest.remove(tmp, slot));
    }
    if (!s.file) {
      const h = await hashSource(src, fst.size, partSize);
      const rec: Rec = { e: 'file', src, size: fst.size, mtimeMs: fst.mtimeMs, partSize, sha256: h.sha256, parts: h.parts, dest: name, run };
      journal.append(rec);
      s.file = rec;
    }
    const info = s.file;
    // A resumed file keeps the part layout it was started with, whatever --part-size says now.
    const ps = info.partSize;
    const nParts = info.parts.length;
    if (nParts !== Math.ceil(info.size / ps)) throw new TransferError('JOURNAL_CORRUPT', `${jfile}: the record of ${src} is inconsistent; delete the journal to start over`);
    const ranges = info.parts.map((_, i) => [i * ps, Math.min(ps, info.size - i * ps)] as const);
    /** A source rewritten while it is sent: its parts no longer fit the hashes taken first. */
    const checkSource = () => {
      const now = fs.statSync(src);
      if (now.size !== info.size || now.mtimeMs !== info.mtimeMs)
        throw new TransferError('SOURCE_CHANGED', `${src} changed while it was sent; run the command again to send the new content`);
    };
    const fr: FileReport = { source: src, dest: name, bytes: info.size, sha256: info.sha256, status: 'sent', partsSent: 0, partsReused: 0 };
    const sentBefore = report.partsSent;

    if (s.done === info.sha256) {
      const size = await onStream(`${name} stat`, (slot) => dest.size(name, slot));
      let ok = size === info.size;
      if (ok && o.reverify) ok = (await onStream(`${name} sha256`, (slot) => dest.hashFile(name, slot))) === info.sha256;
      if (ok) {
        fr.status = 'skipped';
        progress.bytesDone += info.size;
        return fr;
      }
      log(`${name}: the copy at the destination differs from the source; repairing`);
      fr.status = 'repaired';
      s.done = undefined;
      if (size === info.size) {
        // Same size: move it back under the temporary name and re-send only the parts whose hash differs.
        await onStream(`${name} rename`, (slot) => dest.rename(name, tmp, slot));
        for (let i = 0; i < nParts; i++) s.sent.add(i);
      } else {
        s.sent.clear();
      }
    }

    // The temporary file: a missing one means nothing there counts; a longer one is not ours.
    const tsize = await onStream(`${name} stat`, (slot) => dest.size(tmp, slot));
    if (tsize === null || tsize > info.size) {
      if (tsize !== null) await onStream(`${name} clean-up`, (slot) => dest.remove(tmp, slot));
      s.sent.clear();
      await onStream(`${name} create`, (slot) => dest.create(tmp, slot));
    }

    // Parts written before: check them where they are, keep those that match.
    const toCheck = [...s.sent].filter((i) => i < nParts).sort((a, b) => a - b);
    if (toCheck.length > 0) {
      const got = await onStream(`${name} range hashes`, (slot) => dest.hashRanges(tmp, toCheck.map((i) => ranges[i]), slot));
      toCheck.forEach((i, k) => {
        if (got[k] === info.parts[i]) {
          fr.partsReused++;
          report.partsReused++;
          progress.bytesDone += ranges[i][1];
        } else {
          journal.append({ e: 'bad', src, i, run });
          s.sent.delete(i);
          report.partsRepaired++;
          log(`${name}: part ${i} at the destination does not match; sending it again`);
        }
      });
      tick();
    }

    const fh = await fs.promises.open(src, 'r');
    try {
      for (let round = 0; ; round++) {
        const missing = Array.from({ length: nParts }, (_, i) => i).filter((i) => !s.sent.has(i));
        await Promise.all(missing.map((i) => sendPart(src, fh, tmp, i, info.size, ps)));
        await onStream(`${name} flush`, () => dest.finish(tmp));
        const whole = await onStream(`${name} sha256`, (slot) => dest.hashFile(tmp, slot));
        if (whole === info.sha256) break;
        checkSource();
        if (round >= retries)
          throw new TransferError('VERIFY_FAILED', `${name}: the destination's sha256 still differs from the source after ${round + 1} attempts`);
        // Find the damaged parts and send them again.
        const got = await onStream(`${name} range hashes`, (slot) => dest.hashRanges(tmp, ranges, slot));
        let bad = 0;
        for (let i = 0; i < nParts; i++) {
          if (got[i] !== info.parts[i]) {
            journal.append({ e: 'bad', src, i, run });
            s.sent.delete(i);
            bad++;
            progress.bytesDone -= ranges[i][1];
          }
        }
        report.partsRepaired += bad;
        log(`${name}: sha256 at the destination differs; ${bad} damaged part(s) sent again`);
        if (bad === 0) {
          // Every part matches but the whole does not: extra bytes at the end. Start the file over.
          await onStream(`${name} clean-up`, (slot) => dest.remove(tmp, slot));
          await onStream(`${name} create`, (slot) => dest.create(tmp, slot));
          s.sent.clear();
          progress.bytesDone -= info.size;
        }
      }
    } finally {
      await fh.close();
    }
    checkSource();
    await onStream(`${name} rename`, async (slot) => {
      try {
        await dest.rename(tmp, name, slot);
      } catch (e) {
        // The rename may have happened and only its answer been lost with the connection: check before failing.
        if ((await dest.size(tmp, slot)) === null && (await dest.size(name, slot)) === info.size && (await dest.hashFile(name, slot)) === info.sha256) return;
        throw e;
      }
    });
    journal.append({ e: 'done', src, sha256: info.sha256, run });
    s.done = info.sha256;
    fr.partsSent = report.partsSent - sentBefore;
    if (fr.status !== 'repaired' && fr.partsReused > 0 && fr.partsSent === 0) fr.status = 'sent';
    return fr;
  };

  try {
    await onStream('connect', async () => dest.ensureDir());
    // Files run side by side (so that many small files still use every stream); parts share the stream pool.
    const queue = [...unique];
    const results = new Map<string, FileReport>();
    const workers = Array.from({ length: Math.min(parallel, queue.length) }, async () => {
      for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
        results.set(f, await processFile(f));
        progress.filesDone++;
        tick();
      }
    });
    await Promise.all(workers);
    report.files = unique.map((f) => results.get(f)!);
  } finally {
    report.verifyMethod = dest.verifyMethod;
    report.connections = dest.connections ?? 0;
    journal.close();
    if (!o.destination) await dest.close();
    report.seconds = (Date.now() - t0) / 1000;
  }
  return report;
}
