import type { ColumnSchema } from '../../schema/types.js';
import { columnsOf } from './catalog.js';
import type { MergeContext } from './merge.js';

/** Staging root column holding each row's version hash until it replaces `_dlt_id`. */
const VERSION = '_haul_version';

/**
 * scd2, as dlt does it: a row's version is a hash of its user columns kept in `_dlt_id` (or a
 * column the user names). Active destination rows whose version is not staged are retired
 * (validTo = boundary) — all of them for a full extract, only those whose merge key is staged
 * when there is a merge key (compared column by column); staged versions that are not active
 * are inserted with validFrom = boundary and validTo = the active-record timestamp (null by
 * default). Nested rows carry no validity columns: they belong to a version through
 * `_dlt_root_id`, and a version that returns keeps the nested rows it had.
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

  if (hashed) await hashVersions(m, rootCols);

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

  // a returning version (same hash) already has its nested rows
  const existing = new Set((await m.existingChildren()).map((ch) => ch.table));
  await m.insertStagedChildren((ch) =>
    hashed && existing.has(ch.table)
      ? `NOT EXISTS (SELECT 1 FROM ${c.t(ch.table)} AS x WHERE x.${c.q(ch.rootKey)} = ch.${c.q(ch.rootKey)})`
      : undefined,
  );
}

/**
 * Puts each staged root row's version hash into `_dlt_id`: identical rows keep one copy, and
 * nested rows are re-pointed from the random id normalize gave to the hash. The hash covers
 * the user columns (not `_dlt_*` nor the validity columns), each value length-prefixed so
 * different rows cannot concatenate to the same text.
 */
async function hashVersions(m: MergeContext, rootCols: ColumnSchema[]): Promise<void> {
  const { c, d, plan, tx } = m;
  const s2 = plan.scd2!;
  const skip = new Set([s2.validFrom, s2.validTo]);
  const user = rootCols.filter((col) => !col.name.startsWith('_dlt_') && !skip.has(col.name));
  const part = (col: ColumnSchema) => {
    const v = `CAST(s.${c.q(col.name)} AS ${d.columnType({ dataType: 'text' })})`;
    return `COALESCE(CAST(LENGTH(${v}) AS ${d.columnType({ dataType: 'text' })}) || ':' || ${v}, '~')`;
  };
  const text = user.length > 0 ? user.map(part).join(` || '|' || `) : `''`;
  const v = c.q(VERSION);
  const textType = d.columnType({ dataType: 'text' });
  await tx.execute(`ALTER TABLE ${m.sRoot} ADD COLUMN ${v} ${textType}`);
  await tx.execute(`UPDATE ${m.sRoot} AS s SET ${v} = md5(${text})`);
  // identical rows: keep the first loaded, and only its nested rows
  await m.deleteStagedRanked(`PARTITION BY s.${v} ORDER BY ${d.stagingOrderBy('s')} ASC`);
  const rowKey = c.q(plan.rowKey);
  for (const ch of plan.children) {
    await tx.execute(`DELETE FROM ${c.t(ch.table, true)} WHERE ${c.q(ch.rootKey)} NOT IN (SELECT r.${rowKey} FROM ${m.sRoot} AS r)`);
    const sets = [`${c.q(ch.rootKey)} = r.${v}`];
    if (ch.parentIsRoot && ch.parentKey && ch.parentKey !== ch.rootKey) sets.push(`${c.q(ch.parentKey)} = r.${v}`);
    await tx.execute(`UPDATE ${c.t(ch.table, true)} AS ch SET ${sets.join(', ')} FROM ${m.sRoot} AS r WHERE ch.${c.q(ch.rootKey)} = r.${rowKey}`);
  }
  await tx.execute(`UPDATE ${m.sRoot} SET ${rowKey} = ${v}`);
}
