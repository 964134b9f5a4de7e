import { z } from 'zod';
import { DATA_TYPES, type ColumnHint, type ColumnSchema, type TableSchema } from '../schema/types.js';

/*
 * Column hints as dlt takes them: a record by column name, or a list of column schemas
 * (`[{ name, dataType, nullable, primaryKey, ... }]`). The list becomes the record here and
 * only here, so everything after resource()/applyHints()/run() sees one form.
 */

/** One column of a list of column schemas (dlt's `TColumnSchema` in camelCase). */
export interface ColumnSchemaHint extends ColumnHint {
  name: string;
}

/** Column hints by name, or a list of column schemas. */
export type ColumnHints = Record<string, ColumnHint> | readonly ColumnSchemaHint[];

/** Validates a user's column hint (shared by resource(), run() and the REST API config). */
export const columnHintSchema = z
  .object({
    dataType: z
      .enum(DATA_TYPES, {
        // dlt's wei (Ethereum amounts) has no type of its own here
        error: (iss) => (iss.input === 'wei' ? `"wei" is not a type haul has: use dataType 'decimal' with its precision and scale (dlt's wei is numeric(156,78) on PostgreSQL, DECIMAL(38,0) on DuckDB)` : undefined),
      })
      .optional(),
    nullable: z.boolean().optional(),
    primaryKey: z.boolean().optional(),
    mergeKey: z.boolean().optional(),
    unique: z.boolean().optional(),
    precision: z.number().int().nonnegative().optional(),
    scale: z.number().int().nonnegative().optional(),
    timezone: z.boolean().optional(),
    hardDelete: z.boolean().optional(),
    dedupSort: z.enum(['asc', 'desc']).optional(),
    // dlt's warehouse hints: kept in the schema, no effect on DuckDB, PostgreSQL or files
    description: z.string().optional(),
    partition: z.boolean().optional(),
    cluster: z.boolean().optional(),
    sort: z.boolean().optional(),
  })
  .strict();

const columnListSchema = z.array(columnHintSchema.extend({ name: z.string().min(1) }).strict()).superRefine((cols, ctx) => {
  const seen = new Set<string>();
  cols.forEach((c, i) => {
    // dlt would keep the last one silently; two entries for one column are a mistake
    if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `column "${c.name}" is listed twice; give each column once` });
    seen.add(c.name);
  });
});

/** `columns` as a record or a list of column schemas. */
export const columnHintsSchema = z.union([z.record(z.string(), columnHintSchema), columnListSchema]);

/** The record form of `columns` (a list of column schemas keyed by name, in list order). */
export function columnRecord(columns: ColumnHints): Record<string, ColumnHint> {
  if (!Array.isArray(columns)) return columns as Record<string, ColumnHint>;
  const out: Record<string, ColumnHint> = {};
  for (const { name, ...hint } of columns as readonly ColumnSchemaHint[]) out[name] = hint;
  return out;
}

/** Later column hints over earlier ones, column by column (dlt's merge_columns); empty clears. */
export function mergeColumnHints(base: Record<string, ColumnHint>, next: Record<string, ColumnHint>): Record<string, ColumnHint> {
  if (Object.keys(next).length === 0) return {};
  const out: Record<string, ColumnHint> = { ...base };
  for (const [name, hint] of Object.entries(next)) out[name] = { ...base[name], ...hint };
  return out;
}

/** The table's column `col`; a new one is an incomplete text column (a hint that no data has typed yet). */
export function hintedColumn(t: TableSchema, col: string): ColumnSchema {
  return (t.columns[col] ??= { name: col, dataType: 'text', nullable: true, incomplete: true });
}

/** Puts a column hint on the table's column `col`; a hint with a dataType makes the column complete. */
export function applyColumnHint(t: TableSchema, col: string, hint: ColumnHint): void {
  const c = hintedColumn(t, col);
  Object.assign(c, hint);
  if (hint.dataType) delete c.incomplete;
}
