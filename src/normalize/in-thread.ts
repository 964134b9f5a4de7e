import { CorruptPackageFileError } from '../errors.js';
import { parseLine } from '../storage/jsonl.js';
import { RandomIdPool } from './ids.js';
import { needsExactParse, parseExact } from '../common/big-ints.js';
import { ByteChunkReader, countLines } from './reader.js';
import { Plans } from './plan.js';
import { ObjectPath } from './object-path.js';
import { BytePath } from './byte-path.js';
import { contentRowIdOfLine } from './content-id.js';
import { NL, TableFiles } from './table-output.js';
import type { InThreadOptions, InThreadResult, InputSlice, NormalizeOptions } from './types.js';

/*
 * The single-threaded engine: reads the inputs in byte chunks and hands every line to the
 * byte path first; a line it gives up on is parsed and goes through the object path (see
 * README.md, "How it is fast"). Both write into the same per-table buffers, which go to job
 * files between chunks. What `normalizeFiles` runs in-thread, what each worker runs on its
 * share, and what re-runs a worker's share after a conflict.
 */

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** @internal */
export async function normalizeInThread(opts: NormalizeOptions & { inputs: InputSlice[] }, internal: InThreadOptions = {}): Promise<InThreadResult> {
  const kept = internal.buffers;
  const plans = new Plans(opts.schema, opts.maxIdentifierLength, kept && (() => kept.take()));
  const ids = new RandomIdPool(internal.randomBytes);
  const objects = new ObjectPath(plans, ids, {
    loadId: opts.loadId,
    detectIsoTimestamps: opts.schema.settings.detectIsoTimestamps !== false,
    maxIdentifierLength: opts.maxIdentifierLength,
  });
  const bytes = new BytePath(ids, opts.loadId, internal.fastPath !== false);
  const files = new TableFiles(opts.outDir, opts.nextFileId, opts.maxFileBytes);
  const tables = () => plans.tables.values();
  const { signal, onProgress } = opts;
  const reader = new ByteChunkReader(undefined, kept?.readBuffer);
  let longestLine = 0;
  try {
    for (const input of opts.inputs) {
      signal?.throwIfAborted();
      const ts = plans.rootTable(input.table);
      const sh = plans.shapeOf(ts, plans.maxNestingOf(ts));
      const start = input.start ?? 0;
      let lineNo = 0;
      let read = 0;
      for (const { buf, end } of reader.read(input.path, start, input.end)) {
        read += end;
        let s = 0;
        while (s < end) {
          let e = buf.indexOf(NL, s);
          if (e < 0 || e > end) e = end;
          lineNo++;
          let le = e;
          if (le > s && buf[le - 1] === 13) le--;
          if (le - s > longestLine) longestLine = le - s;
          if (le > s) {
            // an scd2 root's row id is its item's hash (content-id.ts), on either path
            const text = ts.contentIds ? buf.toString('utf8', s, le) : undefined;
            const rowId = text === undefined ? undefined : contentRowIdOfLine(text);
            if (!bytes.line(ts, sh, buf, s, le, rowId)) {
              const line = text ?? buf.toString('utf8', s, le);
              if (line.trim() !== '') objects.item(ts, sh, parseSliceLine(line, input.path, start, lineNo, input.table), bytes.takeRootId() ?? rowId);
            }
          }
          s = e + 1;
        }
        files.flush(tables(), false);
        onProgress?.({ table: ts.name, rows: ts.rows, bytes: read });
        await yieldToEventLoop();
        signal?.throwIfAborted();
      }
      files.touchEmpty(ts);
    }
  } catch (e) {
    files.abandon(tables());
    throw e;
  } finally {
    if (kept) kept.readBuffer = reader.buffer;
  }
  files.flush(tables(), true);
  const created = objects.createdColumns(tables());
  const result = { ...files.close(tables()), created, largestRowBytes: longestLine > 0 ? 2 * longestLine + 65536 : 0 };
  // the writers are done with the row buffers (their writes are synchronous)
  kept?.keep(tables());
  return result;
}

/** parseLine for a line of a slice: errors name the line number within the whole file. */
function parseSliceLine(line: string, path: string, start: number, lineNo: number, table: string): unknown {
  if (needsExactParse(line)) {
    try {
      return parseExact(line);
    } catch {
      // not valid JSON: parseLine below names the line
    }
  }
  if (start === 0) return parseLine(line, path, lineNo, table);
  try {
    return parseLine(line, path, lineNo, table);
  } catch (e) {
    if (e instanceof CorruptPackageFileError) return parseLine(line, path, countLines(path, start) + lineNo, table);
    throw e;
  }
}
