import { close, fsync, openSync, write } from 'node:fs';

/**
 * A file written with positional writes that run on libuv's thread pool while the caller
 * goes on producing bytes: the kernel's copy into the page cache (a third of extract's time
 * when it was a writeSync) overlaps with serializing the next items. Each buffer handed to
 * `write` belongs to the file until `done` settles. `done` resolves once every write landed
 * and the file is closed (fsynced first when asked); the first failure rejects it.
 */
export class OverlappedFile {
  readonly done: Promise<void>;
  private readonly fd: number;
  private position = 0;
  private inFlight = 0;
  private closing: { fsync: boolean } | undefined;
  private failure: Error | undefined;
  private finished = false;
  private settle!: (error?: Error) => void;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (e) => (e ? reject(e) : resolve());
    });
    // a failure is reported by whoever awaits `done` (or by the next write); never unhandled
    this.done.catch(() => undefined);
  }

  /** Bytes written so far (queued included). */
  get size(): number {
    return this.position;
  }

  /**
   * Queues bytes [from, to) of `buf` at the end of the file; throws an earlier write's error.
   * `written` is called once the file is done with those bytes (landed or failed).
   */
  write(buf: Buffer, from: number, to: number, written?: () => void): void {
    if (this.failure) throw this.failure;
    this.writeAt(buf, from, to, this.position, written);
    this.position += to - from;
  }

  /** No more writes: closes the file once the queued ones landed. */
  close(fsyncFirst: boolean): Promise<void> {
    this.closing ??= { fsync: fsyncFirst };
    this.finishIfIdle();
    return this.done;
  }

  private writeAt(buf: Buffer, from: number, to: number, at: number, written: (() => void) | undefined): void {
    this.inFlight++;
    write(this.fd, buf, from, to - from, at, (err, n) => {
      this.inFlight--;
      if (err) this.failure ??= err;
      // a short write: the rest goes where it belongs
      if (!err && n < to - from) this.writeAt(buf, from + n, to, at + n, written);
      else written?.();
      this.finishIfIdle();
    });
  }

  private finishIfIdle(): void {
    if (this.inFlight > 0 || this.closing === undefined || this.finished) return;
    this.finished = true;
    const closeFd = (err: Error | null) => {
      const failure = this.failure ?? err ?? undefined;
      close(this.fd, (closeErr) => this.settle(failure ?? closeErr ?? undefined));
    };
    if (this.closing.fsync && !this.failure) fsync(this.fd, closeFd);
    else closeFd(null);
  }
}
