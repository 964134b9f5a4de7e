import type { Schema } from '../schema/schema.js';
import type { ColumnSchema, DataType, TableSchema } from '../schema/types.js';
import {
  C_DLT_ID,
  C_DLT_LIST_IDX,
  C_DLT_LOAD_ID,
  C_DLT_PARENT_ID,
  C_DLT_ROOT_ID,
  PATH_SEPARATOR,
  VARIANT_INFIX,
} from '../schema/system.js';
import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import { CorruptPackageFileError, IdentifierCollisionError, InvalidIdentifierError, SchemaConflictError } from '../errors.js';
import { parseLine } from '../storage/jsonl.js';
import { JobFileWriter } from '../storage/job-file-writer.js';
import { normalizeColumnName, shortenPath } from '../schema/naming.js';
import { ROW_ID_LENGTH, RandomIdPool, childRowIdInto, childRowIdSeeded, tableSeed, type TableSeed } from './ids.js';
import { NO_FIT, coerceTo, inferType, isBinaryTag, parseTimestamp } from './values.js';
import { ByteChunkReader, countLines } from './reader.js';
import { canStartWorkers, normalizeParallel } from './parallel.js';

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
  /** Called after each chunk of input (a few MiB), not per row. */
  onProgress?: (p: { table: string; rows: number }) => void;
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
  /** @internal Tests only: total input below which the call stays in-thread (default 16 MiB). */
  minParallelBytes?: number;
  /** @internal Tests only: worker threads exit (code 3) after their second chunk. */
  crashWorkersForTest?: boolean;
  /** @internal Tests and benchmarks: filled with how the call ran. */
  stats?: { workers: number; reruns: number };
  /** @internal Tests only: false sends every line through the object path. */
  fastPath?: boolean;
  /** @internal Tests only: replaces crypto.randomBytes for root row ids. */
  randomBytes?: (n: number) => Buffer;
}

export interface NormalizeResult {
  /** Rows written per table (root and child tables). */
  rowCounts: Record<string, number>;
  /** Job files written, relative to outDir. */
  files: Array<{ table: string; file: string }>;
  /**
   * An upper bound of the longest row written, in bytes (a reader with a line limit, such
   * as DuckDB's read_json, sizes its buffer from it). Exact for the object path; the fast
   * path copies a row from its input line, so twice the line plus 64 KiB bounds it.
   */
  largestRowBytes: number;
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
  /** Its type when created (it may have widened bigint -> double since). */
  type: DataType;
  /**
   * While it was bigint, some value took a bigint-only path (a string or an unsafe integer
   * coerced, or a variant made): a double column would have written that row differently.
   */
  strict: boolean;
}

/** @internal */
export interface InThreadOptions {
  /**
   * Columns that had a type when the whole call began, by table. Any other column counts as
   * created in this call and may widen bigint -> double. Default: the schema as this run
   * finds it. (A re-run after a parallel conflict starts from a schema that other workers'
   * columns already joined.)
   */
  typedBefore?: Map<string, Set<string>>;
}

/** @internal */
export interface InThreadResult extends NormalizeResult {
  /** Columns this run created, by table. */
  created: Record<string, Record<string, CreatedColumn>>;
}

/*
 * How it works
 * ------------
 * Every input line is first tried on the *fast path*: a byte scanner that walks the raw
 * JSON and copies values straight into the output rows (no JSON.parse, no objects, no
 * JSON.stringify), using the decisions cached for each key (column name, column type, child
 * table). Whenever it meets anything it has no cached decision for (a new key, a value that
 * needs coercion or a variant, escapes in a key, a list of lists, ...) it rolls back what it
 * wrote for the line and the line goes through the *object path*: JSON.parse, the full
 * rules (inference, coercion, variants, schema evolution), JSON.stringify. The object path
 * creates the decisions the fast path then uses for the following lines. Both paths write
 * the same rows.
 */

const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_NESTING = 1000;
/** Flush a table's row buffer to its writer once it holds this much (checked per chunk). */
const FLUSH_BYTES = 1 << 20;
/** Column names that normalize owns; user keys that normalize to these are dropped. */
const SYSTEM_COLUMNS = new Set([C_DLT_ID, C_DLT_LOAD_ID, C_DLT_PARENT_ID, C_DLT_LIST_IDX, C_DLT_ROOT_ID]);

/** What to do with a dict/list value at a key: not decided yet, expand (flatten/child table), keep as json. */
const NEST_UNKNOWN = 0;
const NEST_EXPAND = 1;
const NEST_JSON = 2;

// bytes
const QUOTE = 34;
const BSLASH = 92;
const COLON = 58;
const COMMA = 44;
const LBRACE = 123;
const RBRACE = 125;
const LBRACK = 91;
const RBRACK = 93;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const D0 = 48;
const D9 = 57;
const NL = 10;

type Row = Record<string, unknown>;

/** Per-table state for the duration of one call, including its output row buffer. */
interface TableState {
  name: string;
  /** The full, unshortened path of the table (`root__items__tags`); child names derive from it. */
  path: string;
  schema: TableSchema;
  isRoot: boolean;
  /** Root (and all its descendants) use merge: child rows carry `_dlt_root_id`. */
  withRootKey: boolean;
  seed: TableSeed;
  writer: JobFileWriter | undefined;
  rows: number;
  /** System columns registered in the schema (done on the first row, after user columns). */
  systemReady: boolean;
  /** Columns this call created by inference (these may widen bigint -> double). */
  inferredHere: Set<ColumnSchema>;
  /** Shape of this table's rows at a given remaining nesting level. */
  shapes: Map<number, Shape>;
  /** Output rows (JSONL bytes) not yet handed to the writer. */
  buf: Buffer;
  len: number;
  /** Rollback marks for the line being scanned. */
  lineStamp: number;
  markLen: number;
  markRows: number;
}

/** One object context: a table plus a flattening prefix (`''` or `address__`). */
interface Shape {
  ts: TableState;
  /** Unshortened path of the enclosing dicts (`''` or `address__`). */
  prefix: string;
  /** Remaining nesting levels: at <= 0 dicts and lists stay json. */
  lvl: number;
  plans: Map<string, Plan>;
  /** normalized name -> raw keys that produced it (for collision checks). */
  byNorm: Map<string, string[]>;
  /** Fast path: key order seen last (predicts the next object's keys). */
  order: Plan[];
  /** Fast path: hash of the key's bytes -> plan. */
  byHash: Map<number, Plan>;
}

