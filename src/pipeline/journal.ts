// Append-only JSON-lines journal. Each record is written with one write() and fsync'd before the caller goes on,
// so after a crash or SIGKILL the file holds every record that was acknowledged; a torn last line (killed in the
// middle of a write) is ignored when reading back.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Largest journal we read back; a bigger one is not ours or is corrupt. */
const MAX_JOURNAL_BYTES = 256 * 1024 * 1024;

export class Journal<R extends object> {
  private fd: number;
  private torn: boolean;
  readonly file: string;

  private constructor(file: string, fd: number, torn: boolean) {
    this.file = file;
    this.fd = fd;
    this.torn = torn;
  }

  /** Opens (creating folders as needed) and returns the journal with the records already in it. */
  static open<R extends object>(file: string): { journal: Journal<R>; records: R[] } {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const records = Journal.read<R>(file);
    const fd = fs.openSync(file, 'a+');
    // A torn line from an earlier crash must not swallow the next record: start that one on a fresh line.
    const size = fs.fstatSync(fd).size;
    let torn = false;
    if (size > 0) {
      const b = Buffer.alloc(1);
      fs.readSync(fd, b, 0, 1, size - 1);
      torn = b[0] !== 0x0a;
    }
    return { journal: new Journal<R>(file, fd, torn), records };
  }

  static read<R extends object>(file: string): R[] {
    let text: string;
    try {
      const st = fs.statSync(file);
      if (st.size > MAX_JOURNAL_BYTES) throw new Error(`journal ${file} is larger than ${MAX_JOURNAL_BYTES} bytes; refusing to read it`);
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: R[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const r = JSON.parse(line);
        if (r !== null && typeof r === 'object' && !Array.isArray(r)) out.push(r as R);
      } catch {
        // A record cut short by a crash: it was never acknowledged, so nothing depended on it.
      }
    }
    return out;
  }

  append(record: R): void {
    fs.writeSync(this.fd, (this.torn ? '\n' : '') + JSON.stringify(record) + '\n');
    this.torn = false;
    fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
