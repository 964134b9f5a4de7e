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

export function* readByteChunks(path: string, chunkBytes = 4 << 20): Generator<ByteChunk> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let buf = Buffer.allocUnsafe(Math.max(1024, Math.min(chunkBytes, size + 1)));
    let filled = 0; // bytes in buf carried over from the previous read (a partial line)
    let pos = 0;
    while (pos < size) {
      if (filled === buf.length) {
        // a line longer than the buffer: grow
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const n = readSync(fd, buf, filled, buf.length - filled, pos);
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
  } finally {
    closeSync(fd);
  }
}
