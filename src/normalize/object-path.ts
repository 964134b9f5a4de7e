import type { ColumnSchema, DataType } from '../schema/types.js';
import { C_DLT_ID, C_DLT_LIST_IDX, C_DLT_LOAD_ID, C_DLT_PARENT_ID, C_DLT_ROOT_ID, VARIANT_INFIX } from '../schema/system.js';
import { DataValidationError, NullValueError, SchemaConflictError } from '../errors.js';
import { redactedPreview } from '../config/redact.js';
import { shortenPath } from '../schema/naming.js';
import { childRowIdSeeded, type RandomIdPool } from './ids.js';
import { nestedContentRowId } from './content-id.js';
import { isWholeFloat, markWholeFloat } from '../common/whole-floats.js';
import { NO_FIT, bigintOnly, coerceTo, inferType, isBinaryTag, keepsAsIs, kindOf } from './values.js';
import { NEST_EXPAND, NEST_UNKNOWN, type Plan, type Plans, type Row, type Shape, type TableState } from './plan.js';
import { appendRow } from './table-output.js';
import { stringifyRow } from './big-ints.js';
import type { CreatedColumn } from './types.js';

/*
 * The object path: one parsed item at a time, with the full rules of dlt's relational
 * normalizer (flattening, child tables, type inference, coercion, variant columns, schema
 * evolution). It takes every decision the byte path later reuses (Plans), and writes rows
 * with JSON.stringify. Which values are written unchanged and how the others are coerced
 * comes from values.ts, the rules the byte path reads too.
 */

export interface ObjectPathOptions {
  loadId: string;
  /** Strings that are full ISO-8601 date-times make timestamp columns. */
  detectIsoTimestamps: boolean;
  maxIdentifierLength: number | undefined;
}

/** A row of the item being normalized, written when the item is done unless it (or a parent) was dropped. */
interface PendingRow {
  ts: TableState;
  out: Row;
  parent: PendingRow | undefined;
  dropped: boolean;
}

/** The offending item for an error: secrets redacted, at most 300 characters. */
const describeItem = (item: unknown): string => redactedPreview(item);

export class ObjectPath {
  /** Rows of the current item (see item()). */
  private readonly pending: PendingRow[] = [];
  private current: unknown;
  /** Columns created by this run, with their type at creation (for the parallel merge). */
  private readonly createdType = new Map<ColumnSchema, DataType>();
  /** Columns that took a bigint-only path while bigint (see CreatedColumn.strict). */
  private readonly strictBigint = new Set<ColumnSchema>();

  constructor(
    private readonly plans: Plans,
    private readonly ids: RandomIdPool,
    private readonly opts: ObjectPathOptions,
  ) {}

  /**
   * Normalizes one parsed item into the root table (and its child tables). `rootId`: the
   * row id the byte path already drew for this line, if it did. The item's rows are written
   * once it is done, parents first, so a row a contract discards takes its children along.
   */
  item(ts: TableState, sh: Shape, item: unknown, rootId: string | undefined): void {
    const id = rootId ?? this.ids.next();
    this.pending.length = 0;
    this.current = item;
    if (ts.isNew && !this.allowTable(ts)) return;
    const root: PendingRow = { ts, out: {}, parent: undefined, dropped: false };
    this.pending.push(root);
    if (typeof item === 'object' && item !== null && !Array.isArray(item) && !isBinaryTag(item)) {
      this.flatten(sh, item as Row, root, id, id);
    } else if (item !== null && item !== undefined) {
      this.flatten(sh, { value: item }, root, id, id);
    }
    root.out[C_DLT_LOAD_ID] = this.opts.loadId;
    root.out[C_DLT_ID] = id;
    for (const r of this.pending) {
      if (r.parent?.dropped) r.dropped = true;
      if (!r.dropped) this.emit(r.ts, r.out);
    }
    this.pending.length = 0;
  }