/** Cached decisions for one raw key in one shape. */
interface Plan {
  shape: Shape;
  raw: string;
  norm: string;
  /** Column name in the table (prefix + normalized key, shortened to the destination's limit). */
  name: string;
  /** prefix + normalized key, unshortened: nested names are built from it, as dlt does. */
  path: string;
  /** A user key that normalizes to a system column: ignored. */
  skip: boolean;
  /** Another raw key of this shape normalizes to the same name. */
  ambiguous: boolean;
  /** The fast path leaves this key to the object path (skip or ambiguous). */
  slow: boolean;
  /** The (complete) column `name`, once known. */
  col: ColumnSchema | undefined;
  /** Variant columns by type. */
  variants: Partial<Record<DataType, ColumnSchema>> | undefined;
  nest: number;
  /** Dict values flatten into this shape. */
  sub: Shape | undefined;
  /** List values go to this child table (created on the first element) and shape. */
  child: TableState | undefined;
  childShape: Shape | undefined;
  /** Fast path: `"raw"` and `"raw":` as JSON bytes, `"name":` as bytes, and the last object seen in. */
  keyJson: Buffer;
  keyColon: Buffer;
  outKey: Buffer;
  stamp: number;
}

function keyHash(b: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h;
}

class Normalizer {
  private readonly tables = new Map<string, TableState>();
  private readonly ids: RandomIdPool;
  private readonly detect: boolean;
  private readonly fastEnabled: boolean;
  private readonly maxFileBytes: number;
  private readonly loadIdJson: string;
  /** `"_dlt_load_id":"<id>","_dlt_id":"` */
  private readonly rootTail: Buffer;

  // fast path scanner state
  private b: Buffer = Buffer.alloc(0);
  private p = 0;
  private end = 0;
  private objStamp = 0;
  private lineStamp = 0;
  private readonly touched: TableState[] = [];
  /** Root row id drawn by a line the fast path gave up on. */
  private pendingRootId: string | undefined;
  /** Row ids of the rows being scanned, by list depth (0 = root). */
  private readonly idStack: Buffer[] = [];
  /** Link-column templates by list depth (see linkTemplate). */
  private readonly templates: Buffer[] = [];
  /** Columns created by this run, with their type at creation (for the parallel merge). */
  private readonly createdType = new Map<ColumnSchema, DataType>();
  /** Columns that took a bigint-only path while bigint (see CreatedColumn.strict). */
  private readonly strictBigint = new Set<ColumnSchema>();

  constructor(
    private readonly opts: NormalizeOptions,
    private readonly typedBefore?: Map<string, Set<string>>,
  ) {
    this.detect = opts.schema.settings.detectIsoTimestamps !== false;
    this.fastEnabled = opts.fastPath !== false;
    this.ids = new RandomIdPool(opts.randomBytes);
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.loadIdJson = JSON.stringify(opts.loadId);
    this.rootTail = Buffer.from(`"${C_DLT_LOAD_ID}":${this.loadIdJson},"${C_DLT_ID}":"`);
  }

  // ---- tables and shapes ---------------------------------------------------------------

  rootTable(name: string): TableState {
    const ts = this.tables.get(name);
    if (ts) return ts;
    const schema = this.opts.schema.ensureTable(name);
    return this.newTableState(name, name, schema, true, schema.writeDisposition === 'merge');
  }

  private newTableState(name: string, path: string, schema: TableSchema, isRoot: boolean, withRootKey: boolean): TableState {
    const ts: TableState = {
      name,
      path,
      schema,
      isRoot,
      withRootKey,
      seed: tableSeed(name),
      writer: undefined,
      rows: 0,
      systemReady: false,
      inferredHere: new Set(),
      shapes: new Map(),
      buf: Buffer.allocUnsafe(64 * 1024),
      len: 0,
      lineStamp: 0,
      markLen: 0,
      markRows: 0,
    };
    this.tables.set(name, ts);
    return ts;
  }

  private childTable(parent: TableState, path: string): TableState {
    const name = shortenPath(path, this.opts.maxIdentifierLength);
    const ts = this.tables.get(name);
    if (ts) return ts;
    const schema = this.opts.schema.ensureTable(name, { parent: parent.name });
    if (!schema.parent) schema.parent = parent.name;
    return this.newTableState(name, path, schema, false, parent.withRootKey);
  }

  shapeOf(ts: TableState, lvl: number): Shape {
    let sh = ts.shapes.get(lvl);
    if (!sh) {
      sh = this.newShape(ts, '', lvl);
      ts.shapes.set(lvl, sh);
    }
    return sh;
  }

  private newShape(ts: TableState, prefix: string, lvl: number): Shape {
    return { ts, prefix, lvl, plans: new Map(), byNorm: new Map(), order: [], byHash: new Map() };
  }

  maxNestingOf(root: TableState): number {
    return root.schema.maxTableNesting ?? this.opts.schema.settings.maxTableNesting ?? DEFAULT_MAX_NESTING;
  }

  private addPlan(sh: Shape, raw: string, obj: Row): Plan {
    if (raw.trim() === '') {
      throw new InvalidIdentifierError(sh.ts.name, raw, 'is empty: every key of an item must have a name; rename or drop it in the resource');
    }
    const max = this.opts.maxIdentifierLength;
    const norm = normalizeColumnName(raw, max);
    const path = sh.prefix + norm;
    const name = sh.prefix === '' ? norm : shortenPath(path, max);
    const skip = sh.prefix === '' && SYSTEM_COLUMNS.has(norm);
    const keyJson = Buffer.from(JSON.stringify(raw));
    const p: Plan = {
      shape: sh,
      raw,
      norm,
      name,
      path,
      skip,
      ambiguous: false,
      slow: skip,
      col: undefined,
      variants: undefined,
      nest: NEST_UNKNOWN,
      sub: undefined,
      child: undefined,
      childShape: undefined,
      keyJson,
      keyColon: Buffer.from(JSON.stringify(raw) + ':'),
      outKey: Buffer.from(`${JSON.stringify(name)}:`),
      stamp: 0,
    };
    const same = sh.byNorm.get(norm);
    if (same) {
      same.push(raw);
      for (const other of same) {
        const op = sh.plans.get(other);
        if (op) op.ambiguous = op.slow = true;
      }
      p.ambiguous = p.slow = true;
    } else {
      sh.byNorm.set(norm, [raw]);
    }
    sh.plans.set(raw, p);
    sh.byHash.set(keyHash(keyJson, 1, keyJson.length - 1), p);
    if (p.ambiguous) this.checkCollision(p, obj);
    return p;
  }

