import { DestinationError } from '../../errors.js';
import type { Schema } from '../../schema/schema.js';
import { C_DLT_ID, C_DLT_LOAD_ID, C_DLT_ROOT_ID } from '../../schema/system.js';
import type { ColumnSchema, MergeStrategy, Scd2Settings } from '../../schema/types.js';
import { mergeStrategyOf } from '../../schema/write-disposition.js';
import type { JobFile } from '../types.js';
import { columnsOf, rootKeyOf, type SqlCatalog } from './catalog.js';
import type { SqlDialect, SqlExecutor, TableRef } from './dialect.js';

/** How a merge chain is written: its strategy, keys and how nested tables point to their root rows. */
export interface MergePlan {
  root: string;
  strategy: MergeStrategy;
  primaryKey: string[];
  mergeKey: string[];
  /** false: delete-insert without a primary or merge key, the chain is appended. */
  keyed: boolean;
  /** The root's `_dlt_id` column that nested rows point to. */
  rowKey: string;
  children: Array<{ table: string; rootKey: string; parentKey?: string; parentIsRoot: boolean }>;
  /** The column whose truthy value deletes the row's key (dlt's hard_delete). */
  hardDelete?: ColumnSchema;
  /** Which duplicate of a primary key wins (dlt's dedup_sort). */
  dedupSort?: { column: string; order: 'asc' | 'desc' };
  scd2?: Scd2Settings;
}

export function mergePlan(destinationName: string, schema: Schema, root: string, tables: string[]): MergePlan {
  const rootTable = schema.getTable(root);
  const rootCols = rootTable ? Object.values(rootTable.columns).filter((c) => !c.incomplete) : [];
  const strategy = rootTable ? mergeStrategyOf(rootTable) : 'delete-insert';
  const primaryKey = rootCols.filter((c) => c.primaryKey).map((c) => c.name);
  const mergeKey = rootCols.filter((c) => c.mergeKey).map((c) => c.name);
  if ((strategy === 'upsert' || strategy === 'insert-only') && primaryKey.length === 0) {
    throw new DestinationError(destinationName, `merge into "${root}": strategy '${strategy}' needs a primary key; pass primaryKey on the resource`);
  }
  const keyed = strategy !== 'delete-insert' || primaryKey.length > 0 || mergeKey.length > 0;
  const rowKey = rootCols.find((c) => c.rowKey)?.name ?? (rootTable?.columns[C_DLT_ID] ? C_DLT_ID : undefined);
  // scd2's hashed versions link nested rows by their own ids (merge-scd2.ts), not by a root key
  const hashedScd2 = strategy === 'scd2' && rootTable?.scd2?.rowVersionColumnName === undefined;
  const children: MergePlan['children'] = [];
  for (const name of tables) {
    if (name === root) continue;
    const t = schema.getTable(name);
    if (!t) continue;
    const cols = Object.values(t.columns);
    const parentKey = cols.find((c) => c.parentKey)?.name;
    const rootKey =
      rootKeyOf(t) ?? (t.parent === root ? parentKey : undefined);
    if (keyed && !hashedScd2 && rootKey === undefined) {
      throw new DestinationError(
        destinationName,
        `merge into "${root}": nested table "${name}" has no ${C_DLT_ROOT_ID} column, so its rows cannot be matched to their root rows; ` +
          'normalize merge tables with root keys',
      );
    }
    children.push({ table: name, rootKey: rootKey ?? C_DLT_ROOT_ID, parentKey, parentIsRoot: t.parent === root });
  }
  if (keyed && (children.length > 0 || strategy === 'scd2') && rowKey === undefined) {
    throw new DestinationError(destinationName, `merge into "${root}": the root table has no ${C_DLT_ID} column to link nested rows`);
  }
  const hardDelete = rootCols.find((c) => c.hardDelete);
  const sortCol = rootCols.find((c) => c.dedupSort);
  const plan: MergePlan = { root, strategy, primaryKey, mergeKey, keyed, rowKey: rowKey ?? C_DLT_ID, children };
  if (hardDelete) plan.hardDelete = hardDelete;
  if (sortCol?.dedupSort) plan.dedupSort = { column: sortCol.name, order: sortCol.dedupSort };
  if (strategy === 'scd2' && rootTable?.scd2) plan.scd2 = rootTable.scd2;
  return plan;
}

export type LoadFile = (tx: SqlExecutor, target: TableRef, columns: ColumnSchema[], job: JobFile) => Promise<number>;

