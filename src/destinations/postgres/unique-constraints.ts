import { DestinationError } from '../../errors.js';
import type { Schema } from '../../schema/schema.js';
import type { TableSchema } from '../../schema/types.js';
import { mergeStrategyOf } from '../../schema/write-disposition.js';
import type { SqlExecutor } from '../sql/dialect.js';
import { DESTINATION_OWNED_TABLE_NAMES, STATE_TABLE_SCHEMA } from '../sql/system-tables.js';

/*
 * dlt's create_indexes: a UNIQUE constraint on every column hinted `unique` (normalize hints
 * `_dlt_id`). Maintaining a unique B-tree row by row is most of what a COPY costs the server
 * (about 4x the CPU per row on the bench data), so a constraint a table lacks is added when
 * the load completes, by one sorted index build over the loaded rows, instead of being
 * created with the table. Tables that already have it (every load after the first) check
 * each row as it arrives. The constraints end up where dlt puts them, with PostgreSQL's own
 * names (`<table>_<column>_key`).
 */

/** `table -> columns` that should be UNIQUE, for the tables of `schema` (or `tables`) and the state table. */
export function wantedUniqueColumns(schema: Schema, tables?: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (t: TableSchema) => {
    if (DESTINATION_OWNED_TABLE_NAMES.has(t.name)) return;
    // scd2 roots keep a row's version hash in `_dlt_id`: a re-inserted row repeats it (dlt drops `unique` there too)
    const versioned = (c: { rowKey?: boolean }) => t.parent === undefined && mergeStrategyOf(t) === 'scd2' && c.rowKey === true;
    const cols = Object.values(t.columns).filter((c) => c.unique && !c.incomplete && !versioned(c)).map((c) => c.name);
    if (cols.length > 0) out.set(t.name, cols);
  };
  for (const name of tables ?? Object.keys(schema.tables)) {
    const t = schema.getTable(name);
    if (t) add(t);
  }
  if (!out.has(STATE_TABLE_SCHEMA.name)) add(schema.getTable(STATE_TABLE_SCHEMA.name) ?? STATE_TABLE_SCHEMA);
  return out;
}

const key = (table: string, column: string) => `${table}\u0000${column}`;

/**
 * Adds the UNIQUE constraints that `wanted` names and the dataset lacks, for columns that
 * exist. Runs in the caller's transaction. Duplicates fail with an error naming the table.
 */
export async function addMissingUniqueConstraints(
  tx: SqlExecutor,
  dataset: string,
  wanted: Map<string, string[]>,
  sql: { table: (name: string) => string; ident: (name: string) => string },
): Promise<string[]> {
  if (wanted.size === 0) return [];
  const columns = await tx.query<{ table_name: string; column_name: string }>(
    'SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1',
    [dataset],
  );
  const exists = new Set(columns.map((r) => key(r.table_name, r.column_name)));
  const constrained = await tx.query<{ table_name: string; column_name: string }>(
    `SELECT c.relname AS table_name, a.attname AS column_name FROM pg_constraint k
     JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
     WHERE n.nspname = $1 AND k.contype IN ('u', 'p') AND cardinality(k.conkey) = 1`,
    [dataset],
  );
  const done = new Set(constrained.map((r) => key(r.table_name, r.column_name)));
  const added: string[] = [];
  for (const [table, cols] of wanted) {
    for (const col of cols) {
      const k = key(table, col);
      if (!exists.has(k) || done.has(k)) continue;
      try {
        await tx.execute(`ALTER TABLE ${sql.table(table)} ADD UNIQUE (${sql.ident(col)})`);
      } catch (err) {
        if ((err as { code?: string }).code === '23505') {
          throw new DestinationError(
            'postgres',
            `table "${table}" in dataset "${dataset}" holds duplicate values in "${col}", so its UNIQUE constraint (createIndexes) cannot be added; ` +
              'find and remove the duplicate rows, or use createIndexes: false',
            { cause: err },
          );
        }
        throw err;
      }
      done.add(k);
      added.push(`${table}.${col}`);
    }
  }
  return added;
}
