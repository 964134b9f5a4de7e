import type { ColumnSchema } from '../../schema/types.js';
import { C_DLT_ID } from '../../schema/system.js';
import { columnsOf } from './catalog.js';
import type { MergeContext } from './merge.js';


/**
 * scd2, as dlt does it: a row's version is the hash of its whole item (nested lists
 * included), which normalize put in `_dlt_id` (src/normalize/content-id.ts), or a column the
 * user names. Active destination rows whose version is not staged are retired
 * (validTo = boundary) — all of them for a full extract, only those whose merge key is staged
 * when there is a merge key (compared column by column); staged versions that are not active
 * are inserted with validFrom = boundary and validTo = the active-record timestamp (null by
 * default). Nested rows carry no validity columns: they belong to a version through their
 * parent ids, and a version that returns keeps the nested rows it had.
 */
export async function scd2(m: MergeContext, boundary: string): Promise<void> {
  const { c, plan, tx } = m;
  const s2 = plan.scd2!;
  const rootCols = columnsOf(m.schema, plan.root);
  const colOf = (name: string) => rootCols.find((col) => col.name === name)!;
  const fromCol = colOf(s2.validFrom);
  const toCol = colOf(s2.validTo);
  const hashed = s2.rowVersionColumnName === undefined;
  const version = c.q(s2.rowVersionColumnName ?? plan.rowKey);
  const active = s2.activeRecordTimestamp;
  // $1 boundary, $2 active-record timestamp (when set)
  const params: unknown[] = active === undefined ? [boundary] : [boundary, active];
  const isActive = (a: string, param = 2) =>
    active === undefined ? `${a}.${c.q(toCol.name)} IS NULL` : `${a}.${c.q(toCol.name)} = ${c.cast(param, toCol)}`;

  // retire active versions that were not staged (within staged merge-key partitions, if any)
  const notStaged = `NOT EXISTS (SELECT 1 FROM ${m.sRoot} AS s WHERE s.${version} = d.${version} AND NOT ${m.deleted('s')})`;
  const inPartition = plan.mergeKey.length > 0 ? ` AND EXISTS (SELECT 1 FROM ${m.sRoot} AS s WHERE ${m.keyMatch(plan.mergeKey, 's', 'd')})` : '';
  await tx.execute(`UPDATE ${m.dRoot} AS d SET ${c.q(toCol.name)} = ${c.cast(1, toCol)} WHERE ${isActive('d')} AND ${notStaged}${inPartition}`, params);

  // staged versions that are still active, and delete markers, are not inserted
  await tx.execute(
    `DELETE FROM ${m.sRoot} AS s WHERE ${m.deleted('s')} OR EXISTS (SELECT 1 FROM ${m.dRoot} AS d WHERE d.${version} = s.${version} AND ${isActive('d', 1)})`,
    active === undefined ? [] : [active],
  );
  const select = rootCols.map((col) =>
    col.name === fromCol.name ? c.cast(1, fromCol) : col.name === toCol.name ? (active === undefined ? 'NULL' : c.cast(2, toCol)) : `s.${c.q(col.name)}`,
  );
  await tx.execute(`INSERT INTO ${m.dRoot} (${m.cols(plan.root)}) SELECT ${select.join(', ')} FROM ${m.sRoot} AS s`, params);

  if (!hashed) {
    await m.insertStagedChildren();
    return;
  }
  // nested rows already point to their version (their ids follow from its content id): as
  // dlt, insert the staged nested rows whose ids are new, once (identical items in one load
  // share them). A version still active, or one that returns, has its nested rows already.
  const existing = new Set((await m.existingChildren()).map((ch) => ch.table));
  for (const ch of plan.children) {
    const id = c.q(rowKeyOf(m.schema, ch.table));
    const fresh = existing.has(ch.table) ? ` WHERE NOT EXISTS (SELECT 1 FROM ${c.t(ch.table)} AS x WHERE x.${id} = ch.${id})` : '';
    await tx.execute(`INSERT INTO ${c.t(ch.table)} (${m.cols(ch.table)}) SELECT DISTINCT ${m.cols(ch.table)} FROM ${c.t(ch.table, true)} AS ch${fresh}`);
  }
}

/** A nested table's row id column. */
function rowKeyOf(schema: MergeContext['schema'], table: string): string {
  const cols = Object.values(schema.getTable(table)?.columns ?? {});
  return cols.find((col) => col.rowKey)?.name ?? C_DLT_ID;
}
