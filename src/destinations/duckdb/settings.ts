import { quoteStringLiteralStandard, type SqlExecutor } from '../sql/dialect.js';

/*
 * DuckDB settings changed for one piece of work and set back after it. Names are this
 * module's callers' own constants, never user input; values go as string literals, which
 * DuckDB casts to the setting's type.
 */

/** The current values of DuckDB settings, as DuckDB prints them. */
export async function readSettings(ex: SqlExecutor, names: string[]): Promise<Record<string, string | undefined>> {
  const [row] = await ex.query<Record<string, unknown>>(`SELECT ${names.map((n, i) => `current_setting(${quoteStringLiteralStandard(n)}) AS s${i}`).join(', ')}`);
  return Object.fromEntries(names.map((n, i) => [n, row?.[`s${i}`] == null ? undefined : String(row[`s${i}`])]));
}

/**
 * Runs `fn` with `values` set, then sets each back to what it was (`before`, read here when
 * not given). Setting back is best effort: in a transaction that `fn`'s failure aborted, SET
 * fails too, and `fn`'s error is the one to report.
 */
export async function withSettings<T>(ex: SqlExecutor, values: Record<string, string>, fn: () => Promise<T>, before?: Record<string, string | undefined>): Promise<T> {
  const names = Object.keys(values);
  const old = before ?? (await readSettings(ex, names));
  try {
    for (const n of names) await ex.execute(`SET ${n} = ${quoteStringLiteralStandard(values[n]!)}`);
    return await fn();
  } finally {
    for (const n of names) {
      const v = old[n];
      if (v !== undefined) await ex.execute(`SET ${n} = ${quoteStringLiteralStandard(v)}`).catch(() => undefined);
    }
  }
}
