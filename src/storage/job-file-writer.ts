import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { jobName } from './job-name.js';
import { OverlappedFile } from './overlapped-file.js';

export interface JobFileWriterOptions {
  /** Folder the files go to. */
  dir: string;
  /** Table name: the first part of each file name. */
  table: string;
  /** Start a new file once the current one holds this many bytes. */
  maxFileBytes: number;
  /**
   * The first file ends at this size, each next one at twice the size of the one before, up
   * to maxFileBytes: a consumer of rotated files (onFileDone) can start sooner.
   */
  firstFileBytes?: number;
  /** Makes a file id unique within the package. */
  nextFileId: () => string;
  format?: string;
  /**
   * Writes run on libuv's pool while the caller goes on (OverlappedFile): files are complete
   * only once `settled()` resolves, and a buffer passed to writeRows must not be reused.
   */
  overlapped?: boolean;
  /**
   * Called with a file's name and path once it is complete on disk, for files ended by
   * rotation (`maxFileBytes` or `rotate()`), not for the last one `close()` ends: a consumer
   * may read them while the writer goes on.
   */
  onFileDone?: (name: string, path: string) => void;
}

/**
 * Writes ready-made JSONL bytes into `<table>.<fileId>.0.<format>` files, rotating by size
 * at row boundaries. Normalize feeds it bytes directly (decoding its rows to strings only
 * to encode them again cost a fifth of its time); RotatingJsonlWriter feeds it lines.
 */
export class JobFileWriter {
  readonly files: string[] = [];
  private fd = -1;
  private overlappedFile: OverlappedFile | undefined;
  /** Overlapped files closed or closing: each settles once its bytes are on disk. */
  private closing: Promise<void>[] = [];
  /** The last rotated file's announcement (onFileDone): the next one runs after it. */
  private announced: Promise<void> = Promise.resolve();
  private fileBytes = 0;

  constructor(private readonly opts: JobFileWriterOptions) {}

  /**
   * Appends bytes [0, len) of `buf`: whole rows, each ending in '\n'. Starts a new file
   * wherever the current one would grow beyond maxFileBytes, always between rows (a single
   * row larger than that gets a file of its own). `written` is called once the files are done
   * with `buf` (overlapped writes land later): the caller may reuse it from then on.
   */
  writeRows(buf: Buffer, len: number, written?: () => void): void {
    // one part per overlapped write, plus this call's own until the loop is over
    let parts = 1;
    const partDone = written && (() => --parts === 0 && written());
    let off = 0;
    while (off < len) {
      if (!this.isOpen) this.open();
      const limit = this.fileLimit();
      const room = limit - this.fileBytes;
      let cut = len;
      if (len - off > room) {
        // the last row end that fits; if none fits, the end of the first row
        cut = room > 0 ? buf.lastIndexOf(10, off + room - 1) + 1 : 0;
        if (cut <= off) {
          if (this.fileBytes > 0) {
            this.closeFile(false, true);
            continue;
          }
          cut = buf.indexOf(10, off) + 1;
          if (cut <= 0 || cut > len) cut = len;
        }
      }
      if (this.overlappedFile && partDone) parts++;
      this.writeAll(buf, off, cut, partDone);
      this.fileBytes += cut - off;
      off = cut;
      if (this.fileBytes >= limit || off < len) this.closeFile(false, true);
    }
    partDone?.();
  }

  /** The size at which the current file ends. */
  private fileLimit(): number {
    const { maxFileBytes, firstFileBytes } = this.opts;
    if (firstFileBytes === undefined || firstFileBytes >= maxFileBytes) return maxFileBytes;
    return Math.min(maxFileBytes, firstFileBytes * 2 ** Math.min(30, Math.max(0, this.files.length - 1)));
  }

  private get isOpen(): boolean {
    return this.fd >= 0 || this.overlappedFile !== undefined;
  }

  private writeAll(buf: Buffer, from: number, to: number, written?: () => void): void {
    if (this.overlappedFile) return this.overlappedFile.write(buf, from, to, written);
    let p = from;
    while (p < to) p += writeSync(this.fd, buf, p, to - p);
  }

  /** Makes sure a (possibly empty) file exists. */
  touch(): void {
    if (!this.isOpen && this.files.length === 0) this.open();
  }

  /**
   * Closes the current file and flushes it to disk, so every file in `files` is complete
   * (a checkpoint may name them); the next row starts a new file.
   */
  rotate(): void {
    if (this.fd >= 0) fsyncSync(this.fd);
    this.closeFile(true, true);
  }

  /** Overlapped: resolves once every file closed so far is on disk (rejects with a write's error). */
  async settled(): Promise<void> {
    await Promise.all(this.closing);
  }

  /** Closes the current file; returns the file names written (relative to dir). */
  close(): string[] {
    this.closeFile();
    return this.files;
  }

  private open(): void {
    const name = jobName(this.opts.table, this.opts.nextFileId(), 0, this.opts.format ?? 'jsonl');
    const path = join(this.opts.dir, name);
    if (this.opts.overlapped) this.overlappedFile = new OverlappedFile(path);
    else this.fd = openSync(path, 'w');
    this.fileBytes = 0;
    this.files.push(name);
  }

  /** `rotated`: the writer goes on, so the file is announced (onFileDone) once on disk. */
  private closeFile(fsync = false, rotated = false): void {
    const name = this.isOpen ? this.files[this.files.length - 1] : undefined;
    let done: Promise<void> | undefined;
    if (this.overlappedFile) {
      done = this.overlappedFile.close(fsync);
      this.closing.push(done);
      this.overlappedFile = undefined;
    }
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
    const notify = this.opts.onFileDone;
    if (notify && rotated && name !== undefined) {
      const path = join(this.opts.dir, name);
      this.announced = announceInOrder(this.announced, done ?? Promise.resolve(), () => notify(name, path));
    }
  }
}

/**
 * Runs `announce` once `written` resolved and the announcement before it (`previous`) ran.
 * A later file's close can land before an earlier one's, and a consumer that works file by
 * file in announcement order (the pre-normalizer carries a schema from one to the next) must
 * see them in the order they were written. A failed write is reported by settled(), and such
 * a file is never announced; the ones after it still are. Never rejects.
 */
export function announceInOrder(previous: Promise<void>, written: Promise<void>, announce: () => void): Promise<void> {
  return previous.then(() => written).then(
    () => {
      try {
        announce();
      } catch {
        // a consumer's failure must not become an unhandled rejection of the writer
      }
    },
    () => undefined,
  );
}
