import type { Schema } from '../schema/schema.js';
import type { ColumnSchema, DataType, TableSchema } from '../schema/types.js';
import { C_DLT_ID, C_DLT_LIST_IDX, C_DLT_LOAD_ID, C_DLT_PARENT_ID, C_DLT_ROOT_ID, PATH_SEPARATOR, isSystemTable } from '../schema/system.js';
import { IdentifierCollisionError } from '../errors.js';
import { normalizeColumnName, shortenPath } from '../schema/naming.js';
import { EVOLVE, resolveContract, type ResolvedContract } from '../schema/contract.js';
import { needsRootKey } from '../schema/write-disposition.js';
import { tableSeed, type TableSeed } from './ids.js';
import { INITIAL_BUFFER_BYTES } from './buffers.js';
import type { TableOutput } from './table-output.js';

/*
 * The plan: the decisions normalize has taken for the tables, keys and nesting levels it
 * met during one call (column name, column, child table, json or expand). The object path
 * takes them (Plans), the byte path only reads them; a line the byte path finds no decision
 * for goes to the object path, which takes the missing decisions for the lines after it.
 */

const DEFAULT_MAX_NESTING = 1000;
/** The column an empty or blank key makes (dlt's EMPTY_KEY_IDENTIFIER). */
const EMPTY_KEY_NAME = '_empty';
/** Column names that normalize owns; user keys that normalize to these are dropped. */
const SYSTEM_COLUMNS = new Set([C_DLT_ID, C_DLT_LOAD_ID, C_DLT_PARENT_ID, C_DLT_LIST_IDX, C_DLT_ROOT_ID]);

/** What to do with a dict/list value at a key: not decided yet, expand (flatten/child table), keep as json. */
export const NEST_UNKNOWN = 0;
export const NEST_EXPAND = 1;
export const NEST_JSON = 2;

export type Row = Record<string, unknown>;

/** Per-table state for the duration of one call, including its output row buffer. */
export interface TableState extends TableOutput {
  /** The full, unshortened path of the table (`root__items__tags`); child names derive from it. */
  path: string;
  /** The chain's merge needs root keys (needsRootKey): child rows carry `_dlt_root_id`. */
  withRootKey: boolean;
  /**
   * An scd2 root without a version column: a row's `_dlt_id` is the hash of its item, nested
   * data included (dlt's `row_hash`), so a version changes when anything in the item does.
   */
  contentIds: boolean;
  /** In an scd2 chain with content ids: nested rows take dlt's ids (`get_nested_row_hash`), as the versions do. */
  dltChildIds: boolean;
  seed: TableSeed;
  /** System columns registered in the schema (done on the first row, after user columns). */
  systemReady: boolean;
  /** Shape of this table's rows at a given remaining nesting level. */
  shapes: Map<number, Shape>;
  /** The schema contract of the table's root (see schema/contract.ts). */
  contract: ResolvedContract;
  /**
   * The table held no rows when the call began (a table's first load): under its contract it
   * is a new table, and its columns and types evolve freely.
   */
  isNew: boolean;
  /**
   * A new table its `tables` contract discards: its schema is detached (never added to the
   * schema) and no row is written to it.
   */
  discarded: boolean;
}

/** One object context: a table plus a flattening prefix (`''` or `address__`). */
export interface Shape {
  ts: TableState;
  /** Unshortened path of the enclosing dicts (`''` or `address__`). */
  prefix: string;
  /** Remaining nesting levels: at <= 0 dicts and lists stay json. */
  lvl: number;
  /**
   * The levels of the row this shape flattens into: a list's child table starts one below it,
   * however many dicts deep the list was found (dlt counts the dicts above a list only to
   * decide whether they flatten).
   */
  rowLvl: number;
  plans: Map<string, Plan>;
  /** normalized name -> raw keys that produced it (for collision checks). */
  byNorm: Map<string, string[]>;
  /** Byte path: key order seen last (predicts the next object's keys). */
  order: Plan[];
  /** Byte path: hash of the key's bytes -> plan. */
  byHash: Map<number, Plan>;
}

/** Cached decisions for one raw key in one shape. */
export interface Plan {
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
  /** The byte path leaves this key to the object path (skip or ambiguous). */
  slow: boolean;
  /** The column may not hold null (a key, or `nullable: false`): a null is an error. */
  notNull: boolean;
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
  /** Byte path: `"raw"` and `"raw":` as JSON bytes, `"name":` as bytes, and the last object seen in. */
  keyJson: Buffer;
  keyColon: Buffer;
  outKey: Buffer;
  /** Byte path: `"<double variant name>":`, once the object path made that variant. */
  doubleVariantKey: Buffer | undefined;
  stamp: number;
}

/** FNV-1a over b[s, e): how the byte path finds a key's plan without making a string. */
export function keyHash(b: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h;
}

/** The tables of one call and the decisions taken for them. */
export class Plans {
  readonly tables = new Map<string, TableState>();

  constructor(
    readonly schema: Schema,
    private readonly maxIdentifierLength: number | undefined,
    /** Where a new table's row buffer comes from (NormalizeBuffers.take when kept between calls). */
    private readonly newBuffer: () => Buffer = () => Buffer.allocUnsafe(INITIAL_BUFFER_BYTES),
  ) {}

