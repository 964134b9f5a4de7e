import { digest128 } from '../common/digest.js';
import { DestinationError } from '../errors.js';
import { shortenPath } from '../schema/naming.js';
import type { DestinationClient } from '../destinations/types.js';
import type { RefreshPlan } from '../storage/package-state.js';
import type { SnapshotStore, TableBackup } from '../storage/snapshots.js';

/**
 * The one place a refresh plan reaches the destination. Without a snapshot the tables are
 * dropped or truncated. With one (a workflow step that a compensation may undo) they are
 * renamed aside under a backup name instead, so `restoreTableBackups` can put them back and
 * `dropTableBackups` removes them once the run succeeded; the load then re-creates the tables
 * the new schema keeps. Idempotent: a table already put aside is not touched again.
 */
export async function applyRefreshPlan(client: DestinationClient, plan: RefreshPlan, snapshot?: { store: SnapshotStore; id: string; loadId: string }): Promise<void> {
  await client.initializeStorage();
  if (!snapshot) {
    if (plan.dropTables.length) await client.dropTables(plan.dropTables);
    if (plan.truncateTables.length) await client.truncateTables(plan.truncateTables);
    return;
  }
  const { store, id, loadId } = snapshot;
  const existing = new Set(await client.listTables());
  const backups = store.readBackups(id);
  for (const table of new Set([...plan.dropTables, ...plan.truncateTables])) {
    if (backups.some((b) => b.table === table) || !existing.has(table)) continue;
    const backup = backupTableName(table, id, client.capabilities.maxIdentifierLength);
    // A backup of another snapshot under this name must never stand in for this one (its rows would be kept and the table's loaded again).
    if (existing.has(backup)) {
      throw new DestinationError(
        client.destinationName,
        `refresh cannot put table "${table}" aside: "${backup}" already exists and is not this run's backup (snapshot ${id}); rename or drop "${backup}" after checking what it holds, then run again`,
        { retryable: false },
      );
    }
    backups.push({ table, backup, loadId });
  }
  // Intent first: a crash between renames leaves a list the compensation can follow.
  store.writeBackups(id, backups);
  for (const b of backups) {
    if (existing.has(b.table) && !existing.has(b.backup)) await client.renameTable(b.table, b.backup);
  }
}

/** Puts tables a refresh renamed aside back, replacing whatever a failed load created under their names. */
export async function restoreTableBackups(client: DestinationClient, backups: TableBackup[]): Promise<void> {
  if (backups.length === 0) return;
  const existing = new Set(await client.listTables());
  for (const b of backups) {
    if (!existing.has(b.backup)) continue;
    if (existing.has(b.table)) await client.dropTables([b.table]);
    await client.renameTable(b.backup, b.table);
  }
}

export async function dropTableBackups(client: DestinationClient, backups: TableBackup[]): Promise<void> {
  if (backups.length) await client.dropTables(backups.map((b) => b.backup));
}

/**
 * `<table>__bak_<tag>`, the tag 8 characters hashed from the whole snapshot id (a workflow
 * run id: a UUIDv7's first characters are its time, the same for a minute), cut to the
 * destination's identifier limit as dlt cuts every name (schema/shorten.ts): head, a tag
 * hashed from the full name, tail. The tail keeps the suffix (it is 14 characters, the tail
 * half the limit), so backups of different snapshots and of tables sharing a prefix stay apart.
 */
export function backupTableName(table: string, snapshotId: string, maxLength: number): string {
  const tag = digest128(snapshotId).replace(/[^A-Za-z0-9]/g, '').slice(0, 8).toLowerCase();
  return shortenPath(`${table}__bak_${tag}`, maxLength);
}
