import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, writeJsonFileAtomic } from '../common/json-file.js';
import { InvalidOptionsError } from '../errors.js';
import { SNAPSHOTS_DIR } from './layout.js';

/** A table a refresh renamed aside at the destination, so a compensation can put it back. */
export interface TableBackup {
  table: string;
  backup: string;
  /** The package whose refresh put it aside (absent in snapshots taken before this was recorded). */
  loadId?: string;
}

const COMPLETE = 'complete';
const SNAPSHOT_ID = /^[A-Za-z0-9_.-]+$/;
const BACKUPS = 'backups.json';

/**
 * Snapshots of the committed state and schemas (`snapshots/<id>/`), taken before a
 * destructive workflow step so its compensation can restore them, plus the list of tables
 * that step renamed aside at the destination. A snapshot counts only once its `complete`
 * marker exists; every operation is idempotent, since an activity may run twice.
 */
export class SnapshotStore {
  constructor(private readonly workingDir: string, private readonly statePath: string, private readonly schemasDir: string) {}

  private dirOf(id: string): string {
    if (!SNAPSHOT_ID.test(id)) throw new InvalidOptionsError('snapshot id', `${JSON.stringify(id)} must be letters, digits, _ . -`);
    return join(this.workingDir, SNAPSHOTS_DIR, id);
  }

  exists(id: string): boolean {
    return existsSync(join(this.dirOf(id), COMPLETE));
  }

  /** The ids of the complete snapshots. */
  list(): string[] {
    const root = join(this.workingDir, SNAPSHOTS_DIR);
    if (!existsSync(root)) return [];
    return readdirSync(root).filter((id) => SNAPSHOT_ID.test(id) && !id.endsWith('.tmp') && this.exists(id));
  }

  /** Copies state.json and schemas/ aside; an existing snapshot is kept. */
  take(id: string): void {
    const dir = this.dirOf(id);
    if (this.exists(id)) return;
    const tmp = `${dir}.tmp`; // same parent dir, so the final rename is atomic
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(join(tmp, 'schemas'), { recursive: true });
    if (existsSync(this.statePath)) cpSync(this.statePath, join(tmp, 'state.json'));
    if (existsSync(this.schemasDir)) cpSync(this.schemasDir, join(tmp, 'schemas'), { recursive: true });
    writeJsonFileAtomic(join(tmp, COMPLETE), { takenAt: new Date().toISOString() });
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(this.workingDir, SNAPSHOTS_DIR), { recursive: true });
    renameSync(tmp, dir);
  }

  /** Puts the snapshot's state.json and schemas back (schemas it did not have are removed). */
  restoreLocal(id: string): void {
    const dir = this.dirOf(id);
    if (existsSync(join(dir, 'state.json'))) cpSync(join(dir, 'state.json'), this.statePath);
    else rmSync(this.statePath, { force: true });
    const names = existsSync(join(dir, 'schemas')) ? readdirSync(join(dir, 'schemas')) : [];
    if (existsSync(this.schemasDir)) {
      for (const f of readdirSync(this.schemasDir)) if (!names.includes(f)) rmSync(join(this.schemasDir, f), { force: true });
    }
    mkdirSync(this.schemasDir, { recursive: true });
    for (const f of names) cpSync(join(dir, 'schemas', f), join(this.schemasDir, f));
  }

  readBackups(id: string): TableBackup[] {
    const p = join(this.dirOf(id), BACKUPS);
    return existsSync(p) ? readJsonFile<TableBackup[]>(p) : [];
  }

  /** Written before the renames it lists (intent first), so a crash in between can be followed. */
  writeBackups(id: string, backups: TableBackup[]): void {
    writeJsonFileAtomic(join(this.dirOf(id), BACKUPS), backups);
  }

  discard(id: string): void {
    rmSync(this.dirOf(id), { recursive: true, force: true });
  }
}
