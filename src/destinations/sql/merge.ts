import { DestinationError } from '../../errors.js';
import type { Schema } from '../../schema/schema.js';
import { C_DLT_ID, C_DLT_ROOT_ID } from '../../schema/system.js';
import type { JobFile } from '../types.js';
import { columnsOf, type SqlCatalog } from './catalog.js';
import type { SqlDialect, SqlExecutor, TableRef } from './dialect.js';
import type { ColumnSchema } from '../../schema/types.js';

/** How a merge chain is written: its keys and how nested tables point to their root rows. */
export interface MergePlan {
  root: string;
  primaryKey: string[];
  mergeKey: string[];
  /** false: no primary or merge key, the chain is appended. */
  keyed: boolean;
  /** The root's `_dlt_id` column that nested rows point to. */
  rowKey: string;
  children: Array<{ table: string; rootKey: string }>;
}

export function mergePlan(destinationName: string, schema: Schema, root: string, tables: string[]): MergePlan {
  const rootTable = schema.getTable(root);
  const rootCols = rootTable ? Object.values(rootTable.columns).filter((c) => !c.incomplete) : [];
  const primaryKey = rootCols.filter((c) => c.primaryKey).map((c) => c.name);
  const mergeKey = rootCols.filter((c) => c.mergeKey).map((c) => c.name);
  const keyed = primaryKey.length > 0 || mergeKey.length > 0;
  const rowKey = rootCols.find((c) => c.rowKey)?.name ?? (rootTable?.columns[C_DLT_ID] ? C_DLT_ID : undefined);
  const children: Array<{ table: string; rootKey: string }> = [];
  for (const name of tables) {
    if (name === root) continue;
    const t = schema.getTable(name);
    if (!t) continue;
    const cols = Object.values(t.columns);
    const rootKey =
      cols.find((c) => c.rootKey)?.name ??
      (t.columns[C_DLT_ROOT_ID] ? C_DLT_ROOT_ID : undefined) ??
      (t.parent === root ? cols.find((c) => c.parentKey)?.name : undefined);
    if (keyed && rootKey === undefined) {
      throw new DestinationError(
        destinationName,
        `merge into "${root}": nested table "${name}" has no ${C_DLT_ROOT_ID} column, so its rows cannot be matched to their root rows; ` +
          'normalize merge tables with root keys',
      );
    }
    children.push({ table: name, rootKey: rootKey ?? C_DLT_ROOT_ID });
  }
  if (keyed && children.length > 0 && rowKey === undefined) {
    throw new DestinationError(destinationName, `merge into "${root}": the root table has no ${C_DLT_ID} column to link nested rows`);
  }
  return { root, primaryKey, mergeKey, keyed, rowKey: rowKey ?? C_DLT_ID, children };
}

/**
 * delete-insert, as dlt does it: stage the files, keep the last row per primary key, delete
 * destination rows matching a staged key (primary or merge key) together with their nested
 * rows, then insert the staged rows. Runs inside the caller's transaction.
 */
export async function mergeChain(
  tx: SqlExecutor,
  c: SqlCatalog,
  d: SqlDialect,
  schema: Schema,
  plan: MergePlan,
  tables: string[],
  files: JobFile[],
  loadFile: (tx: SqlExecutor, target: TableRef, columns: ColumnSchema[], job: JobFile) => Promise<number>,
): Promise<void> {
  const colList = (table: string, prefix = '') =>
    columnsOf(schema, table).map((col) => `${prefix}${c.q(col.name)}`).join(', ');

  // 1. staging tables, fresh for this chain
  for (const name of tables) {
    const defs = columnsOf(schema, name).map((col) => c.columnDef(col, false));
    if (name === plan.root) defs.push(...d.stagingExtraColumns());
    await tx.execute(`DROP TABLE IF EXISTS ${c.t(name, true)}`);
    await tx.execute(`CREATE TABLE ${c.t(name, true)} (${defs.join(', ')})`);
  }
  for (const f of files) await loadFile(tx, c.ref(f.table, true), columnsOf(schema, f.table), f);

  const sRoot = c.t(plan.root, true);
  const dRoot = c.t(plan.root);
  const pk = plan.primaryKey.map((k) => c.q(k));
  const mk = plan.mergeKey.map((k) => c.q(k));

  // 2. keep the last staged row per primary key
  if (pk.length > 0) {
    await tx.execute(
      `DELETE FROM ${sRoot} AS s0 WHERE ${d.stagingOrderBy('s0')} IN (` +
        `SELECT q._haul_o FROM (SELECT ${d.stagingOrderBy('s')} AS _haul_o, ROW_NUMBER() OVER (` +
        `PARTITION BY ${pk.map((k) => `s.${k}`).join(', ')} ORDER BY ${d.stagingOrderBy('s')} DESC) AS _haul_rn ` +
        `FROM ${sRoot} AS s) AS q WHERE q._haul_rn > 1)`,
    );
  }

  // 3. delete destination rows (nested first) whose key is staged
  const conds: string[] = [];
  if (pk.length > 0) conds.push(`(${pk.map((k) => `d.${k} = s.${k}`).join(' AND ')})`);
  if (mk.length > 0) conds.push(`(${mk.map((k) => `d.${k} = s.${k}`).join(' AND ')})`);
  const matched = `EXISTS (SELECT 1 FROM ${sRoot} AS s WHERE ${conds.join(' OR ')})`;
  const existing = await c.tableNames(tx, c.datasetName);
  for (const child of plan.children) {
    if (!existing.has(c.fold(child.table))) continue;
    await tx.execute(
      `DELETE FROM ${c.t(child.table)} WHERE ${c.q(child.rootKey)} IN (` +
        `SELECT d.${c.q(plan.rowKey)} FROM ${dRoot} AS d WHERE ${matched})`,
    );
  }
  await tx.execute(`DELETE FROM ${dRoot} AS d WHERE ${matched}`);

  // 4. insert staged rows: roots, then nested rows of the kept roots
  await tx.execute(`INSERT INTO ${dRoot} (${colList(plan.root)}) SELECT ${colList(plan.root)} FROM ${sRoot}`);
  for (const child of plan.children) {
    const only =
      pk.length > 0
        ? ` AS c WHERE c.${c.q(child.rootKey)} IN (SELECT r.${c.q(plan.rowKey)} FROM ${sRoot} AS r)`
        : '';
    await tx.execute(
      `INSERT INTO ${c.t(child.table)} (${colList(child.table)}) SELECT ${colList(child.table, pk.length > 0 ? 'c.' : '')} FROM ${c.t(child.table, true)}${only}`,
    );
  }

  // 5. staging tables are scratch space for this transaction only
  for (const name of tables) await tx.execute(`DROP TABLE IF EXISTS ${c.t(name, true)}`);
}
