import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { CorruptPackageFileError } from '../errors.js';
import { JobFileWriter, type JobFileWriterOptions } from './job-file-writer.js';

export interface RotatingWriterOptions extends JobFileWriterOptions {
  /** Bytes buffered in memory before a write to disk. */
  bufferBytes?: number;
}

/** Room past the flush threshold, so a typical line never needs a flush of its own. */
const LINE_ROOM = 64 << 10;

/**
 * Written buffers kept for reuse. A new buffer per flush made ~350 MB of garbage per 1M bench
 * rows, which only V8's major GC frees: reuse makes extract 0.3 s faster and its peak 30 MB
 * lower (docs/performance.md, section 21).
 */
const SPARE_BUFFERS = 8;

/**
 * Writes newline-delimited JSON lines into `<table>.<fileId>.0.<format>` files, rotating by
 * size so memory stays bounded and later steps can work file by file. Lines are buffered
 * and handed to the byte-level JobFileWriter, which owns file naming and rotation. Its
 * writes overlap with the caller (extract serializes the next items meanwhile): `rotate()`
 * and `close()` cut the file at once and resolve when the files are on disk.
 */
export class RotatingJsonlWriter {
  rows = 0;
  private readonly out: JobFileWriter;
  /** Lines are encoded straight into this buffer (no join, no second copy). */
  private buf: Buffer;
  private used = 0;
  private readonly bufferBytes: number;
  private readonly spare: Buffer[] = [];

  constructor(opts: RotatingWriterOptions) {
    this.out = new JobFileWriter({ ...opts, overlapped: true });
    // never more than a file's worth: small files then rotate as the rows come, not at close
    this.bufferBytes = opts.bufferBytes ?? Math.max(1, Math.min(1 << 20, opts.maxFileBytes));
    this.buf = Buffer.allocUnsafeSlow(this.bufferBytes + LINE_ROOM);
  }

  get files(): string[] {
    return this.out.files;
  }

  /** Appends one line (without the newline). */
  write(line: string): void {
    // a UTF-16 unit is at most 3 bytes of UTF-8
    if (this.used + line.length * 3 + 1 > this.buf.length) {
      this.flush();
      if (line.length * 3 + 1 > this.buf.length) {
        const bytes = Buffer.from(line + '\n', 'utf8');
        this.out.writeRows(bytes, bytes.length);
        this.rows++;
        return;
      }
    }
    this.used += this.buf.write(line, this.used, 'utf8');
    this.buf[this.used++] = 10;
    this.rows++;
    if (this.used >= this.bufferBytes) this.flush();
  }

  /**
   * Appends `lines` ready-made lines: `bytes` is UTF-8, each line ending in '\n' (extract's
   * raw path for data that is JSON already). Small chunks are copied into the buffer; a big
   * one is handed to the file as it is, so the caller must never change it afterwards.
   * Files still rotate between lines.
   */
  writeLines(bytes: Buffer, lines: number): void {
    if (bytes.length === 0) return;
    if (this.used + bytes.length <= this.buf.length) {
      this.used += bytes.copy(this.buf, this.used);
      if (this.used >= this.bufferBytes) this.flush();
    } else {
      this.flush();
      if (bytes.length < this.bufferBytes) this.used = bytes.copy(this.buf, 0);
      else this.out.writeRows(bytes, bytes.length);
    }
    this.rows += lines;
  }

  /** Makes sure a (possibly empty) file exists, e.g. for a replace with no rows. */
  touch(): void {
    this.out.touch();
  }

  private flush(): void {
    if (this.used === 0) return;
    const written = this.buf;
    this.out.writeRows(written, this.used, () => {
      if (this.spare.length < SPARE_BUFFERS) this.spare.push(written);
    });
    // the written one is in flight until its write lands
    this.buf = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.bufferBytes + LINE_ROOM);
    this.used = 0;
  }

  /**
   * Ends the current file now (the next line starts a new one) and resolves with the files
   * so far once they are fsynced and closed: a checkpoint may name them.
   */
  async rotate(): Promise<string[]> {
    this.flush();
    this.out.rotate();
    const files = [...this.out.files];
    await this.out.settled();
    return files;
  }

  /** Flushes and closes; resolves with the file names written (relative to dir) once on disk. */
  async close(): Promise<string[]> {
    this.flush();
    const files = this.out.close();
    await this.out.settled();
    return files;
  }
}

/**
 * Reads a JSONL file in chunks and yields batches of lines (no parsing). Memory is bounded
 * by the chunk size plus one line.
 */
export function* readLineBatches(path: string, chunkBytes = 4 << 20): Generator<string[]> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.allocUnsafe(chunkBytes);
    let rest = '';
    let pos = 0;
    while (pos < size) {
      const n = readSync(fd, chunk, 0, chunkBytes, pos);
      if (n <= 0) break;
      pos += n;
      // Cut at the last newline so multi-byte characters are never split.
      let end = n;
      if (pos < size) {
        end = chunk.lastIndexOf(10, n - 1) + 1;
        if (end === 0) {
          rest += chunk.toString('utf8', 0, n);
          continue;
        }
        pos -= n - end;
      }
      const text = rest + chunk.toString('utf8', 0, end);
      rest = '';
      const lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      yield lines;
    }
    if (rest) yield [rest];
  } finally {
    closeSync(fd);
  }
}

/** Parses one JSONL line; a broken line is a CorruptPackageFileError naming file, line and (given) table. */
export function parseLine(line: string, file: string, lineNo: number, table?: string): unknown {
  try {
    return JSON.parse(line);
  } catch (e) {
    const of = table === undefined ? '' : ` (an item of table "${table}")`;
    throw new CorruptPackageFileError(file, `line ${lineNo}${of} is not valid JSON (${(e as Error).message})`);
  }
}