/** What every strategy works with: the chain's staged tables and how to write SQL over them. */
export class MergeContext {
  constructor(
    readonly tx: SqlExecutor,
    readonly c: SqlCatalog,
    readonly d: SqlDialect,
    readonly schema: Schema,
    readonly plan: MergePlan,
    readonly tables: string[],
  ) {}

  get sRoot(): string {
    return this.c.t(this.plan.root, true);
  }
  get dRoot(): string {
    return this.c.t(this.plan.root);
  }

  cols(table: string, prefix = ''): string {
    return columnsOf(this.schema, table).map((col) => `${prefix}${this.c.q(col.name)}`).join(', ');
  }

  /** `a.k1 = b.k1 AND a.k2 = b.k2`: compound keys compare column by column. */
  keyMatch(keys: string[], a: string, b: string): string {
    return keys.map((k) => `${a}.${this.c.q(k)} = ${b}.${this.c.q(k)}`).join(' AND ');
  }

  /** Whether a staged row (alias) is a delete: bool true, or any non-null value of another type. */
  deleted(alias: string): string {
    const h = this.plan.hardDelete;
    if (!h) return 'FALSE';
    const col = `${alias}.${this.c.q(h.name)}`;
    return h.dataType === 'bool' ? `(${col} IS TRUE)` : `(${col} IS NOT NULL)`;
  }

  /** Creates the staging tables afresh and loads the chain's files into them. */
  async stage(files: JobFile[], loadFile: LoadFile): Promise<void> {
    const { c, d, tx } = this;
    for (const name of this.tables) {
      const defs = columnsOf(this.schema, name).map((col) => c.columnDef(col, false));
      if (name === this.plan.root) defs.push(...d.stagingExtraColumns());
      await tx.execute(`DROP TABLE IF EXISTS ${c.t(name, true)}`);
      await tx.execute(`CREATE TABLE ${c.t(name, true)} (${defs.join(', ')})`);
    }
    for (const f of files) await loadFile(tx, c.ref(f.table, true), columnsOf(this.schema, f.table), f);
  }

  /** Staging tables are scratch space for this transaction only. */
  async dropStaging(): Promise<void> {
    for (const name of this.tables) await this.tx.execute(`DROP TABLE IF EXISTS ${this.c.t(name, true)}`);
  }

  /**
   * Keeps one staged row per primary key: with dedupSort the highest (desc) or lowest (asc)
   * value wins and ties keep the first row loaded, as in dlt; without it the last row loaded.
   * Null sort values lose on both databases.
   */
  async dedupByPrimaryKey(): Promise<void> {
    const { c, d } = this;
    const pk = this.plan.primaryKey.map((k) => `s.${c.q(k)}`);
    if (pk.length === 0) return;
    const s = this.plan.dedupSort;
    const order = s
      ? `s.${c.q(s.column)} ${s.order === 'desc' ? 'DESC' : 'ASC'} NULLS LAST, ${d.stagingOrderBy('s')} ASC`
      : `${d.stagingOrderBy('s')} DESC`;
    await this.deleteStagedRanked(`PARTITION BY ${pk.join(', ')} ORDER BY ${order}`);
  }

  /** Deletes staged root rows ranked after the first in their window. */
  async deleteStagedRanked(window: string): Promise<void> {
    const { d } = this;
    await this.tx.execute(
      `DELETE FROM ${this.sRoot} AS s0 WHERE ${d.stagingOrderBy('s0')} IN (` +
        `SELECT q._haul_o FROM (SELECT ${d.stagingOrderBy('s')} AS _haul_o, ROW_NUMBER() OVER (${window}) AS _haul_rn ` +
        `FROM ${this.sRoot} AS s) AS q WHERE q._haul_rn > 1)`,
    );
  }

  /** Nested tables that exist in the dataset (a first load may have none yet). */
  async existingChildren(): Promise<MergePlan['children']> {
    const existing = await this.c.tableNames(this.tx, this.c.datasetName);
    return this.plan.children.filter((ch) => existing.has(this.c.fold(ch.table)));
  }

  /** Deletes destination nested rows whose root row matches `rootWhere` (over alias d). */
  async deleteChildrenOf(rootWhere: string, params: unknown[] = []): Promise<void> {
    const { c } = this;
    for (const ch of await this.existingChildren()) {
      await this.tx.execute(
        `DELETE FROM ${c.t(ch.table)} WHERE ${c.q(ch.rootKey)} IN (SELECT d.${c.q(this.plan.rowKey)} FROM ${this.dRoot} AS d WHERE ${rootWhere})`,
        params,
      );
    }
  }

