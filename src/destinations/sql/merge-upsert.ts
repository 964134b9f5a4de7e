import { DestinationError } from '../../errors.js';
import type { MergeContext } from './merge.js';

/**
 * upsert, as dlt does it: no deduplication (a primary key staged twice is refused), delete
 * markers delete their key (one whose key is new is inserted, as dlt's MERGE inserts it),
 * other rows replace the destination row of their key or are inserted; nested rows of every
 * staged key are replaced. The update is a delete of the
 * staged keys plus an insert: the same rows as UPDATE/MERGE, and DuckDB can spill it to disk
 * (an UPDATE's undo it cannot).
 */
export async function upsert(m: MergeContext, destinationName: string): Promise<void> {
  const { c, plan, tx } = m;
  const pk = plan.primaryKey;
  const dup = await tx.query<{ n: unknown }>(
    `SELECT count(*) AS n FROM (SELECT 1 AS x FROM ${m.sRoot} AS s GROUP BY ${pk.map((k) => `s.${c.q(k)}`).join(', ')} HAVING count(*) > 1) AS q`,
  );
  if (Number(dup[0]?.n ?? 0) > 0) {
    throw new DestinationError(
      destinationName,
      `upsert into "${plan.root}": ${Number(dup[0]!.n)} primary key value(s) of (${pk.join(', ')}) occur more than once in this load; ` +
        "upsert does not deduplicate (as in dlt): make the key unique or use strategy 'delete-insert'",
    );
  }
  if (plan.hardDelete) {
    // dlt's MERGE inserts a delete marker whose key the table does not have (its WHEN NOT
    // MATCHED has no condition), without its nested rows: in first, then out of the staged set
    await tx.execute(
      `INSERT INTO ${m.dRoot} (${m.cols(plan.root)}) SELECT ${m.cols(plan.root)} FROM ${m.sRoot} AS s ` +
        `WHERE ${m.deleted('s')} AND NOT EXISTS (SELECT 1 FROM ${m.dRoot} AS d WHERE ${m.keyMatch(pk, 'd', 's')})`,
    );
    const rk = m.c.q(plan.rowKey);
    await tx.execute(`DELETE FROM ${m.sRoot} AS s WHERE ${m.deleted('s')} AND EXISTS (SELECT 1 FROM ${m.dRoot} AS d WHERE d.${rk} = s.${rk})`);
  }
  const staged = `EXISTS (SELECT 1 FROM ${m.sRoot} AS s WHERE ${m.keyMatch(pk, 'd', 's')})`;
  await m.deleteChildrenOf(staged);
  await tx.execute(`DELETE FROM ${m.dRoot} AS d WHERE ${staged}`);
  if (plan.hardDelete) await tx.execute(`DELETE FROM ${m.sRoot} AS s WHERE ${m.deleted('s')}`);
  await tx.execute(`INSERT INTO ${m.dRoot} (${m.cols(plan.root)}) SELECT ${m.cols(plan.root)} FROM ${m.sRoot}`);
  await m.insertStagedChildren();
}

/**
 * insert-only, as dlt does it: staged rows whose primary key the destination already has are
 * skipped (existing rows and their nested rows stay as they are), the others inserted without
 * deduplication (a key staged twice lands twice, as in dlt). Delete markers are never
 * inserted and delete nothing.
 */
export async function insertOnly(m: MergeContext): Promise<void> {
  const { plan, tx } = m;
  await tx.execute(
    `DELETE FROM ${m.sRoot} AS s WHERE ${m.deleted('s')} OR EXISTS (SELECT 1 FROM ${m.dRoot} AS d WHERE ${m.keyMatch(plan.primaryKey, 'd', 's')})`,
  );
  await tx.execute(`INSERT INTO ${m.dRoot} (${m.cols(plan.root)}) SELECT ${m.cols(plan.root)} FROM ${m.sRoot}`);
  await m.insertStagedChildren();
}