  private checkCollision(p: Plan, obj: Row): void {
    const sh = p.shape;
    const raws = sh.byNorm.get(p.norm)!;
    for (const other of raws) {
      if (other !== p.raw && Object.hasOwn(obj, other)) {
        const [a, b] = raws.indexOf(other) < raws.indexOf(p.raw) ? [other, p.raw] : [p.raw, other];
        throw new IdentifierCollisionError(sh.ts.name, p.name, a, b);
      }
    }
  }

  private decideNest(p: Plan): number {
    const sh = p.shape;
    const declared = sh.ts.schema.columns[p.name];
    p.nest = sh.lvl <= 0 || declared?.dataType === 'json' ? NEST_JSON : NEST_EXPAND;
    return p.nest;
  }

  private subShape(p: Plan): Shape {
    const sh = p.shape;
    p.sub = this.newShape(sh.ts, p.path + PATH_SEPARATOR, sh.lvl - 1);
    return p.sub;
  }

  private childOf(p: Plan): TableState {
    const parent = p.shape.ts;
    const ts = this.childTable(parent, parent.path + PATH_SEPARATOR + p.path);
    p.child = ts;
    p.childShape = this.shapeOf(ts, p.shape.lvl - 1);
    return ts;
  }

  // ---- object path ---------------------------------------------------------------------

  /** Normalizes one parsed item into the root table (and its child tables). */
  item(ts: TableState, sh: Shape, item: unknown): void {
    let id = this.pendingRootId;
    if (id === undefined) id = this.ids.next();
    else this.pendingRootId = undefined;
    const out: Row = {};
    if (typeof item === 'object' && item !== null && !Array.isArray(item) && !isBinaryTag(item)) {
      this.flatten(sh, item as Row, out, id, id);
    } else if (item !== null && item !== undefined) {
      this.flatten(sh, { value: item }, out, id, id);
    }
    out[C_DLT_LOAD_ID] = this.opts.loadId;
    out[C_DLT_ID] = id;
    this.emit(ts, out);
  }

  private flatten(sh: Shape, obj: Row, out: Row, rowId: string, rootId: string): void {
    const plans = sh.plans;
    for (const k in obj) {
      const v = obj[k];
      let p = plans.get(k);
      if (p === undefined) p = this.addPlan(sh, k, obj);
      else if (p.ambiguous) this.checkCollision(p, obj);
      if (v === null || v === undefined || p.skip) continue;
      if (typeof v === 'object') {
        const nest = p.nest === NEST_UNKNOWN ? this.decideNest(p) : p.nest;
        if (nest === NEST_EXPAND) {
          if (Array.isArray(v)) {
            if (v.length > 0) this.list(p, v, rowId, rootId);
            continue;
          }
          if (!isBinaryTag(v)) {
            this.flatten(p.sub ?? this.subShape(p), v as Row, out, rowId, rootId);
            continue;
          }
        }
      }
      this.put(p, v, out);
    }
  }

  /** Child rows for a list value at plan `p` of a row with id `parentId`. */
  private list(p: Plan, arr: unknown[], parentId: string, rootId: string): void {
    const ts = p.child ?? this.childOf(p);
    const sh = p.childShape!;
    const seed = ts.seed;
    for (let i = 0; i < arr.length; i++) {
      const e = arr[i];
      const id = childRowIdSeeded(parentId, seed, i);
      const out: Row = {};
      if (typeof e === 'object' && e !== null) {
        if (Array.isArray(e)) {
          // a list of lists: a row that only links, whose `list` field holds the inner list
          this.flatten(this.shapeOf(ts, p.shape.lvl - 2), { list: e }, out, id, rootId);
        } else if (isBinaryTag(e)) {
          this.flatten(sh, { value: e }, out, id, rootId);
        } else {
          this.flatten(sh, e as Row, out, id, rootId);
        }
      } else if (e !== null && e !== undefined) {
        this.flatten(sh, { value: e }, out, id, rootId);
      }
      if (ts.withRootKey) out[C_DLT_ROOT_ID] = rootId;
      out[C_DLT_PARENT_ID] = parentId;
      out[C_DLT_LIST_IDX] = i;
      out[C_DLT_ID] = id;
      this.emit(ts, out);
    }
  }

  private emit(ts: TableState, out: Row): void {
    if (!ts.systemReady) this.addSystemColumns(ts);
    const s = JSON.stringify(out);
    const n = Buffer.byteLength(s) + 1;
    if (ts.len + n > ts.buf.length) this.grow(ts, n);
    ts.len += ts.buf.write(s, ts.len);
    ts.buf[ts.len++] = NL;
    ts.rows++;
    if (n > this.largestRow) this.largestRow = n;
  }

  /** Puts a scalar (or json) value into its column, coercing or making a variant. */
  private put(p: Plan, v: unknown, out: Row): void {
    const c = p.col;
    if (c !== undefined) {
      const t = c.dataType;
      switch (typeof v) {
        case 'string':
          if (t === 'text') {
            out[p.name] = v;
            return;
          }
          break;
        case 'number':
          if (t === 'double' || (t === 'bigint' && Number.isSafeInteger(v))) {
            out[p.name] = v;
            return;
          }
          break;
        case 'boolean':
          if (t === 'bool') {
            out[p.name] = v;
            return;
          }
          break;
      }
    }
    this.putSlow(p, v, out);
  }

