import { MissingPrimaryKeyError } from '../errors.js';
import type { Schema } from '../schema/schema.js';

/**
 * A merge table that got rows in this package must have a value for each primary key
 * column in some row. A key column still without a type (a hint only) never had a value:
 * the merge would find no key and append every row, silently. dlt loads such data as an
 * append; haul refuses it (see README.md in this folder).
 */
export function checkMergeKeys(schema: Schema, rowCounts: Record<string, number>, loadId: string): void {
  for (const [name, rows] of Object.entries(rowCounts)) {
    const table = schema.getTable(name);
    if (!table || table.parent || rows === 0 || table.writeDisposition !== 'merge') continue;
    for (const col of Object.values(table.columns)) {
      if (col.primaryKey && col.incomplete) throw new MissingPrimaryKeyError(name, col.name, loadId);
    }
  }
}
