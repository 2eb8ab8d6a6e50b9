// Where a streaming encoder's bytes go: a file, a Node Writable, or a function (the Transform streams).
// Every write resolves when the bytes have been handed over (written to the file descriptor, accepted by the
// Writable below its high-water mark), which is what bounds the encoder's memory.
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';

export interface Sink {
  write(bytes: Uint8Array): Promise<void>;
  /** After the last write: closes the file, or ends the Writable when asked to. */
  end(): Promise<void>;
  /** Best-effort release after an error; what was written stays written. */
  abort(): Promise<void>;
}

/** Writes to a file, replacing it. Each write reaches the OS before it resolves, so a killed process keeps it. */
export class FileSink implements Sink {
  private handle: Promise<fs.promises.FileHandle>;
  private closed = false;

  constructor(readonly path: string, private readonly fsync: boolean) {
    this.handle = fs.promises.open(path, 'w');
    this.handle.catch(() => {}); // reported by the first write
  }

  async write(bytes: Uint8Array): Promise<void> {
    const fh = await this.handle;
    let done = 0;
    while (done < bytes.length) {
      // Regular files rarely take less than asked, but nothing promises they don't.
      const { bytesWritten } = await fh.write(bytes, done, bytes.length - done);
      done += bytesWritten;
    }
    if (this.fsync) await fh.datasync();
  }

  async end(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const fh = await this.handle;
    if (this.fsync) await fh.sync();
    await fh.close();
  }

  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await (await this.handle).close();
    } catch {
      // the open itself failed, or the handle is already gone
    }
  }
}

/** Writes to a Node Writable, waiting for 'drain' whenever it says it is full. */
export class WritableSink implements Sink {
  constructor(private readonly w: Writable, private readonly endIt: boolean) {}

  write(bytes: Uint8Array): Promise<void> {
    const w = this.w;
    if (w.destroyed || w.writableEnded) return Promise.reject(new Error('The output stream is closed'));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (err?: Error | null) => {
        if (settled) return;
        settled = true;
        w.off('drain', onDrain);
        w.off('error', onError);
        w.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onError = (e: Error) => done(e);
      const onClose = () => done(new Error('The output stream closed before the encoder finished'));
      w.on('error', onError);
      w.on('close', onClose);
      if (w.write(bytes)) done();
      else w.on('drain', onDrain);
    });
  }

  end(): Promise<void> {
    const w = this.w;
    if (!this.endIt) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      w.once('error', reject);
      w.end(() => {
        w.off('error', reject);
        resolve();
      });
    });
  }

  async abort(): Promise<void> {
    // The caller owns the Writable: leave it open so it can decide what to do.
  }
}

/** Hands bytes to a function that returns a promise (the compress Transform's push with backpressure). */
export class FunctionSink implements Sink {
  constructor(private readonly fn: (bytes: Uint8Array) => Promise<void>) {}

  write(bytes: Uint8Array): Promise<void> {
    return this.fn(bytes);
  }

  async end(): Promise<void> {}

  async abort(): Promise<void> {}
}