  private putSlow(p: Plan, v: unknown, out: Row): void {
    const ts = p.shape.ts;
    const cols = ts.schema.columns;
    let col = p.col;
    if (col === undefined) {
      const existing = cols[p.name];
      if (existing && existing.dataType && !existing.incomplete) {
        col = p.col = existing;
      } else {
        // new column, or a hint without a type yet (e.g. only primaryKey): infer the type
        const type = inferType(v, this.detect);
        const r = coerceTo(type, v);
        col = p.col = this.newColumn(ts, p.name, type, existing, false);
        if (type === 'bigint' && bigintOnly(v)) this.strictBigint.add(col);
        out[p.name] = r;
        return;
      }
    }
    if (col.dataType === 'bigint' && bigintOnly(v)) this.strictBigint.add(col);
    const r = coerceTo(col.dataType, v);
    if (r !== NO_FIT) {
      out[p.name] = r;
      return;
    }
    // An integer column this call created widens to double when a fraction arrives:
    // JSON cannot tell 3.0 from 3, so the first values of a float field may look like integers.
    if (col.dataType === 'bigint' && typeof v === 'number' && this.createdInCall(ts, col)) {
      col.dataType = 'double';
      out[p.name] = v;
      return;
    }
    // variant column `<col>__v_<type>`
    const type = inferType(v, this.detect);
    let vc = p.variants?.[type];
    if (vc === undefined) {
      const vname = shortenPath(p.name + VARIANT_INFIX + type, this.opts.maxIdentifierLength);
      const existing = cols[vname];
      vc = existing && existing.dataType ? existing : this.newColumn(ts, vname, type, existing, true);
      (p.variants ??= {})[type] = vc;
    }
    const rv = coerceTo(vc.dataType, v);
    if (rv === NO_FIT) {
      throw new SchemaConflictError(
        ts.name,
        vc.name,
        `value ${JSON.stringify(v)?.slice(0, 80)} fits neither column "${p.name}" (${col.dataType}) nor its variant "${vc.name}" (${vc.dataType})`,
      );
    }
    out[vc.name] = rv;
  }

  /** The column got its type during this call (so it may still widen bigint -> double). */
  private createdInCall(ts: TableState, col: ColumnSchema): boolean {
    if (ts.inferredHere.has(col)) return true;
    return this.typedBefore !== undefined && !this.typedBefore.get(ts.name)?.has(col.name);
  }

  private newColumn(ts: TableState, name: string, type: DataType, hint: ColumnSchema | undefined, variant: boolean): ColumnSchema {
    let col: ColumnSchema;
    if (hint) {
      // complete the user's hint in place, keeping its flags
      hint.dataType = type;
      delete hint.incomplete;
      if (hint.nullable === undefined) hint.nullable = true;
      if (variant) hint.variant = true;
      col = hint;
    } else {
      col = { name, dataType: type, nullable: true };
      if (variant) col.variant = true;
      ts.schema.columns[name] = col;
    }
    ts.inferredHere.add(col);
    this.createdType.set(col, type);
    return col;
  }

  private addSystemColumns(ts: TableState): void {
    const cols = ts.schema.columns;
    const sys = (name: string, dataType: DataType, flags: Partial<ColumnSchema>) => {
      const c = cols[name];
      if (c) {
        Object.assign(c, flags);
        c.nullable = false;
        if (!c.dataType) c.dataType = dataType;
      } else {
        cols[name] = { name, dataType, nullable: false, ...flags };
      }
    };
    if (ts.isRoot) {
      sys(C_DLT_LOAD_ID, 'text', {});
      sys(C_DLT_ID, 'text', { rowKey: true, unique: true });
    } else {
      if (ts.withRootKey) sys(C_DLT_ROOT_ID, 'text', { rootKey: true });
      sys(C_DLT_PARENT_ID, 'text', { parentKey: true });
      sys(C_DLT_LIST_IDX, 'bigint', {});
      sys(C_DLT_ID, 'text', { rowKey: true, unique: true });
    }
    ts.systemReady = true;
  }

  // ---- fast path -----------------------------------------------------------------------

  /**
   * Tries the line b[s, e) on the fast path. Returns false (having rolled back everything it
   * wrote) when the line needs the object path.
   */
  fastLine(root: TableState, sh: Shape, b: Buffer, s: number, e: number): boolean {
    this.b = b;
    this.end = e;
    this.lineStamp++;
    this.touched.length = 0;
    let p = s;
    while (p < e && b[p] <= 32) p++;
    if (b[p] !== LBRACE || !root.systemReady || !this.fastEnabled) return false;
    if (e - s > this.longestFastLine) this.longestFastLine = e - s;
    const id = this.idAt(0);
    this.ids.nextInto(id, 0);
    this.touch(root);
    this.reserve(root, 1);
    root.buf[root.len++] = LBRACE;
    this.p = p + 1;
    const first = this.fastObject(sh, root, 1, 0);
    p = this.p;
    while (p < e && b[p] <= 32) p++;
    if (first < 0 || p !== e) {
      // the object path takes this line over, with the same row id
      this.pendingRootId = id.toString('latin1');
      return this.rollback();
    }
    // ,"_dlt_load_id":"...","_dlt_id":"<id>"}\n
    const tail = this.rootTail;
    this.reserve(root, tail.length + ROW_ID_LENGTH + 4);
    const out = root.buf;
    let o = root.len;
    if (first === 0) out[o++] = COMMA;
    out.set(tail, o);
    o += tail.length;
    for (let i = 0; i < ROW_ID_LENGTH; i++) out[o++] = id[i];
    out[o++] = QUOTE;
    out[o++] = RBRACE;
    out[o++] = NL;
    root.len = o;
    root.rows++;
    return true;
  }

  private idAt(depth: number): Buffer {
    let id = this.idStack[depth];
    if (id === undefined) id = this.idStack[depth] = Buffer.alloc(ROW_ID_LENGTH);
    return id;
  }

  private touch(ts: TableState): void {
    if (ts.lineStamp !== this.lineStamp) {
      ts.lineStamp = this.lineStamp;
      ts.markLen = ts.len;
      ts.markRows = ts.rows;
      this.touched.push(ts);
    }
  }

  private rollback(): false {
    for (const ts of this.touched) {
      ts.len = ts.markLen;
      ts.rows = ts.markRows;
    }
    this.touched.length = 0;
    return false;
  }

  private reserve(ts: TableState, n: number): void {
    if (ts.len + n > ts.buf.length) this.grow(ts, n);
  }

