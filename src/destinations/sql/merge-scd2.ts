import type { ColumnSchema } from '../../schema/types.js';
import { columnsOf } from './catalog.js';
import type { MergeContext } from './merge.js';

/** Column of the hashed staging root that keeps the `_dlt_id` normalize gave (nested rows point to it). */
const OLD_ID = '_haul_old_id';
/** Scratch table the hashed staging root is built in before it takes the root's staging name. */
const HASHED = '_haul_scd2_rows';

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

  if (!hashed) {
    await m.insertStagedChildren();
    return;
  }
  // nested rows point to the id normalize gave their root: re-point them to the version, and
  // skip them when the version already has nested rows (it returns)
  const existing = new Set((await m.existingChildren()).map((ch) => ch.table));
  const rowKey = c.q(plan.rowKey);
  for (const ch of plan.children) {
    const cols = columnsOf(m.schema, ch.table).map((col) =>
      col.name === ch.rootKey || (ch.parentIsRoot && col.name === ch.parentKey) ? `r.${rowKey}` : `ch.${c.q(col.name)}`,
    );
    const fresh = existing.has(ch.table) ? ` WHERE NOT EXISTS (SELECT 1 FROM ${c.t(ch.table)} AS x WHERE x.${c.q(ch.rootKey)} = r.${rowKey})` : '';
    await tx.execute(
      `INSERT INTO ${c.t(ch.table)} (${m.cols(ch.table)}) SELECT ${cols.join(', ')} FROM ${c.t(ch.table, true)} AS ch ` +
        `JOIN ${m.sRoot} AS r ON ch.${c.q(ch.rootKey)} = r.${c.q(OLD_ID)}${fresh}`,
    );
  }
}

/**
 * Rebuilds the staging root with each row's version hash in `_dlt_id` (the id normalize gave
 * kept in `_haul_old_id`). Built with CREATE TABLE AS rather than UPDATE, which DuckDB cannot
 * spill to disk. The hash covers the user columns (not `_dlt_*` nor the validity columns), each
 * value length-prefixed so different rows cannot concatenate to the same text and null differs
 * from ''. Identical rows in one load stay two rows with the same version, as in dlt 1.31.
 */
async function hashVersions(m: MergeContext, rootCols: ColumnSchema[]): Promise<void> {
  const { c, d, plan, tx } = m;
  const s2 = plan.scd2!;
  const skip = new Set([s2.validFrom, s2.validTo]);
  const text = d.columnType({ dataType: 'text' });
  const user = rootCols.filter((col) => !col.name.startsWith('_dlt_') && !skip.has(col.name));
  const part = (col: ColumnSchema) => {
    const v = `CAST(s.${c.q(col.name)} AS ${text})`;
    return `COALESCE(CAST(LENGTH(${v}) AS ${text}) || ':' || ${v}, '~')`;
  };
  const hash = `md5(${user.length > 0 ? user.map(part).join(` || '|' || `) : `''`})`;
  const hashedRef = c.t(HASHED, true);
  const cols = rootCols.map((col) => (col.name === plan.rowKey ? `${hash} AS ${c.q(col.name)}` : `s.${c.q(col.name)}`));
  await tx.execute(`DROP TABLE IF EXISTS ${hashedRef}`);
  await tx.execute(`CREATE TABLE ${hashedRef} AS SELECT ${cols.join(', ')}, s.${c.q(plan.rowKey)} AS ${c.q(OLD_ID)} FROM ${m.sRoot} AS s`);
  await tx.execute(`DROP TABLE ${m.sRoot}`);
  await tx.execute(`ALTER TABLE ${hashedRef} RENAME TO ${c.q(plan.root)}`);
}
