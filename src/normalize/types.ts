import type { Schema } from '../schema/schema.js';
import type { DataType } from '../schema/types.js';
import type { NormalizeBuffers } from './buffers.js';

/*
 * The types every normalize module shares: the public options and result of
 * `normalizeFiles`, and the internal ones the engines and the parallel merge pass around.
 * Nothing here imports an engine, so the engines, the parallel driver and the worker
 * protocol all import from here and never from each other in a circle.
 */

export interface NormalizeInput {
  /** Normalized root table name; the table (with its hints) is expected in the schema. */
  table: string;
  /** Absolute path of a JSONL file of raw items, one per line. */
  path: string;
}

export interface NormalizeOptions {
  /** Evolved in place (new tables, columns, variants); the caller bumps the version. */
  schema: Schema;
  /** Written into root rows' `_dlt_load_id`. */
  loadId: string;
  inputs: NormalizeInput[];
  /** Existing folder; job files are written here. */
  outDir: string;
  /** Makes job file names (`<table>.<fileId>.0.jsonl`) unique within the package. */
  nextFileId: () => string;
  /** Rotate job files at this size. Default 64 MiB. */
  maxFileBytes?: number;
  /** Called after each chunk of input (a few MiB), not per row; `bytes`: of the current input (slice) read so far. */
  onProgress?: (p: { table: string; rows: number; bytes?: number }) => void;
  /** Checked between chunks; when aborted, throws `signal.reason` (and stops the workers). */
  signal?: AbortSignal;
  /**
   * Threads to spread the inputs over, the calling thread included (it takes the first
   * share; `workers - 1` worker threads take the rest). Default:
   * `min(os.availableParallelism(), inputs.length)`. `1` normalizes in the calling thread
   * alone; so does any call with a single input file or less than 16 MiB of input in
   * total. See README.md, "Parallel".
   */
  workers?: number;
  /**
   * The destination's `capabilities.maxIdentifierLength`: longer column and child table
   * names are shortened as dlt shortens them (see schema/shorten.ts). Default: no limit.
   */
  maxIdentifierLength?: number;
}

export interface NormalizeResult {
  /** Rows written per table (root and child tables). */
  rowCounts: Record<string, number>;
  /** Job files written, relative to outDir. */
  files: Array<{ table: string; file: string }>;
  /**
   * An upper bound of the longest row written, in bytes, so a reader with a line limit (DuckDB's
   * read_json) can size its buffer: twice the longest input line plus 64 KiB (a row is made
   * from one input line; re-encoding and system columns never double it).
   */
  largestRowBytes: number;
}

/**
 * @internal Knobs for tests and benchmarks, kept out of the public NormalizeOptions; passed
 * to `normalizeFilesWithTestKnobs` (normalize-files.ts).
 */
export interface NormalizeTestKnobs {
  /** Total input below which the call stays in-thread (default 16 MiB). */
  minParallelBytes?: number;
  /** Worker threads exit (code 3) after their second chunk. */
  crashWorkersForTest?: boolean;
  /** Filled with how the call ran. */
  stats?: { workers: number; reruns: number };
  /** false sends every line through the object path. */
  fastPath?: boolean;
  /** Replaces crypto.randomBytes for root row ids (keeps the call in one thread). */
  randomBytes?: (n: number) => Buffer;
  /** Bytes of the first share normalized before the workers start (default 256 KiB; 0: none). */
  seedBytes?: number;
}

/** @internal A byte range of an input file (a worker's share); lines are numbered from the file's start. */
export interface InputSlice extends NormalizeInput {
  /** First byte: 0 or just after a '\n'. Default 0. */
  start?: number;
  /** End (exclusive): just after a '\n' or the file size. Default the file size. */
  end?: number;
}

/** @internal How a column created in one call began (what the parallel merge needs). */
export interface CreatedColumn {
  /** Its type when created. */
  type: DataType;
  /**
   * While it was bigint, some value took a bigint-only path (a string or an unsafe integer
   * coerced, or a variant made, a fraction included): a double column would have written
   * that row differently.
   */
  strict: boolean;
}

/** @internal How the single-threaded engine runs (besides NormalizeOptions). */
export interface InThreadOptions {
  /** false sends every line through the object path (tests). */
  fastPath?: boolean;
  /** Replaces crypto.randomBytes for root row ids (tests). */
  randomBytes?: (n: number) => Buffer;
  /** Buffers to take from and keep for the thread's next call. */
  buffers?: NormalizeBuffers;
}

/** @internal */
export interface InThreadResult extends NormalizeResult {
  /** Columns this run created, by table. */
  created: Record<string, Record<string, CreatedColumn>>;
}