  private grow(ts: TableState, n: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(ts.buf.length * 2, ts.len + n + 1024));
    ts.buf.copy(bigger, 0, 0, ts.len);
    ts.buf = bigger;
  }

  private skipWs(p: number): number {
    const b = this.b;
    const e = this.end;
    while (p < e) {
      const c = b[p];
      if (c !== 32 && c !== 9 && c !== 13 && c !== 10) break;
      p++;
    }
    return p;
  }

  /**
   * Scans an object whose '{' was consumed (this.p after it), writing its fields into the
   * current row of `ts`. `first`: 1 while the row has no field yet. Returns the new `first`,
   * or -1 to bail out.
   */
  private fastObject(sh: Shape, ts: TableState, first: number, depth: number): number {
    const b = this.b;
    const end = this.end;
    const stamp = ++this.objStamp;
    let p = this.skipWs(this.p);
    if (b[p] === RBRACE) {
      this.p = p + 1;
      return first;
    }
    const order = sh.order;
    let i = 0;
    for (;;) {
      if (b[p] !== QUOTE) return -1;
      // key: predicted from the previous object's key order, else looked up by hash
      let plan = order[i];
      let matched = false;
      if (plan !== undefined) {
        // `"key":` in one go (JSON without whitespace, as extract writes it)
        const k = plan.keyColon;
        const n = k.length;
        if (p + n <= end) {
          let j = 1;
          while (j < n && b[p + j] === k[j]) j++;
          if (j === n) {
            matched = true;
            p += n;
          }
        }
      }
      if (!matched) {
        let q = p + 1;
        while (q < end && b[q] !== QUOTE) {
          if (b[q] === BSLASH) return -1;
          q++;
        }
        if (q >= end) return -1;
        const found = sh.byHash.get(keyHash(b, p + 1, q));
        if (found === undefined) return -1;
        const k = found.keyJson;
        if (k.length !== q + 1 - p) return -1;
        for (let j = 1; j < k.length - 1; j++) if (b[p + j] !== k[j]) return -1;
        p = this.skipWs(q + 1);
        if (b[p] !== COLON) return -1;
        p++;
        order[i] = plan = found;
      }
      i++;
      if (plan.stamp === stamp || plan.slow) return -1;
      plan.stamp = stamp;
      this.p = b[p] > 32 ? p : this.skipWs(p);
      const r = this.fastValue(plan, ts, first, depth);
      if (r < 0) return -1;
      if (r === 0) first = 0;
      p = this.p;
      let c = b[p];
      if (c <= 32) {
        p = this.skipWs(p);
        c = b[p];
      }
      if (c === COMMA) {
        p++;
        if (b[p] <= 32) p = this.skipWs(p);
        continue;
      }
      if (c === RBRACE) {
        this.p = p + 1;
        return first;
      }
      return -1;
    }
  }

  /**
   * Scans the value at this.p for `plan`. Returns 0 when it wrote a field into the row, 1
   * when it wrote nothing (null, a list, an empty dict), -1 to bail out.
   */
  private fastValue(plan: Plan, ts: TableState, first: number, depth: number): number {
    const b = this.b;
    const end = this.end;
    const p = this.p;
    const c = b[p];
    if (c === QUOTE) {
      let q = p + 1;
      let esc = false;
      for (;;) {
        if (q >= end) return -1;
        const x = b[q];
        // most bytes are plain: above the backslash, or between the quote and the backslash
        if (x > BSLASH || (x > QUOTE && x < BSLASH)) {
          q++;
          continue;
        }
        if (x === QUOTE) break;
        if (x === BSLASH) {
          if (!this.validEscape(q)) return -1;
          esc = true;
          q += b[q + 1] === 117 ? 6 : 2;
          continue;
        }
        if (x < 32) return -1;
        q++;
      }
      const col = plan.col;
      if (col === undefined) return -1;
      const t = col.dataType;
      if (t === 'text' || (t === 'timestamp' && !esc && isCanonicalTimestamp(b, p + 1, q))) {
        this.writeField(ts, plan, first, p, q + 1);
        this.p = q + 1;
        return 0;
      }
      if (t === 'timestamp' && !esc && q - p < 40) {
        // another ISO shape ('...Z' without millis, '+02:00', a space): convert to canonical
        const r = parseTimestamp(b.toString('latin1', p + 1, q), false);
        if (r === undefined) return -1;
        this.writeAsciiField(ts, plan, first, r);
        this.p = q + 1;
        return 0;
      }
      return -1;
    }
    if (c === MINUS || (c >= D0 && c <= D9)) {
      let q = p;
      if (b[q] === MINUS) q++;
      if (b[q] === D0) q++;
      else if (b[q] >= 49 && b[q] <= D9) {
        while (q < end && b[q] >= D0 && b[q] <= D9) q++;
      } else return -1;
      let isInt = true;
      if (b[q] === DOT) {
        isInt = false;
        q++;
        if (!(b[q] >= D0 && b[q] <= D9)) return -1;
        while (q < end && b[q] >= D0 && b[q] <= D9) q++;
      }
      let small = true;
      if (b[q] === 101 || b[q] === 69) {
        // an exponent: fine for doubles while it stays small (1e400 would be Infinity)
        isInt = false;
        q++;
        if (b[q] === PLUS || b[q] === MINUS) q++;
        const e0 = q;
        while (q < end && b[q] >= D0 && b[q] <= D9) q++;
        if (q === e0) return -1;
        small = q - e0 <= 2 && q - p <= 40;
      }
      const col = plan.col;
      if (col === undefined) return -1;
      const t = col.dataType;
      if ((t === 'double' && small) || (t === 'bigint' && isInt && q - p <= 15)) {
        this.writeField(ts, plan, first, p, q);
        this.p = q;
        return 0;
      }
      return -1;
    }
    if (c === 116 /* t */ || c === 102 /* f */) {
      const n = c === 116 ? 4 : 5;
      if (p + n > end) return -1;
      if (c === 116 ? b[p + 1] !== 114 || b[p + 2] !== 117 || b[p + 3] !== 101 : b[p + 1] !== 97 || b[p + 2] !== 108 || b[p + 3] !== 115 || b[p + 4] !== 101) return -1;
      const col = plan.col;
      if (col === undefined || col.dataType !== 'bool') return -1;
      this.writeField(ts, plan, first, p, p + n);
      this.p = p + n;
      return 0;
    }
    if (c === 110 /* n */) {
      if (p + 4 > end || b[p + 1] !== 117 || b[p + 2] !== 108 || b[p + 3] !== 108) return -1;
      this.p = p + 4;
      return 1;
    }
    if (c === LBRACE) {
      if (plan.nest !== NEST_EXPAND) return plan.nest === NEST_JSON ? this.fastJson(plan, ts, first) : -1;
      const sub = plan.sub;
      if (sub === undefined || this.isBinaryTagAt(p + 1)) return -1;
      this.p = p + 1;
      const r = this.fastObject(sub, ts, first, depth);
      return r < 0 ? -1 : r;
    }
    if (c === LBRACK) {
      if (plan.nest !== NEST_EXPAND) return plan.nest === NEST_JSON ? this.fastJson(plan, ts, first) : -1;
      this.p = p + 1;
      return this.fastList(plan, depth) ? 1 : -1;
    }
    return -1;
  }

  /** A list value: one child row per element. this.p is after '['. */
  private fastList(plan: Plan, depth: number): boolean {
    const b = this.b;
    let p = this.skipWs(this.p);
    if (b[p] === RBRACK) {
      this.p = p + 1;
      return true;
    }
    const ts = plan.child;
    const sh = plan.childShape;
    if (ts === undefined || sh === undefined || !ts.systemReady) return false;
    this.touch(ts);
    const parentId = this.idAt(depth);
    const id = this.idAt(depth + 1);
    const tail = this.linkTemplate(depth, ts.withRootKey, parentId);
    let valuePlan: Plan | undefined;
    for (let idx = 0; ; idx++) {
      childRowIdInto(parentId, ts.seed, idx, id, 0);
      this.reserve(ts, 1);
      ts.buf[ts.len++] = LBRACE;
      let first = 1;
      const c = b[p];
      if (c === LBRACE) {
        if (this.isBinaryTagAt(p + 1)) return false;
        this.p = p + 1;
        first = this.fastObject(sh, ts, 1, depth + 1);
        if (first < 0) return false;
      } else if (c === LBRACK) {
        return false;
      } else if (c === 110 /* n */) {
        // null element: a row with only the link columns
        if (p + 4 > this.end || b[p + 1] !== 117 || b[p + 2] !== 108 || b[p + 3] !== 108) return false;
        this.p = p + 4;
      } else {
        if (valuePlan === undefined) {
          valuePlan = sh.plans.get('value');
          if (valuePlan === undefined || valuePlan.slow) return false;
        }
        this.p = p;
        const r = this.fastValue(valuePlan, ts, 1, depth + 1);
        if (r < 0) return false;
        if (r === 0) first = 0;
      }
      this.writeChildTail(ts, first, tail, idx, id);
      p = this.skipWs(this.p);
      const d = b[p];
      if (d === COMMA) {
        p = this.skipWs(p + 1);
        continue;
      }
      if (d === RBRACK) {
        this.p = p + 1;
        return true;
      }
      return false;
    }
  }

  /**
   * The link columns every row of one list shares, as bytes:
   * `"_dlt_root_id":"<root>","_dlt_parent_id":"<parent>","_dlt_list_idx":` (root id only
   * for merge tables). Built once per list, copied with one native call per row.
   */
  private linkTemplate(depth: number, withRoot: boolean, parentId: Buffer): Buffer {
    const k = depth * 2 + (withRoot ? 1 : 0);
    let t = this.templates[k];
    if (t === undefined) {
      const idPlaceholder = 'x'.repeat(ROW_ID_LENGTH);
      t = this.templates[k] = Buffer.from(
        (withRoot ? `"${C_DLT_ROOT_ID}":"${idPlaceholder}",` : '') + `"${C_DLT_PARENT_ID}":"${idPlaceholder}","${C_DLT_LIST_IDX}":`,
      );
    }
    let o = 0;
    if (withRoot) {
      const rootId = this.idStack[0];
      o = ROOT_ID_KEY.length;
      for (let i = 0; i < ROW_ID_LENGTH; i++) t[o + i] = rootId[i];
      o += ROW_ID_LENGTH + 2;
    }
    o += PARENT_ID_KEY.length;
    for (let i = 0; i < ROW_ID_LENGTH; i++) t[o + i] = parentId[i];
    return t;
  }

  private writeChildTail(ts: TableState, first: number, tail: Buffer, idx: number, id: Buffer): void {
    this.reserve(ts, tail.length + ROW_ID_LENGTH + 40);
    const out = ts.buf;
    let o = ts.len;
    if (first === 0) out[o++] = COMMA;
    out.set(tail, o);
    o += tail.length;
    if (idx < 10) out[o++] = D0 + idx;
    else o += out.write(String(idx), o, 'latin1');
    o = writeAscii(out, o, ID_KEY);
    for (let i = 0; i < ROW_ID_LENGTH; i++) out[o++] = id[i];
    out[o++] = QUOTE;
    out[o++] = RBRACE;
    out[o++] = NL;
    ts.len = o;
    ts.rows++;
  }

  /** Writes `,"name":<raw bytes b[s, e)>` into the current row of `ts`. */
  private writeField(ts: TableState, plan: Plan, first: number, s: number, e: number): void {
    const k = plan.outKey;
    const kn = k.length;
    const n = e - s;
    if (ts.len + kn + n + 1 > ts.buf.length) this.grow(ts, kn + n + 1);
    const out = ts.buf;
    let o = ts.len;
    if (first === 0) out[o++] = COMMA;
    if (kn > 12) {
      out.set(k, o);
      o += kn;
    } else {
      for (let i = 0; i < kn; i++) out[o++] = k[i];
    }
    const b = this.b;
    if (n > 48) {
      b.copy(out, o, s, e);
      o += n;
    } else {
      for (let i = s; i < e; i++) out[o++] = b[i];
    }
    ts.len = o;
  }

  /** Writes `,"name":"<ascii>"` into the current row of `ts`. */
  private writeAsciiField(ts: TableState, plan: Plan, first: number, v: string): void {
    const k = plan.outKey;
    const kn = k.length;
    const n = v.length;
    if (ts.len + kn + n + 3 > ts.buf.length) this.grow(ts, kn + n + 3);
    const out = ts.buf;
    let o = ts.len;
    if (first === 0) out[o++] = COMMA;
    out.set(k, o);
    o += kn;
    out[o++] = QUOTE;
    for (let i = 0; i < n; i++) out[o++] = v.charCodeAt(i);
    out[o++] = QUOTE;
    ts.len = o;
  }

  /** A value kept as json (nesting exhausted or declared json): copied as is once validated. */
  private fastJson(plan: Plan, ts: TableState, first: number): number {
    const col = plan.col;
    if (col === undefined || col.dataType !== 'json') return -1;
    const s = this.p;
    if (this.b[s] === LBRACE && this.isBinaryTagAt(s + 1)) return -1;
    const e = this.skipValue(s, 0);
    if (e < 0) return -1;
    this.writeField(ts, plan, first, s, e);
    this.p = e;
    return 0;
  }

  /** Validates one JSON value at p; returns the position after it, or -1. */
  private skipValue(p: number, depth: number): number {
    const b = this.b;
    const end = this.end;
    if (depth > 200 || p >= end) return -1;
    const c = b[p];
    if (c === QUOTE) return this.skipString(p);
    if (c === LBRACE || c === LBRACK) {
      const close = c === LBRACE ? RBRACE : RBRACK;
      p = this.skipWs(p + 1);
      if (b[p] === close) return p + 1;
      for (;;) {
        if (c === LBRACE) {
          if (b[p] !== QUOTE) return -1;
          p = this.skipString(p);
          if (p < 0) return -1;
          p = this.skipWs(p);
          if (b[p] !== COLON) return -1;
          p = this.skipWs(p + 1);
        }
        p = this.skipValue(p, depth + 1);
        if (p < 0) return -1;
        p = this.skipWs(p);
        if (b[p] === COMMA) {
          p = this.skipWs(p + 1);
          continue;
        }
        if (b[p] === close) return p + 1;
        return -1;
      }
    }
    if (c === MINUS || (c >= D0 && c <= D9)) {
      let q = p;
      if (b[q] === MINUS) q++;
      if (b[q] === D0) q++;
      else if (b[q] >= 49 && b[q] <= D9) while (q < end && b[q] >= D0 && b[q] <= D9) q++;
      else return -1;
      if (b[q] === DOT) {
        q++;
        if (!(b[q] >= D0 && b[q] <= D9)) return -1;
        while (q < end && b[q] >= D0 && b[q] <= D9) q++;
      }
      if (b[q] === 101 || b[q] === 69) {
        q++;
        if (b[q] === PLUS || b[q] === MINUS) q++;
        const e0 = q;
        while (q < end && b[q] >= D0 && b[q] <= D9) q++;
        // small exponents only: 1e400 would be Infinity (null) after JSON.parse
        if (q === e0 || q - e0 > 2 || q - p > 40) return -1;
      }
      return q;
    }
    if (c === 116) return p + 4 <= end && b[p + 1] === 114 && b[p + 2] === 117 && b[p + 3] === 101 ? p + 4 : -1;
    if (c === 102) return p + 5 <= end && b[p + 1] === 97 && b[p + 2] === 108 && b[p + 3] === 115 && b[p + 4] === 101 ? p + 5 : -1;
    if (c === 110) return p + 4 <= end && b[p + 1] === 117 && b[p + 2] === 108 && b[p + 3] === 108 ? p + 4 : -1;
    return -1;
  }

  private skipString(p: number): number {
    const b = this.b;
    const end = this.end;
    let q = p + 1;
    for (;;) {
      if (q >= end) return -1;
      const x = b[q];
      if (x === QUOTE) return q + 1;
      if (x === BSLASH) {
        if (!this.validEscape(q)) return -1;
        q += b[q + 1] === 117 ? 6 : 2;
        continue;
      }
      if (x < 32) return -1;
      q++;
    }
  }

  /** The escape sequence at q (a backslash) is valid JSON. */
  private validEscape(q: number): boolean {
    const b = this.b;
    const x = b[q + 1];
    if (x === 117 /* u */) {
      if (q + 6 > this.end) return false;
      for (let i = 2; i < 6; i++) {
        const h = b[q + i];
        if (!((h >= D0 && h <= D9) || (h >= 97 && h <= 102) || (h >= 65 && h <= 70))) return false;
      }
      return true;
    }
    // " \ / b f n r t
    return x === QUOTE || x === BSLASH || x === 47 || x === 98 || x === 102 || x === 110 || x === 114 || x === 116;
  }

  /** The object starting at p (after '{') has `$binary` as its first key. */
  private isBinaryTagAt(p: number): boolean {
    p = this.skipWs(p);
    const b = this.b;
    if (p + 9 > this.end) return false;
    for (let i = 0; i < 9; i++) if (b[p + i] !== BINARY_KEY[i]) return false;
    return true;
  }

  // ---- output --------------------------------------------------------------------------

  private writerOf(ts: TableState): JobFileWriter {
    if (ts.writer === undefined) {
      ts.writer = new JobFileWriter({
        dir: this.opts.outDir,
        table: ts.name,
        maxFileBytes: this.maxFileBytes,
        nextFileId: this.opts.nextFileId,
        format: 'jsonl',
      });
    }
    return ts.writer;
  }

  /** Hands buffered rows to the writers (all tables, or only those holding much). */
  flush(all: boolean): void {
    for (const ts of this.tables.values()) {
      if (ts.len === 0 || (!all && ts.len < FLUSH_BYTES)) continue;
      this.writerOf(ts).writeRows(ts.buf, ts.len);
      ts.len = 0;
    }
  }

  /** Makes an empty job file for a replace root table that got no rows (so load truncates it). */
  touchEmpty(ts: TableState): void {
    if (ts.rows === 0 && ts.writer === undefined && ts.isRoot && ts.schema.writeDisposition === 'replace') {
      this.writerOf(ts).touch();
    }
  }

  /** Longest row the object path wrote (bytes, with its newline). */
  private largestRow = 0;
  /** Longest input line the fast path tried (its rows are copied from it). */
  private longestFastLine = 0;

  /** Flushes and closes every writer; returns the result. */
  close(): InThreadResult {
    this.flush(true);
    const rowCounts: Record<string, number> = {};
    const files: Array<{ table: string; file: string }> = [];
    const created: Record<string, Record<string, CreatedColumn>> = {};
    for (const ts of this.tables.values()) {
      for (const col of Object.values(ts.schema.columns)) {
        const type = this.createdType.get(col);
        if (type !== undefined) (created[ts.name] ??= {})[col.name] = { type, strict: this.strictBigint.has(col) };
      }
      if (ts.writer === undefined) continue;
      for (const file of ts.writer.close()) files.push({ table: ts.name, file });
      rowCounts[ts.name] = ts.rows;
    }
    const fastBound = this.longestFastLine > 0 ? 2 * this.longestFastLine + 65536 : 0;
    return { rowCounts, files, created, largestRowBytes: Math.max(this.largestRow, fastBound) };
  }

  /** Closes every writer after a failure, ignoring further errors. */
  abandon(): void {
    for (const ts of this.tables.values()) {
      try {
        ts.writer?.close();
      } catch {
        // the call already failed; the caller discards the output folder
      }
    }
  }
}

