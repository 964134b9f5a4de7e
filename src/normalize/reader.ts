import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Reads a JSONL file as bytes, chunk by chunk, and hands out the chunks cut at the last
 * newline. Like `readLineBatches` (storage/jsonl.ts) but without decoding to strings, so
 * normalize can copy values straight from input bytes to output bytes. Memory is bounded by
 * the chunk size plus the longest line.
 */
export interface ByteChunk {
  buf: Buffer;
  /** Bytes [0, end) hold whole lines, each ending in '\n' (the last one may lack it at EOF). */
  end: number;
}

/**
 * `start`/`end` limit the read to a byte range of the file (a worker's slice); `start` must
 * be the first byte of a line (0, or just after a '\n'), `end` the end of one (or EOF).
 */
export function readByteChunks(path: string, chunkBytes = 4 << 20, start = 0, end?: number): Generator<ByteChunk> {
  return new ByteChunkReader(chunkBytes).read(path, start, end);
}

/**
 * readByteChunks with one buffer for many files: a fresh 4 MiB buffer per file is garbage
 * V8 is in no hurry to collect (its heap stays small), so memory would grow with the number
 * of inputs.
 */
export class ByteChunkReader {
  constructor(
    private readonly chunkBytes = 4 << 20,
    /** A buffer kept from an earlier reader (NormalizeBuffers.readBuffer). */
    private buf: Buffer | undefined = undefined,
  ) {}

  /** The buffer this reader reads into now, to keep for a later one. */
  get buffer(): Buffer | undefined {
    return this.buf;
  }

  /** Chunks of one file (or of its range [start, end)); the buffer is reused by the next call. */
  *read(path: string, start = 0, end?: number): Generator<ByteChunk> {
    const fd = openSync(path, 'r');
    try {
      const size = end ?? fstatSync(fd).size;
      let buf = this.buf;
      if (buf === undefined || (buf.length < this.chunkBytes && buf.length < size - start + 1)) {
        buf = Buffer.allocUnsafe(Math.max(1024, Math.min(this.chunkBytes, size - start + 1)));
      }
      yield* this.chunks(fd, buf, start, size);
    } finally {
      closeSync(fd);
    }
  }

  private *chunks(fd: number, buf: Buffer, start: number, size: number): Generator<ByteChunk> {
    this.buf = buf;
    let filled = 0; // bytes in buf carried over from the previous read (a partial line)
    let pos = start;
    while (pos < size) {
      if (filled === buf.length) {
        // a line longer than the buffer: grow
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        this.buf = buf = bigger;
      }
      const n = readSync(fd, buf, filled, Math.min(buf.length - filled, size - pos), pos);
      if (n <= 0) break;
      pos += n;
      const total = filled + n;
      if (pos >= size) {
        yield { buf, end: total };
        filled = 0;
        break;
      }
      const cut = buf.lastIndexOf(10, total - 1) + 1;
      if (cut === 0) {
        filled = total;
        continue;
      }
      yield { buf, end: cut };
      // keep the partial line for the next round
      buf.copy(buf, 0, cut, total);
      filled = total - cut;
    }
    if (filled > 0) yield { buf, end: filled };
  }
}

/**
 * The first line start at or after byte `pos` of the file: `pos` itself when it is 0 or
 * follows a '\n', else the byte after the next '\n' (the file size when there is none).
 */
export function lineStartAtOrAfter(path: string, pos: number): number {
  if (pos <= 0) return 0;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(64 * 1024);
    let at = pos - 1;
    while (at < size) {
      const n = readSync(fd, buf, 0, buf.length, at);
      if (n <= 0) break;
      const i = buf.indexOf(10);
      if (i >= 0 && i < n) return at + i + 1;
      at += n;
    }
    return size;
  } finally {
    closeSync(fd);
  }
}

/** Number of '\n' in the first `pos` bytes of the file (line numbers of a slice that starts there). */
export function countLines(path: string, pos: number): number {
  let lines = 0;
  for (const { buf, end } of readByteChunks(path, 4 << 20, 0, pos)) {
    let i = buf.indexOf(10);
    while (i >= 0 && i < end) {
      lines++;
      i = buf.indexOf(10, i + 1);
    }
  }
  return lines;
}
