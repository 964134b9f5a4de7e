/*
 * Row buffers and the read buffer kept from one normalize call to the next by a thread that
 * makes many (the pre-normalize thread: one call per extract file). A call's buffers would
 * otherwise wait for V8's major GC: ~12 MB per file, up to 60 MB at extract's peak
 * (docs/performance.md, section 20).
 */

/** Initial size of a table's row buffer; it doubles as needed. */
export const INITIAL_BUFFER_BYTES = 64 * 1024;

const MAX_SPARE_BUFFERS = 4;

export class NormalizeBuffers {
  private readonly spare: Buffer[] = [];
  readBuffer: Buffer | undefined;

  /** A row buffer for a table: the largest one kept, or a new one. */
  take(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
  }

  /** Keeps the tables' row buffers (the largest MAX_SPARE_BUFFERS) for the next call. */
  keep(tables: Iterable<{ buf: Buffer }>): void {
    for (const ts of tables) this.spare.push(ts.buf);
    this.spare.sort((a, b) => a.length - b.length);
    this.spare.splice(0, Math.max(0, this.spare.length - MAX_SPARE_BUFFERS));
  }
}