/**
 * A bigint column (that may still widen) writes `v` differently than a double column would:
 * a string or an unsafe integer coerced, or a variant only one of them makes. Numbers that
 * do not fit bigint widen it, so they write the same as double.
 */
function bigintOnly(v: unknown): boolean {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return false;
  const b = coerceTo('bigint', v);
  if (b === NO_FIT) return typeof v !== 'number' && coerceTo('double', v) !== NO_FIT;
  return b !== coerceTo('double', v);
}

const BINARY_KEY = Buffer.from('"$binary"');
const ROOT_ID_KEY = Buffer.from(`"${C_DLT_ROOT_ID}":"`);
const PARENT_ID_KEY = Buffer.from(`"${C_DLT_PARENT_ID}":"`);

const ID_KEY = Buffer.from(`,"${C_DLT_ID}":"`);

function writeAscii(out: Buffer, o: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) out[o++] = bytes[i];
  return o;
}

function dig2(b: Uint8Array, i: number): number {
  const x = b[i] - D0;
  const y = b[i + 1] - D0;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
}

const DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** b[s, e) is 'YYYY-MM-DDTHH:MM:SS.sssZ' or '...ssssssZ' with valid fields (the canonical form). */
function isCanonicalTimestamp(b: Uint8Array, s: number, e: number): boolean {
  const n = e - s;
  if ((n !== 24 && n !== 27) || b[s + 4] !== MINUS || b[s + 7] !== MINUS || b[s + 10] !== 84 || b[s + 13] !== COLON || b[s + 16] !== COLON || b[s + 19] !== DOT || b[e - 1] !== 90) return false;
  for (let i = s + 20; i < e - 1; i++) if (b[i] < D0 || b[i] > D9) return false;
  const y1 = dig2(b, s);
  const y2 = dig2(b, s + 2);
  const mo = dig2(b, s + 5);
  const d = dig2(b, s + 8);
  const h = dig2(b, s + 11);
  const mi = dig2(b, s + 14);
  const sec = dig2(b, s + 17);
  if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > DAYS[mo] || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return false;
  if (mo === 2 && d === 29) {
    const y = y1 * 100 + y2;
    if (!((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0)) return false;
  }
  return true;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const DEFAULT_MIN_PARALLEL_BYTES = 16 * 1024 * 1024;

/**
 * Normalizes extracted items into relational rows: nested dicts flatten into `a__b`
 * columns, lists become child tables, types are inferred (or coerced into existing
 * columns, or put into variant columns), and the schema evolves in place. Writes JSONL job
 * files per table into `outDir`. Large calls spread their inputs over worker threads
 * (`workers`); the rows and the schema mean the same as in one thread.
 */
export async function normalizeFiles(opts: NormalizeOptions): Promise<NormalizeResult> {
  const inputs = opts.inputs;
  const workers = Math.floor(opts.workers ?? Math.min(availableParallelism(), inputs.length));
  if (workers > 1 && inputs.length > 1 && opts.randomBytes === undefined && canStartWorkers()) {
    const sizes = inputs.map((i) => statSync(i.path).size);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total >= (opts.minParallelBytes ?? DEFAULT_MIN_PARALLEL_BYTES)) {
      return normalizeParallel(opts, workers, sizes, normalizeInThread);
    }
  }
  if (opts.stats) Object.assign(opts.stats, { workers: 0, reruns: 0 });
  const { rowCounts, files, largestRowBytes } = await normalizeInThread(opts);
  return { rowCounts, files, largestRowBytes };
}

/**
 * @internal The single-threaded normalizer: what `normalizeFiles` runs in-thread, what each
 * worker runs on its slices, and what re-runs a worker's slices after a conflict.
 */
export async function normalizeInThread(opts: NormalizeOptions & { inputs: InputSlice[] }, internal: InThreadOptions = {}): Promise<InThreadResult> {
  const n = new Normalizer(opts, internal.typedBefore);
  const { signal, onProgress } = opts;
  const reader = new ByteChunkReader();
  try {
    for (const input of opts.inputs) {
      signal?.throwIfAborted();
      const ts = n.rootTable(input.table);
      const sh = n.shapeOf(ts, n.maxNestingOf(ts));
      const start = input.start ?? 0;
      let lineNo = 0;
      for (const { buf, end } of reader.read(input.path, start, input.end)) {
        let s = 0;
        while (s < end) {
          let e = buf.indexOf(NL, s);
          if (e < 0 || e > end) e = end;
          lineNo++;
          let le = e;
          if (le > s && buf[le - 1] === 13) le--;
          if (le > s && !n.fastLine(ts, sh, buf, s, le)) {
            const line = buf.toString('utf8', s, le);
            if (line.trim() !== '') n.item(ts, sh, parseSliceLine(line, input.path, start, lineNo));
          }
          s = e + 1;
        }
        n.flush(false);
        onProgress?.({ table: ts.name, rows: ts.rows });
        await yieldToEventLoop();
        signal?.throwIfAborted();
      }
      n.touchEmpty(ts);
    }
  } catch (e) {
    n.abandon();
    throw e;
  }
  return n.close();
}

/** parseLine for a line of a slice: errors name the line number within the whole file. */
function parseSliceLine(line: string, path: string, start: number, lineNo: number): unknown {
  if (start === 0) return parseLine(line, path, lineNo);
  try {
    return parseLine(line, path, lineNo);
  } catch (e) {
    if (e instanceof CorruptPackageFileError) return parseLine(line, path, countLines(path, start) + lineNo);
    throw e;
  }
}
