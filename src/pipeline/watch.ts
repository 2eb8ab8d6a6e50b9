// `tezip watch`: the detector-side loop. Frames that land in a folder are grouped into chunks, compressed into
// .tez files and sent with the verified transfer. State lives next to the sources, in DIR/.tezip-watch/:
//   journal.jsonl  chunk records: which source files (name, size, mtime) went into which .tez, sent, deleted
//   out/           compressed chunks waiting to be sent
//   transfers/     the transfer journal
// A chunk is journaled (fsync'd) before it is sent, so a restart sends it again rather than rebuilding it from
// other frames: no frame is lost or lands in two chunks. Sources are deleted only when asked, and only after the
// destination's sha256 of the chunk matched.
//
// When is a file complete? Names starting with "." or ending in .tmp/.part/.partial are never taken (write
// there, then rename into place). Any other file is taken once its size and mtime have not changed for
// `settleMs` (default 2 s), seen on two scans; `settleMs: 0` takes every visible file at once, for writers
// that always rename into place.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CompressOptions } from '../types';
import { Destination } from './destination';
import { FrameArray, FrameReader, IncompleteError, concatFrames, frameKey, readerFor } from './frames';
import { Journal } from './journal';
import { Target } from './target';
import { SendOptions, makeDestination, sendFiles } from './transfer';

export interface WatchOptions extends SendOptions {
  /** Frames per .tez file (default 16). */
  chunkFrames?: number;
  /** How long a file's size and mtime must stay unchanged before it is taken, ms (default 2000). */
  settleMs?: number;
  /** Pause between scans, ms (default 1000). */
  intervalMs?: number;
  /** A partial chunk is sent when its oldest frame has waited this long, ms (default 30000). */
  maxWaitMs?: number;
  /** One pass: take what is complete now, send everything including a partial chunk, and return. */
  once?: boolean;
  /** Return after this long without new files (and nothing pending), ms. */
  idleExitMs?: number;
  /** Return after this long in any case (finishing the chunk in hand), ms. */
  maxRuntimeMs?: number;
  deleteAfterVerify?: boolean;
  /** Name of the .tez files: PREFIX-000001.tez (default: the folder's name). */
  prefix?: string;
  compress?: CompressOptions;
  signal?: AbortSignal;
}

export interface WatchReport {
  chunks: number;
  frames: number;
  files: number;
  deleted: number;
  bytesSent: number;
  /** Chunks found journaled but unsent at start and sent in this run. */
  resumedChunks: number;
}

interface SourceRef {
  name: string;
  size: number;
  mtimeMs: number;
}

type Rec =
  | { e: 'chunk'; id: number; file: string; sources: SourceRef[]; frames: number; sha256: string; bytes: number }
  | { e: 'sent'; id: number }
  | { e: 'deleted'; id: number };

interface Chunk {
  id: number;
  file: string;
  sources: SourceRef[];
  frames: number;
  sha256: string;
  bytes: number;
  sent: boolean;
  deleted: boolean;
}

