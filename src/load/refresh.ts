import { createHash } from 'node:crypto';
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
export async function applyRefreshPlan(client: DestinationClient, plan: RefreshPlan, snapshot?: { store: SnapshotStore; id: string }): Promise<void> {
  await client.initializeStorage();
  if (!snapshot) {
    if (plan.dropTables.length) await client.dropTables(plan.dropTables);
    if (plan.truncateTables.length) await client.truncateTables(plan.truncateTables);
    return;
  }
  const { store, id } = snapshot;
  const existing = new Set(await client.listTables());
  const backups = store.readBackups(id);
  for (const table of new Set([...plan.dropTables, ...plan.truncateTables])) {
    if (backups.some((b) => b.table === table) || !existing.has(table)) continue;
    backups.push({ table, backup: backupTableName(table, id, client.capabilities.maxIdentifierLength) });
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
 * `<table>__bak_<id>`, cut to the destination's identifier limit: the table part shrinks and
 * gains a hash of the full name; the suffix stays, so backups of different snapshots never collide.
 */
export function backupTableName(table: string, snapshotId: string, maxLength: number): string {
  const suffix = `__bak_${snapshotId.replace(/[^A-Za-z0-9]/g, '').slice(0, 8)}`;
  if (Buffer.byteLength(table + suffix) <= maxLength) return table + suffix;
  // Cut: a hash of the whole name keeps two long tables with one prefix apart.
  const tag = `_${createHash('sha256').update(table).digest('hex').slice(0, 8)}`;
  let head = table;
  while (head.length > 1 && Buffer.byteLength(head + tag + suffix) > maxLength) head = head.slice(0, -1);
  return head + tag + suffix;
}
