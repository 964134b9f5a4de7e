import { z } from 'zod';
import { InvalidOptionsError } from '../errors.js';
import { normalizeColumnName, shortenPath } from '../schema/naming.js';
import type { Schema } from '../schema/schema.js';
import { PATH_SEPARATOR } from '../schema/system.js';
import type { ColumnHint } from '../schema/types.js';
import { applyColumnHint, columnHintsSchema, columnRecord, type ColumnHints } from './columns.js';

/*
 * dlt's `nested_hints`: a resource declares hints for the nested tables its items make,
 * keyed by the path below the root table. They go into the schema at extract, as dlt's
 * compute_nested_table_schemas puts them: the table with its parent link and the hinted
 * columns (typed ones complete, so they come first, before the columns data brings, as on a
 * root table). A declared table is created at the destination once rows reach it.
 *
 * Only column hints are taken. dlt's `primary_key`/`merge_key` on a nested table turn it
 * into a table of its own (no parent link), and its `write_disposition`/`schema_contract`
 * would differ from the root's that the nested table follows here: refused, naming why.
 */

/** Hints for one nested table (dlt's `make_nested_hints`, columns only). */
export interface NestedHints {
  columns?: ColumnHints;
}

/** Column hints that would make a nested table a table of its own or change its chain. */
const ROOT_ONLY = ['primaryKey', 'mergeKey', 'hardDelete', 'dedupSort'] as const;

export const nestedHintsSchema = z.record(
  z.string().min(1),
  z
    .object({ columns: columnHintsSchema.optional() })
    .strict()
    .superRefine((h, ctx) => {
      const cols = h.columns === undefined ? {} : columnRecord(h.columns as ColumnHints);
      for (const [name, hint] of Object.entries(cols)) {
        for (const key of ROOT_ONLY) {
          if (hint[key] !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: ['columns', name, key],
              message: `a nested table follows its root table's keys and write disposition; ${key} on a nested column is not supported (give it on the root's columns)`,
            });
          }
        }
      }
    }),
);

/** `nestedHints` with each table's columns in the record form. */
export function nestedHintRecords(hints: Record<string, NestedHints>): Record<string, { columns: Record<string, ColumnHint> }> {
  const out: Record<string, { columns: Record<string, ColumnHint> }> = {};
  for (const [path, h] of Object.entries(hints)) out[path] = { columns: h.columns === undefined ? {} : { ...columnRecord(h.columns) } };
  return out;
}

/**
 * Declares the nested tables of `root` that `hints` name, shorter paths first, with the
 * tables between them and the root (a path two levels down needs its parent, which dlt
 * leaves to the user to declare; declaring it here costs nothing).
 */
export function applyNestedHints(schema: Schema, root: string, hints: Record<string, { columns: Record<string, ColumnHint> }>, maxIdentifierLength?: number): void {
  const paths = Object.entries(hints).map(([path, h]) => ({ parts: path.split(PATH_SEPARATOR).map((p) => normalizeColumnName(p, maxIdentifierLength)), columns: h.columns }));
  paths.sort((a, b) => a.parts.length - b.parts.length);
  const tableAt = (parts: string[]) => shortenPath([root, ...parts].join(PATH_SEPARATOR), maxIdentifierLength);
  for (const { parts, columns } of paths) {
    let parent = root;
    for (let depth = 1; depth <= parts.length; depth++) {
      const name = tableAt(parts.slice(0, depth));
      const existing = schema.getTable(name);
      if (existing !== undefined && existing.parent === undefined) {
        throw new InvalidOptionsError(`nestedHints "${parts.slice(0, depth).join(PATH_SEPARATOR)}" of table "${root}"`, `"${name}" is a table of its own (resource "${existing.resource ?? '?'}"), not a nested table of "${root}"; rename one of them`);
      }
      schema.ensureTable(name, { parent });
      parent = name;
    }
    const t = schema.getTable(parent)!;
    for (const [name, hint] of Object.entries(columns)) applyColumnHint(t, normalizeColumnName(name, maxIdentifierLength), hint);
  }
}