export const STATE_DIR = '.tezip-watch';
const IGNORED = /^\.|\.(tmp|part|partial)$/i;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function sha256File(file: string): string | null {
  try {
    return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}

export async function watchFolder(dir: string, target: Target, o: WatchOptions = {}): Promise<WatchReport> {
  dir = path.resolve(dir);
  const chunkFrames = o.chunkFrames ?? 16;
  const settleMs = o.settleMs ?? 2000;
  const intervalMs = o.intervalMs ?? 1000;
  const maxWaitMs = o.maxWaitMs ?? 30000;
  if (!Number.isSafeInteger(chunkFrames) || chunkFrames < 1) throw new RangeError(`expected a positive integer for chunkFrames but received ${chunkFrames}`);
  for (const [k, v] of Object.entries({ settleMs, intervalMs, maxWaitMs }))
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`expected a non-negative number for ${k} but received ${v}`);
  if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), { code: 'ENOTDIR' });
  const prefix = o.prefix ?? (path.basename(dir).replace(/[^A-Za-z0-9._-]/g, '_') || 'frames');
  if (!/^[A-Za-z0-9._-]+$/.test(prefix) || prefix.startsWith('.')) throw new TypeError(`expected a plain file-name prefix but received ${JSON.stringify(prefix)}`);

  const state = path.join(dir, STATE_DIR);
  const outDir = path.join(state, 'out');
  fs.mkdirSync(outDir, { recursive: true });
  const { journal, records } = Journal.open<Rec>(path.join(state, 'journal.jsonl'));
  const chunks = new Map<number, Chunk>();
  for (const r of records) {
    if (r.e === 'chunk') chunks.set(r.id, { ...r, sent: false, deleted: false });
    else if (r.e === 'sent' && chunks.has(r.id)) chunks.get(r.id)!.sent = true;
    else if (r.e === 'deleted' && chunks.has(r.id)) chunks.get(r.id)!.deleted = true;
  }
  let nextId = Math.max(0, ...chunks.keys()) + 1;
  // Files already in a chunk, by name, with the size and mtime they had then.
  const taken = new Map<string, SourceRef>();
  for (const c of chunks.values()) for (const s of c.sources) if (!c.deleted) taken.set(s.name, s);
  const isTaken = (name: string, st: fs.Stats) => {
    const t = taken.get(name);
    return t !== undefined && t.size === st.size && t.mtimeMs === st.mtimeMs;
  };

  // One destination for the whole run: its SSH connections stay open from chunk to chunk.
  const destination: Destination = o.destination ?? makeDestination(target, { parallel: o.parallel ?? 4, ssh: o.ssh, verify: o.verify });
  const sendOpts: SendOptions = { ...o, destination, stateDir: o.stateDir ?? path.join(state, 'transfers') };
  const report: WatchReport = { chunks: 0, frames: 0, files: 0, deleted: 0, bytesSent: 0, resumedChunks: 0 };
  const log = o.log ?? (() => {});

  const deleteSources = (c: Chunk) => {
    for (const s of c.sources) {
      const f = path.join(dir, s.name);
      try {
        const st = fs.statSync(f);
        // Only the file that went into the chunk: a new file under the same name stays.
        if (st.size === s.size && st.mtimeMs === s.mtimeMs) {
          fs.rmSync(f);
          report.deleted++;
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      taken.delete(s.name);
    }
    journal.append({ e: 'deleted', id: c.id });
    c.deleted = true;
  };

  const deliver = async (c: Chunk) => {
    const staged = path.join(outDir, c.file);
    const r = await sendFiles([staged], target, sendOpts);
    report.bytesSent += r.bytesSent;
    journal.append({ e: 'sent', id: c.id });
    c.sent = true;
    fs.rmSync(staged, { force: true });
    if (o.deleteAfterVerify) deleteSources(c);
  };

  let seenNames = new Map<string, unknown>();
  const readerOf = (name: string): FrameReader | undefined => (IGNORED.test(name) ? undefined : readerFor(path.join(dir, name)));

  /** Compresses frames into a staged .tez (written, fsync'd, renamed into place). */
  const stageChunk = async (staged: string, names: string[], arrays: FrameArray[]) => {
    const all = concatFrames(arrays);
    const lib: typeof import('../index') = require('../index');
    const bytes = await lib.compress(
      { data: all.data, shape: all.shape, dtype: all.dtype },
      { ...(o.compress ?? {}), metadata: { ...(o.compress?.metadata ?? {}), sources: names } },
    );
    const fd = fs.openSync(staged + '.tmp', 'w');
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(staged + '.tmp', staged);
    return { sha256: crypto.createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength, frames: all.shape[0] };
  };

  /** Builds, journals and sends one chunk from complete source files. */
  const makeChunk = async (items: Array<{ ref: SourceRef; arr: FrameArray; companions: SourceRef[] }>) => {
    const id = nextId++;
    const file = `${prefix}-${String(id).padStart(6, '0')}.tez`;
    const staged = path.join(outDir, file);
    const built = await stageChunk(staged, items.map((i) => i.ref.name), items.map((i) => i.arr));
    const sources = items.flatMap((i) => [i.ref, ...i.companions]);
    const c: Chunk = { id, file, sources, frames: built.frames, sha256: built.sha256, bytes: built.bytes, sent: false, deleted: false };
    journal.append({ e: 'chunk', id, file, sources, frames: c.frames, sha256: c.sha256, bytes: c.bytes });
    chunks.set(id, c);
    for (const s of sources) taken.set(s.name, s);
    for (const s of sources) seenNames.delete(s.name);
    report.chunks++;
    report.frames += c.frames;
    report.files += items.length;
    log(`${file}: ${c.frames} frame(s) from ${items.length} file(s), ${built.bytes} bytes`);
    await deliver(c);
  };

  try {
    // First finish what an earlier run left: chunks built but not sent, sent but not yet deleted.
    for (const c of [...chunks.values()].sort((a, b) => a.id - b.id)) {
      if (c.sent) {
        // Killed between the journal's "sent" and the clean-up: finish that now.
        fs.rmSync(path.join(outDir, c.file), { force: true });
        if (o.deleteAfterVerify && !c.deleted) deleteSources(c);
        continue;
      }
      const staged = path.join(outDir, c.file);
      if (sha256File(staged) !== c.sha256) {
        // Killed before the staged file was complete: rebuild it from the same sources (still there, since
        // nothing is deleted before it is sent).
        const frameFiles = c.sources.filter((s) => readerOf(s.name)).map((s) => s.name);
        const arrays: FrameArray[] = [];
        for (const n of frameFiles) arrays.push(await readerOf(n)!.read(path.join(dir, n)));
        const built = await stageChunk(staged, frameFiles, arrays);
        c.sha256 = built.sha256;
        c.bytes = built.bytes;
        journal.append({ e: 'chunk', id: c.id, file: c.file, sources: c.sources, frames: c.frames, sha256: c.sha256, bytes: c.bytes });
      }
      await deliver(c);
      report.resumedChunks++;
    }

    const t0 = Date.now();
    let lastNew = Date.now();
    const seen = new Map<string, { size: number; mtimeMs: number; since: number }>();
    seenNames = seen;
    const pendingSince = new Map<string, number>();
    const complained = new Set<string>();
    for (;;) {
      const stopping = o.signal?.aborted || (o.maxRuntimeMs !== undefined && Date.now() - t0 >= o.maxRuntimeMs);
      const now = Date.now();
      // Scan: which files are complete?
      const names = fs.readdirSync(dir).sort();
      const stable = new Set<string>();
      for (const name of names) {
        if (IGNORED.test(name)) continue;
        let st: fs.Stats;
        try {
          st = fs.statSync(path.join(dir, name));
        } catch {
          continue;
        }
        if (!st.isFile() || isTaken(name, st)) continue;
        const prev = seen.get(name);
        if (!prev || prev.size !== st.size || prev.mtimeMs !== st.mtimeMs) {
          seen.set(name, { size: st.size, mtimeMs: st.mtimeMs, since: now });
          lastNew = now;
          if (settleMs > 0 && !o.once) continue;
        }
        const s = seen.get(name)!;
        if (settleMs === 0 || now - s.since >= settleMs || (o.once && now - st.mtimeMs >= settleMs)) stable.add(name);
      }
      for (const name of [...seen.keys()]) if (!names.includes(name)) seen.delete(name);

      // Complete frame files, in name order, with their companions complete too.
      const ready: Array<{ ref: SourceRef; arr: FrameArray; companions: SourceRef[] }> = [];
      for (const name of names) {
        if (!stable.has(name)) continue;
        const reader = readerOf(name);
        if (!reader) continue;
        const file = path.join(dir, name);
        const comps = reader.companions(file).map((f) => path.basename(f));
        if (!comps.every((c) => stable.has(c))) continue;
        let arr: FrameArray;
        try {
          arr = await reader.read(file);
        } catch (e) {
          if (e instanceof IncompleteError) {
            if (!complained.has(name)) log(`${name}: waiting (${e.message})`);
            complained.add(name);
            continue;
          }
          throw e;
        }
        const stOf = (n: string): SourceRef => {
          const st = fs.statSync(path.join(dir, n));
          return { name: n, size: st.size, mtimeMs: st.mtimeMs };
        };
        ready.push({ ref: stOf(name), arr, companions: comps.map(stOf) });
        if (!pendingSince.has(name)) pendingSince.set(name, now);
      }

      // Group into chunks of up to chunkFrames frames of one shape; the last group waits unless it is old.
      let group: typeof ready = [];
      let frames = 0;
      const flush = async () => {
        if (group.length > 0) await makeChunk(group);
        for (const g of group) pendingSince.delete(g.ref.name);
        group = [];
        frames = 0;
      };
      for (const item of ready) {
        if (group.length > 0 && (frameKey(group[0].arr) !== frameKey(item.arr) || frames + item.arr.shape[0] > chunkFrames)) await flush();
        group.push(item);
        frames += item.arr.shape[0];
        if (frames >= chunkFrames) await flush();
      }
      const oldest = group.length > 0 ? Math.min(...group.map((g) => pendingSince.get(g.ref.name) ?? now)) : now;
      if (group.length > 0 && (o.once || stopping || Date.now() - oldest >= maxWaitMs)) await flush();

      if (o.once || stopping) break;
      if (o.idleExitMs !== undefined && group.length === 0 && Date.now() - lastNew >= o.idleExitMs) break;
      await sleep(intervalMs, o.signal);
    }
  } finally {
    journal.close();
    if (!o.destination) await destination.close();
  }
  return report;
}