  rootTable(name: string): TableState {
    const ts = this.tables.get(name);
    if (ts) return ts;
    const schema = this.schema.ensureTable(name);
    // haul's own tables (`_dlt_pipeline_state`) follow no user contract
    const contract = isSystemTable(name) ? EVOLVE : resolveContract(schema.schemaContract, this.schema.settings.schemaContract);
    const isNew = !hasData(schema);
    const discarded = isNew && isDiscard(contract.tables);
    const root = this.newTableState(name, name, schema, true, needsRootKey(schema, this.schema.tableChain(name)), contract, isNew, discarded);
    root.contentIds = schema.writeDisposition === 'merge' && schema.mergeStrategy === 'scd2' && schema.scd2?.rowVersionColumnName === undefined;
    return root;
  }

  private newTableState(
    name: string,
    path: string,
    schema: TableSchema,
    isRoot: boolean,
    withRootKey: boolean,
    contract: ResolvedContract,
    isNew: boolean,
    discarded: boolean,
  ): TableState {
    const ts: TableState = {
      contract,
      isNew,
      discarded,
      name,
      path,
      schema,
      isRoot,
      withRootKey,
      contentIds: false,
      dltChildIds: false,
      seed: tableSeed(name),
      writer: undefined,
      rows: 0,
      systemReady: false,
      shapes: new Map(),
      buf: this.newBuffer(),
      len: 0,
      lineStamp: 0,
      markLen: 0,
      markRows: 0,
    };
    this.tables.set(name, ts);
    return ts;
  }

  private childTable(parent: TableState, path: string): TableState {
    const name = shortenPath(path, this.maxIdentifierLength);
    const ts = this.tables.get(name);
    if (ts) return ts;
    const existing = this.schema.getTable(name);
    const isNew = existing === undefined || !hasData(existing);
    const discarded = isNew && isDiscard(parent.contract.tables);
    // a discarded table stays out of the schema: nothing is written to it
    const schema = discarded ? existing ?? { name, parent: parent.name, columns: {} } : this.schema.ensureTable(name, { parent: parent.name });
    if (!schema.parent) schema.parent = parent.name;
    const child = this.newTableState(name, path, schema, false, parent.withRootKey, parent.contract, isNew, discarded || parent.discarded);
    child.dltChildIds = parent.contentIds || parent.dltChildIds;
    return child;
  }

  shapeOf(ts: TableState, lvl: number): Shape {
    let sh = ts.shapes.get(lvl);
    if (!sh) {
      sh = newShape(ts, '', lvl, lvl);
      ts.shapes.set(lvl, sh);
    }
    return sh;
  }

  maxNestingOf(root: TableState): number {
    return root.schema.maxTableNesting ?? this.schema.settings.maxTableNesting ?? DEFAULT_MAX_NESTING;
  }

  /** The plan for a key met for the first time in this shape (`obj` is checked for collisions). */
  addPlan(sh: Shape, raw: string, obj: Row): Plan {
    const max = this.maxIdentifierLength;
    // an empty (or blank) key is dlt's `_empty` column
    const norm = raw.trim() === '' ? EMPTY_KEY_NAME : normalizeColumnName(raw, max);
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
      notNull: !skip && sh.ts.schema.columns[name]?.nullable === false,
      col: undefined,
      variants: undefined,
      nest: NEST_UNKNOWN,
      sub: undefined,
      child: undefined,
      childShape: undefined,
      keyJson,
      keyColon: Buffer.from(JSON.stringify(raw) + ':'),
      outKey: Buffer.from(`${JSON.stringify(name)}:`),
      doubleVariantKey: undefined,
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

  /** Throws when `obj` has two keys that normalize to the plan's name. */
  checkCollision(p: Plan, obj: Row): void {
    const sh = p.shape;
    const raws = sh.byNorm.get(p.norm)!;
    for (const other of raws) {
      if (other !== p.raw && Object.hasOwn(obj, other)) {
        const [a, b] = raws.indexOf(other) < raws.indexOf(p.raw) ? [other, p.raw] : [p.raw, other];
        throw new IdentifierCollisionError(sh.ts.name, p.name, a, b);
      }
    }
  }

  /** Dicts and lists at this key expand, unless nesting is used up or the column is declared json. */
  decideNest(p: Plan): number {
    const sh = p.shape;
    const declared = sh.ts.schema.columns[p.name];
    p.nest = sh.lvl <= 0 || declared?.dataType === 'json' ? NEST_JSON : NEST_EXPAND;
    return p.nest;
  }

  /** The shape a dict value at this key flattens into. */
  subShape(p: Plan): Shape {
    const sh = p.shape;
    p.sub = newShape(sh.ts, p.path + PATH_SEPARATOR, sh.lvl - 1, sh.rowLvl);
    return p.sub;
  }

  /** The child table (and its shape) a list value at this key goes to. */
  childOf(p: Plan): TableState {
    const parent = p.shape.ts;
    const ts = this.childTable(parent, parent.path + PATH_SEPARATOR + p.path);
    p.child = ts;
    p.childShape = this.shapeOf(ts, p.shape.rowLvl - 1);
    return ts;
  }
}

/** A table that received rows before has its `_dlt_id` column (added with its first row). */
const hasData = (t: TableSchema): boolean => t.columns[C_DLT_ID] !== undefined && !t.columns[C_DLT_ID].incomplete;

const isDiscard = (m: string): boolean => m === 'discard_row' || m === 'discard_value';

function newShape(ts: TableState, prefix: string, lvl: number, rowLvl: number): Shape {
  return { ts, prefix, lvl, rowLvl, plans: new Map(), byNorm: new Map(), order: [], byHash: new Map() };
}