  /**
   * One row's fields, in dlt's order (its `_flatten`): an object's scalars first, its nested
   * objects after them from a stack (the last one first), and the row's lists only once the
   * row is complete. New columns are made in that order, so tables get dlt's column order.
   */
  private flatten(sh: Shape, obj: Row, row: PendingRow, rowId: string, rootId: string): void {
    const stack: Array<[Shape, Row]> = [[sh, obj]];
    const lists: Array<[Plan, unknown[]]> = [];
    while (stack.length > 0) {
      const [s, o] = stack.pop()!;
      const plans = s.plans;
      for (const k in o) {
        const v = o[k];
        let p = plans.get(k);
        if (p === undefined) p = this.plans.addPlan(s, k, o);
        else if (p.ambiguous) this.plans.checkCollision(p, o);
        if (v === null || v === undefined || p.skip) {
          if (p.notNull && !p.skip) throw new NullValueError(this.plans.schema.name, s.ts.name, p.name, describeItem(this.current));
          continue;
        }
        if (typeof v === 'object') {
          const nest = p.nest === NEST_UNKNOWN ? this.plans.decideNest(p) : p.nest;
          if (nest === NEST_EXPAND) {
            if (Array.isArray(v)) {
              if (v.length > 0) lists.push([p, v]);
              continue;
            }
            if (!isBinaryTag(v)) {
              stack.push([p.sub ?? this.plans.subShape(p), v as Row]);
              continue;
            }
          }
        }
        this.put(p, v, row, typeof v === 'number' && isWholeFloat(o, k));
      }
    }
    // dlt adds a table's system columns with its first row, before any later row's new columns
    if (!row.ts.systemReady) this.addSystemColumns(row.ts);
    for (const [p, v] of lists) this.list(p, v, row, rowId, rootId);
  }

  /** Child rows for a list value at plan `p` of a row with id `parentId`. */
  private list(p: Plan, arr: unknown[], parent: PendingRow, parentId: string, rootId: string): void {
    const ts = p.child ?? this.plans.childOf(p);
    if (ts.isNew && !this.allowTable(ts)) return;
    const sh = p.childShape!;
    const seed = ts.seed;
    for (let i = 0; i < arr.length; i++) {
      const e = arr[i];
      const id = ts.dltChildIds ? nestedContentRowId(parentId, ts.name, i) : childRowIdSeeded(parentId, seed, i);
      const row: PendingRow = { ts, out: {}, parent, dropped: false };
      this.pending.push(row);
      if (typeof e === 'object' && e !== null) {
        if (Array.isArray(e)) {
          // a list of lists: a row that only links, whose `list` field holds the inner list
          this.flatten(this.plans.shapeOf(ts, p.shape.rowLvl - 2), { list: e }, row, id, rootId);
        } else if (isBinaryTag(e)) {
          this.flatten(sh, { value: e }, row, id, rootId);
        } else {
          this.flatten(sh, e as Row, row, id, rootId);
        }
      } else if (e !== null && e !== undefined) {
        const wrapped = { value: e };
        if (typeof e === 'number' && isWholeFloat(arr, String(i))) markWholeFloat(wrapped, 'value');
        this.flatten(sh, wrapped, row, id, rootId);
      } else if (!ts.systemReady) {
        // a null element is a row too: its system columns come first, as dlt's
        this.addSystemColumns(ts);
      }
      const out = row.out;
      if (ts.withRootKey) out[C_DLT_ROOT_ID] = rootId;
      out[C_DLT_PARENT_ID] = parentId;
      out[C_DLT_LIST_IDX] = i;
      out[C_DLT_ID] = id;
    }
  }

  /** A new table under a `tables` contract other than evolve: freeze throws; discard drops its rows. */
  private allowTable(ts: TableState): boolean {
    if (ts.discarded) return false;
    if (ts.contract.tables === 'freeze') this.violation(ts, undefined, 'tables', `table "${ts.name}" is new and tables are frozen`);
    return true;
  }

  /**
   * A change the contract governs (a new column, a new variant) on a table that held data
   * before: evolve allows it; freeze throws; discard_row drops the row, discard_value the value.
   */
  private allow(ts: TableState, column: string, entity: 'columns' | 'dataType', row: PendingRow, why: string): boolean {
    const mode = ts.contract[entity];
    if (mode === 'evolve' || ts.isNew) return true;
    if (mode === 'freeze') this.violation(ts, column, entity, why);
    if (mode === 'discard_row') row.dropped = true;
    return false;
  }