  /** Inserts staged nested rows whose root row is (still) staged; `extra` filters more (alias ch). */
  async insertStagedChildren(extra?: (ch: MergePlan['children'][number]) => string | undefined): Promise<void> {
    const { c } = this;
    for (const ch of this.plan.children) {
      const more = extra?.(ch);
      await this.tx.execute(
        `INSERT INTO ${c.t(ch.table)} (${this.cols(ch.table)}) SELECT ${this.cols(ch.table, 'ch.')} FROM ${c.t(ch.table, true)} AS ch ` +
          `WHERE ch.${c.q(ch.rootKey)} IN (SELECT r.${c.q(this.plan.rowKey)} FROM ${this.sRoot} AS r)${more ? ` AND ${more}` : ''}`,
      );
    }
  }
}

/**
 * delete-insert, as dlt does it: keep one staged row per primary key, delete destination rows
 * matching a staged key (primary or merge key, delete markers included) with their nested
 * rows, then insert the staged rows that are not delete markers.
 */
export async function deleteInsert(m: MergeContext): Promise<void> {
  const { plan } = m;
  await m.dedupByPrimaryKey();
  const conds: string[] = [];
  if (plan.primaryKey.length > 0) conds.push(`(${m.keyMatch(plan.primaryKey, 'd', 's')})`);
  if (plan.mergeKey.length > 0) conds.push(`(${m.keyMatch(plan.mergeKey, 'd', 's')})`);
  const matched = `EXISTS (SELECT 1 FROM ${m.sRoot} AS s WHERE ${conds.join(' OR ')})`;
  await m.deleteChildrenOf(matched);
  await m.tx.execute(`DELETE FROM ${m.dRoot} AS d WHERE ${matched}`);
  if (plan.hardDelete) await m.tx.execute(`DELETE FROM ${m.sRoot} AS s WHERE ${m.deleted('s')}`);
  await m.tx.execute(`INSERT INTO ${m.dRoot} (${m.cols(plan.root)}) SELECT ${m.cols(plan.root)} FROM ${m.sRoot}`);
  await m.insertStagedChildren();
}

/**
 * A merge without a primary or merge key appends, as in dlt; its delete markers (a hard_delete
 * column saying deleted) are not stored, as dlt leaves them out. The chain's files are loaded;
 * this removes this load's marker rows and the nested rows under them.
 */
export async function dropAppendedDeleteMarkers(tx: SqlExecutor, c: SqlCatalog, schema: Schema, plan: MergePlan, loadId: string): Promise<void> {
  const h = plan.hardDelete;
  if (!h) return;
  const col = `r.${c.q(h.name)}`;
  const markers = `SELECT r.${c.q(C_DLT_ID)} FROM ${c.t(plan.root)} AS r WHERE r.${c.q(C_DLT_LOAD_ID)} = $1 AND ${h.dataType === 'bool' ? `${col} IS TRUE` : `${col} IS NOT NULL`}`;
  // the ids under the markers, table by table down the chain; deleted deepest first
  const idsUnder = new Map<string, string>([[plan.root, markers]]);
  const order: string[] = [];
  const existing = await c.tableNames(tx, c.datasetName);
  const depth = (t: string): number => (schema.getTable(t)?.parent === undefined ? 0 : 1 + depth(schema.getTable(t)!.parent!));
  for (const ch of [...plan.children].sort((a, b) => depth(a.table) - depth(b.table))) {
    const parent = schema.getTable(ch.table)?.parent;
    const parentIds = parent === undefined ? undefined : idsUnder.get(parent);
    if (parentIds === undefined || ch.parentKey === undefined || !existing.has(c.fold(ch.table))) continue;
    idsUnder.set(ch.table, `SELECT ${c.q(C_DLT_ID)} FROM ${c.t(ch.table)} WHERE ${c.q(ch.parentKey)} IN (${parentIds})`);
    order.push(ch.table);
  }
  for (const table of order.reverse()) {
    const parent = schema.getTable(table)!.parent!;
    const parentKey = plan.children.find((ch) => ch.table === table)!.parentKey!;
    await tx.execute(`DELETE FROM ${c.t(table)} WHERE ${c.q(parentKey)} IN (${idsUnder.get(parent)})`, [loadId]);
  }
  await tx.execute(`DELETE FROM ${c.t(plan.root)} WHERE ${c.q(C_DLT_ID)} IN (${markers})`, [loadId]);
}
