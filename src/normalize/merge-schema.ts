import type { Schema } from '../schema/schema.js';
import { stableStringify } from '../schema/schema.js';
import type { ColumnSchema, DataType, StoredSchema, TableSchema } from '../schema/types.js';
import { PATH_SEPARATOR, VARIANT_INFIX } from '../schema/system.js';
import type { CreatedColumn } from './types.js';

/** The column has its type for good (a hint marked `incomplete` gets it from the first value). */
const isTyped = (c: ColumnSchema | undefined): c is ColumnSchema => c !== undefined && !!c.dataType && !c.incomplete;

/** Columns that had a type in `schema`, by table. */
export function typedColumns(schema: StoredSchema): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const t of Object.values(schema.tables)) {
    const set = new Set<string>();
    for (const c of Object.values(t.columns)) if (isTyped(c)) set.add(c.name);
    out.set(t.name, set);
  }
  return out;
}

const same = (a: unknown, b: unknown) => stableStringify(a) === stableStringify(b);

function tableProps(t: TableSchema): Omit<TableSchema, 'columns'> {
  const { columns: _columns, ...rest } = t;
  return rest;
}

function withoutType(c: ColumnSchema): Omit<ColumnSchema, 'dataType'> {
  const { dataType: _dataType, ...rest } = c;
  return rest;
}

/**
 * Merges what one worker did into `target`, or returns false (leaving `target` as it was)
 * when the worker's output may differ from what one thread would have written.
 *
 * The workers' slices are merged in input order. A worker started from `base` (the schema
 * when the call began); one thread would have started its slices from `target` (base plus
 * everything the earlier slices added). The two runs differ only where the worker met a
 * column that the earlier slices had already created in this call; the worker then created
 * it from its own first value. Its rows mean the same when:
 *
 * - it created the same type;
 * - `target` has double and the worker created bigint, and no value took a bigint-only
 *   path (`strict`): plain integers are written alike into both.
 *
 * Anything else (bigint vs double: one thread would have made `__v_double` variants; text vs bigint, timestamp vs text, a json column one thread would have
 * kept where the worker flattened or made a child table, differing flags) is a conflict.
 * Columns the worker did not create (system columns, hints) come out the same in every
 * worker; they are taken when `target` still has them as in `base`.
 */
export function mergeWorkerSchema(
  target: Schema,
  base: StoredSchema,
  typedBefore: Map<string, Set<string>>,
  worker: StoredSchema,
  created: Record<string, Record<string, CreatedColumn>>,
): boolean {
  const ops: Array<() => void> = [];
  for (const [name, wt] of Object.entries(worker.tables)) {
    const mt = target.tables[name];
    if (mt === undefined) {
      ops.push(() => {
        target.tables[name] = structuredClone(wt);
      });
      continue;
    }
    const bt = base.tables[name];
    const wc = created[name] ?? {};
    if (jsonKeptElsewhere(mt, wt, wc, worker, base, typedBefore.get(name))) return false;

    const wp = tableProps(wt);
    const mp = tableProps(mt);
    if (!same(wp, mp)) {
      if (bt !== undefined && same(mp, tableProps(bt))) {
        ops.push(() => {
          for (const k of Object.keys(mt)) if (k !== 'columns') delete (mt as unknown as Record<string, unknown>)[k];
          Object.assign(mt, structuredClone(wp));
        });
      } else if (bt === undefined || !same(wp, tableProps(bt))) {
        return false;
      }
    }

    for (const [cn, col] of Object.entries(wt.columns)) {
      const m = mt.columns[cn];
      const c = wc[cn];
      if (c !== undefined) {
        if (!isTyped(m)) {
          ops.push(() => {
            mt.columns[cn] = structuredClone(col);
          });
          continue;
        }
        if (!same(withoutType(m), withoutType(col))) return false;
        const type = mergedType(m.dataType, c);
        if (type === undefined) return false;
        if (type !== m.dataType) ops.push(() => (m.dataType = type));
        continue;
      }
      if (m !== undefined && same(m, col)) continue;
      const b = bt?.columns[cn];
      if (m === undefined || (b !== undefined && same(m, b))) {
        ops.push(() => {
          mt.columns[cn] = structuredClone(col);
        });
        continue;
      }
      if (b !== undefined && same(col, b)) continue;
      return false;
    }
  }
  for (const op of ops) op();
  return true;
}

/**
 * The type of a column that `target` has as `t` (created in this call by earlier slices)
 * after a worker that created it as `c.type` and ended with `final`; undefined on conflict.
 */
function mergedType(t: DataType, c: CreatedColumn): DataType | undefined {
  if (t === c.type) return t;
  if (t === 'double' && c.type === 'bigint' && !c.strict) return 'double';
  return undefined;
}

/**
 * `target` has a json column that earlier slices created (nesting ran out there) while this
 * worker, at a deeper level budget for the same path, flattened it (`col__x`) or made a child
 * table of it. One thread would have kept the value as json. (Only lists of lists reach a
 * table at two nesting levels, so this is rare.)
 */
function jsonKeptElsewhere(
  mt: TableSchema,
  wt: TableSchema,
  wc: Record<string, CreatedColumn>,
  worker: StoredSchema,
  base: StoredSchema,
  typedBefore: Set<string> | undefined,
): boolean {
  for (const j of Object.values(mt.columns)) {
    if (j.dataType !== 'json' || typedBefore?.has(j.name)) continue;
    if (wt.columns[j.name]?.dataType === 'json') continue;
    const prefix = j.name + PATH_SEPARATOR;
    for (const cn of Object.keys(wc)) {
      if (cn.startsWith(prefix) && !cn.startsWith(j.name + VARIANT_INFIX)) return true;
    }
    const child = mt.name + PATH_SEPARATOR + j.name;
    for (const tn of Object.keys(worker.tables)) {
      if ((tn === child || tn.startsWith(child + PATH_SEPARATOR)) && base.tables[tn] === undefined) return true;
    }
  }
  return false;
}