  private violation(ts: TableState, column: string | undefined, entity: 'tables' | 'columns' | 'dataType', why: string): never {
    throw new DataValidationError(this.plans.schema.name, ts.name, column, entity, ts.contract[entity], describeItem(this.current), why);
  }

  private emit(ts: TableState, out: Row): void {
    if (!ts.systemReady) this.addSystemColumns(ts);
    let json: string;
    try {
      json = JSON.stringify(out);
    } catch {
      json = stringifyRow(out); // a bigint beyond 2^53 inside a json value
    }
    appendRow(ts, json);
  }

  /**
   * Puts a scalar (or json) value into its column, coercing or making a variant. `wholeFloat`:
   * a whole number its JSON text wrote as a float (`10.0`), which types double as in dlt.
   */
  private put(p: Plan, v: unknown, row: PendingRow, wholeFloat: boolean): void {
    const c = p.col;
    if (c !== undefined && keepsAsIs(c.dataType, kindOf(v))) {
      row.out[p.name] = v;
      return;
    }
    this.putSlow(p, v, row, wholeFloat);
  }

  private putSlow(p: Plan, v: unknown, row: PendingRow, wholeFloat: boolean): void {
    const out = row.out;
    const ts = p.shape.ts;
    const cols = ts.schema.columns;
    let col = p.col;
    if (col === undefined) {
      const existing = cols[p.name];
      if (existing && existing.dataType && !existing.incomplete) {
        col = p.col = existing;
      } else {
        // new column, or a hint without a type yet (e.g. only primaryKey): infer the type
        if (!this.allow(ts, p.name, 'columns', row, `"${p.name}" is a new column`)) return;
        const type = wholeFloat ? 'double' : inferType(v, this.opts.detectIsoTimestamps);
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
    // A variant column, as dlt makes it: named after the value's JSON type (`__v_text` for
    // any string), typed as the value infers (an ISO string: timestamp). An integer column
    // keeps its type when a fraction arrives, also in the run that created it.
    if (col.dataType === 'bigint') this.strictBigint.add(col);
    const type = wholeFloat ? 'double' : inferType(v, this.opts.detectIsoTimestamps);
    let vc = p.variants?.[type];
    if (vc === undefined) {
      const vname = shortenPath(p.name + VARIANT_INFIX + (wholeFloat ? 'double' : inferType(v, false)), this.opts.maxIdentifierLength);
      const existing = cols[vname];
      if (existing && existing.dataType) vc = existing;
      else if (!this.allow(ts, p.name, 'dataType', row, `a ${type} value does not fit the ${col.dataType} column and would make the variant column "${vname}"`)) return;
      else vc = this.newColumn(ts, vname, type, existing, true);
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

  private newColumn(ts: TableState, name: string, type: DataType, hint: ColumnSchema | undefined, variant: boolean): ColumnSchema {
    let col: ColumnSchema;
    if (hint) {
      // complete the user's hint in place, keeping its flags; it takes its place among the
      // columns now, as dlt's does (a hint without a type has no position of its own)
      hint.dataType = type;
      delete hint.incomplete;
      const cols = ts.schema.columns;
      delete cols[hint.name];
      cols[hint.name] = hint;
      if (hint.nullable === undefined) hint.nullable = true;
      if (variant) hint.variant = true;
      col = hint;
    } else {
      col = { name, dataType: type, nullable: true };
      if (variant) col.variant = true;
      ts.schema.columns[name] = col;
    }
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

  /** Columns this run created, by table (what the parallel merge compares). */
  createdColumns(tables: Iterable<TableState>): Record<string, Record<string, CreatedColumn>> {
    const created: Record<string, Record<string, CreatedColumn>> = {};
    for (const ts of tables) {
      for (const col of Object.values(ts.schema.columns)) {
        const type = this.createdType.get(col);
        if (type !== undefined) (created[ts.name] ??= {})[col.name] = { type, strict: this.strictBigint.has(col) };
      }
    }
    return created;
  }
}
