import { InvalidOptionsError, ParentTableNotFoundError } from '../errors.js';
import { normalizeTableName } from '../schema/naming.js';
import type { Schema } from '../schema/schema.js';
import type { Source } from './resource.js';

/**
 * dlt's `parent_table_name` hint: the resource's table becomes a child of that table in the
 * schema. As in dlt a child table has no write disposition or resource of its own (it
 * follows its root: loaded in the root's chain, replaced and dropped with it), and the
 * parent must exist by now (in the schema before, or made by this extract). Called after
 * the resources' hints went into the schema.
 */
export function applyParentTables(schema: Schema, source: Source, maxIdentifierLength?: number): void {
  for (const res of source.selectedResources) {
    const given = res.hints.parentTableName;
    if (given === undefined) continue;
    const table = normalizeTableName(res.tableName, maxIdentifierLength);
    const parent = normalizeTableName(given, maxIdentifierLength);
    const t = schema.getTable(table);
    if (!t) continue;
    if (!schema.getTable(parent)) throw new ParentTableNotFoundError(schema.name, table, parent, schema.dataTableNames());
    // a table may not end up its own ancestor (the chain walks would never end)
    for (let p: string | undefined = parent; p !== undefined; p = schema.getTable(p)?.parent) {
      if (p === table) throw new InvalidOptionsError(`resource "${res.name}" parentTableName`, `"${given}" would make table "${table}" its own ancestor; name a table that is not nested under it`);
    }
    if (res.hints.writeDisposition !== undefined) {
      throw new InvalidOptionsError(`resource "${res.name}"`, `table "${table}" is a child of "${parent}" and follows its root's write disposition; give writeDisposition to the root's resource instead`);
    }
    t.parent = parent;
    delete t.writeDisposition;
    delete t.resource;
  }
}
