import { quoteStringLiteralStandard, type SqlExecutor } from '../sql/dialect.js';

/*
 * DuckDB settings: read, changed for one piece of work and set back after it, and the
 * memory_limit that jobs raise (dialect.ts for wide tables, memory-growth.ts). Names are this
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

const UNITS: Record<string, number> = { b: 1, bytes: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** DuckDB's memory_limit text ('244.1 MiB', '2GB') in bytes; undefined when unreadable. */
export function parseMemorySize(text: string): number | undefined {
  const m = /^\s*([\d.]+)\s*([a-z]+)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = UNITS[(m[2] ?? 'b').toLowerCase()];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

/** The instance's memory_limit now, in bytes; undefined when unreadable. */
export async function memoryLimitBytes(ex: SqlExecutor): Promise<number | undefined> {
  const { memory_limit } = await readSettings(ex, ['memory_limit']);
  return memory_limit === undefined ? undefined : parseMemorySize(memory_limit);
}

/** Sets the instance's memory_limit, in whole MiB. */
export async function setMemoryLimitMiB(ex: SqlExecutor, mib: number): Promise<void> {
  await ex.execute(`SET memory_limit = '${Math.floor(mib)}MiB'`);
}
