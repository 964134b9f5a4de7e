import { InvalidOptionsError } from '../errors.js';
import type { ColumnSchema, MergeStrategy, TableSchema, WriteDisposition, WriteDispositionConfig } from './types.js';

/** dlt's default scd2 validity columns. */
export const DEFAULT_VALIDITY_COLUMNS: [string, string] = ['_dlt_valid_from', '_dlt_valid_to'];

/** The disposition name of a shorthand or config dict. */
export function dispositionName(config: WriteDispositionConfig): WriteDisposition {
  return typeof config === 'string' ? config : config.disposition;
}

function isoTime(where: string, v: string | Date): string {
  const ms = v instanceof Date ? v.getTime() : Date.parse(v);
  if (!Number.isFinite(ms)) throw new InvalidOptionsError(where, `${String(v)} is not a date or timestamp (use ISO 8601, e.g. 9999-12-31)`);
  return new Date(ms).toISOString();
}

/**
 * Puts a write disposition (shorthand or dict) on a root table: the disposition, the merge
 * strategy and, for scd2, its settings and validity columns (timestamps, nullable), which
 * exist before any data as dlt's do. `name` normalizes user column names.
 */
export function applyWriteDisposition(t: TableSchema, config: WriteDispositionConfig, name: (s: string) => string): void {
  t.writeDisposition = dispositionName(config);
  delete t.mergeStrategy;
  delete t.scd2;
  if (t.writeDisposition !== 'merge') return;
  const strategy: MergeStrategy = typeof config === 'object' && config.disposition === 'merge' ? (config.strategy ?? 'delete-insert') : 'delete-insert';
  // always explicit on a merge table: a later schema merge overwrites it (an absent key would not)
  t.mergeStrategy = strategy;
  if (typeof config === 'string' || config.disposition !== 'merge') return;
  const where = `writeDisposition of table "${t.name}"`;
  if (strategy !== 'scd2') {
    for (const k of ['validityColumnNames', 'activeRecordTimestamp', 'boundaryTimestamp', 'rowVersionColumnName'] as const) {
      if (config[k] != null) throw new InvalidOptionsError(where, `${k} applies to strategy 'scd2' only (strategy is '${strategy}')`);
    }
    return;
  }
  const [from, to] = (config.validityColumnNames ?? DEFAULT_VALIDITY_COLUMNS).map(name) as [string, string];
  if (from === to) throw new InvalidOptionsError(where, `validityColumnNames must name two different columns (got "${from}" twice)`);
  t.scd2 = { validFrom: from, validTo: to };
  if (config.activeRecordTimestamp != null) t.scd2.activeRecordTimestamp = isoTime(`${where}: activeRecordTimestamp`, config.activeRecordTimestamp);
  if (config.boundaryTimestamp != null) t.scd2.boundaryTimestamp = isoTime(`${where}: boundaryTimestamp`, config.boundaryTimestamp);
  if (config.rowVersionColumnName !== undefined) {
    const rv = name(config.rowVersionColumnName);
    t.scd2.rowVersionColumnName = rv;
    // NOT NULL, as dlt hints it: a null version never equals the stored one, so the row
    // would be retired and inserted again on every run (NullValueError instead)
    const col: ColumnSchema = (t.columns[rv] ??= { name: rv, dataType: 'text', nullable: false, incomplete: true });
    col.nullable = false;
  }
  for (const c of [from, to]) {
    const col: ColumnSchema = t.columns[c] ?? { name: c, dataType: 'timestamp', nullable: true };
    col.dataType = 'timestamp';
    col.nullable = true;
    delete col.incomplete;
    t.columns[c] = col;
  }
}

/** The merge strategy of a root table (delete-insert when none is set or it is not a merge table). */
export function mergeStrategyOf(t: TableSchema): MergeStrategy {
  return t.writeDisposition === 'merge' ? (t.mergeStrategy ?? 'delete-insert') : 'delete-insert';
}

/**
 * Whether nested rows of this root carry `_dlt_root_id` (dlt's requires_root_key): merges that
 * delete or replace a root row's nested rows need it (delete-insert, upsert, insert-only), and
 * so does scd2 with the user's own row version column (haul links the nested rows of the
 * versions it inserts through it). scd2 with its hashed version does not: a nested row's
 * `_dlt_id` follows from its version's, so dlt and haul insert the nested rows whose ids are
 * new. A chain whose nested tables already have a root key keeps getting it.
 */
export function needsRootKey(root: TableSchema, chain: readonly TableSchema[]): boolean {
  if (root.writeDisposition === 'merge' && (mergeStrategyOf(root) !== 'scd2' || root.scd2?.rowVersionColumnName !== undefined)) return true;
  return chain.some((t) => t !== root && Object.values(t.columns).some((c) => c.rootKey));
}

/** Refuses hint combinations dlt refuses: upsert and insert-only need a primary key, etc. */
export function checkMergeHints(t: TableSchema): void {
  if (t.writeDisposition !== 'merge') return;
  const strategy = mergeStrategyOf(t);
  const cols = Object.values(t.columns);
  const pk = cols.filter((c) => c.primaryKey);
  const where = `merge hints of table "${t.name}"`;
  if ((strategy === 'upsert' || strategy === 'insert-only') && pk.length === 0) {
    throw new InvalidOptionsError(where, `strategy '${strategy}' needs a primary key: pass primaryKey on the resource (or use strategy 'delete-insert')`);
  }
  if (strategy === 'upsert' && cols.some((c) => c.mergeKey)) {
    throw new InvalidOptionsError(where, `strategy 'upsert' matches rows on the primary key only: remove mergeKey (or use strategy 'delete-insert')`);
  }
  if (cols.filter((c) => c.hardDelete).length > 1) {
    throw new InvalidOptionsError(where, `only one column may have hardDelete (got ${cols.filter((c) => c.hardDelete).map((c) => c.name).join(', ')})`);
  }
  if (cols.filter((c) => c.dedupSort).length > 1) {
    throw new InvalidOptionsError(where, `only one column may have dedupSort (got ${cols.filter((c) => c.dedupSort).map((c) => c.name).join(', ')})`);
  }
}
