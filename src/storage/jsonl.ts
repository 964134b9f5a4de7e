import { closeSync, openSync, writeSync, readSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptPackageFileError } from '../errors.js';

export interface RotatingWriterOptions {
  /** Folder the files go to. */
  dir: string;
  /** Table (or resource) name: the first part of each file name. */
  table: string;
  /** Start a new file once the current one holds this many bytes. */
  maxFileBytes: number;
  /** Bytes buffered in memory before a write to disk. */
  bufferBytes?: number;
  /** Makes a file id unique within the package (e.g. a per-writer counter). */
  nextFileId: () => string;
  format?: string;
}

/**
 * Writes newline-delimited JSON lines into `<table>.<fileId>.0.<format>` files, rotating by
 * size so memory stays bounded and later steps can work file by file.
 */
export class RotatingJsonlWriter {
  readonly files: string[] = [];
  rows = 0;
  private fd = -1;
  private fileBytes = 0;
  private buf: string[] = [];
  private bufChars = 0;
  private readonly bufferBytes: number;

  constructor(private readonly opts: RotatingWriterOptions) {
    this.bufferBytes = opts.bufferBytes ?? 1 << 20;
  }

  /** Appends one line (without the newline). */
  write(line: string): void {
    this.buf.push(line);
    this.bufChars += line.length + 1;
    this.rows++;
    if (this.bufChars >= this.bufferBytes) this.flush();
  }

  /** Makes sure a (possibly empty) file exists, e.g. for a replace with no rows. */
  touch(): void {
    if (this.fd < 0 && this.files.length === 0) this.open();
  }

  flush(): void {
    if (this.buf.length === 0) return;
    if (this.fd < 0) this.open();
    const data = this.buf.join('\n') + '\n';
    this.buf = [];
    this.bufChars = 0;
    const bytes = Buffer.from(data, 'utf8');
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    this.fileBytes += bytes.length;
    if (this.fileBytes >= this.opts.maxFileBytes) this.closeFile();
  }

  /** Flushes and closes; returns the file names written (relative to dir). */
  close(): string[] {
    this.flush();
    this.closeFile();
    return this.files;
  }

  private open(): void {
    const name = `${this.opts.table}.${this.opts.nextFileId()}.0.${this.opts.format ?? 'jsonl'}`;
    this.fd = openSync(join(this.opts.dir, name), 'w');
    this.fileBytes = 0;
    this.files.push(name);
  }

  private closeFile(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
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

/** Parses one JSONL line; a broken line is a CorruptPackageFileError naming file and line. */
export function parseLine(line: string, file: string, lineNo: number): unknown {
  try {
    return JSON.parse(line);
  } catch (e) {
    throw new CorruptPackageFileError(file, `line ${lineNo} is not valid JSON (${(e as Error).message})`);
  }
}
