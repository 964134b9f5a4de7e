import { MissingPrimaryKeyError, UnboundColumnError } from '../errors.js';
import type { Schema } from '../schema/schema.js';

/**
 * A table that got rows in this package must have a value, in some row, for each column hinted
 * as a key or not nullable: a column still without a type (a hint only) never had one.
 * - merge primary keys: the merge would find no key and append every row, silently (dlt loads
 *   such data as an append; haul refuses it, see README.md in this folder);
 * - any other key or not-nullable hint: dlt's UnboundColumnException (often a typo in the hint).
 */
export function checkHintedColumnsBound(schema: Schema, rowCounts: Record<string, number>, loadId: string): void {
  for (const [name, rows] of Object.entries(rowCounts)) {
    const table = schema.getTable(name);
    if (!table || rows === 0) continue;
    for (const col of Object.values(table.columns)) {
      if (!col.incomplete) continue;
      if (col.primaryKey && !table.parent && table.writeDisposition === 'merge') throw new MissingPrimaryKeyError(name, col.name, loadId);
      const what = col.primaryKey ? 'a primary key' : col.mergeKey ? 'a merge key' : col.nullable === false ? 'marked not nullable' : undefined;
      if (what) throw new UnboundColumnError(name, col.name, loadId, what);
    }
  }
}
