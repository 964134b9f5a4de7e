/**
 * The SELECT a table resource runs. With an incremental cursor the range is pushed into the
 * query as dlt does: `WHERE cursor >= last_value [AND cursor < end_value] ORDER BY cursor`
 * (`<=`/`>` and descending for `lastValueFunc: 'min'`); the engine's incremental then drops
 * the rows at the boundary it has already loaded. A custom lastValueFunc reads everything.
 */
import type { Incremental } from '../../extract/incremental.js';
import { InvalidOptionsError } from '../../errors.js';
import { qualifiedName, type ReflectedTable, type SqlEngine } from './engine.js';

export interface SqlQuery {
  sql: string;
  params: unknown[];
}

const ISO_UTC = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d(?:\.\d+)?)Z$/;

/** MySQL does not read `Z` in a DATETIME literal: a UTC ISO string goes as `YYYY-MM-DD HH:MM:SS.ffffff`. */
function cursorParam(engine: SqlEngine, value: unknown): unknown {
  if (engine.dialect === 'mysql' && typeof value === 'string') {
    const m = ISO_UTC.exec(value);
    if (m) return `${m[1]} ${m[2]}`;
  }
  return value;
}

export function buildTableQuery(engine: SqlEngine, table: ReflectedTable, incremental?: Incremental): SqlQuery {
  if (table.columns.length === 0) throw new InvalidOptionsError(`table "${table.name}"`, 'no columns are left to select (tableAdapterCallback removed them all)');
  const cols = table.columns.map((c) => engine.quote(c.name)).join(', ');
  let sql = `SELECT ${cols} FROM ${qualifiedName(engine, table.schema, table.name)}`;
  const params: unknown[] = [];
  if (!incremental) return { sql, params };
  const cursor = incremental.cursorPath;
  if (!table.columns.some((c) => c.name === cursor)) {
    throw new InvalidOptionsError(
      `incremental on table "${table.name}"`,
      `cursor column "${cursor}" is not a column of the table (columns: ${table.columns.map((c) => c.name).join(', ')}); name a column such as updated_at`,
    );
  }
  const fn = incremental.options.lastValueFunc ?? 'max';
  if (typeof fn === 'function') return { sql, params };
  const col = engine.quote(cursor);
  const where: string[] = [];
  const start = incremental.startValue;
  const end = incremental.endValue;
  if (start !== undefined && start !== null) {
    params.push(cursorParam(engine, start));
    const open = incremental.options.rangeStart === 'open' ? '' : '=';
    where.push(`${col} ${fn === 'max' ? '>' : '<'}${open} ${engine.placeholder(params.length)}`);
  }
  if (end !== undefined && end !== null) {
    params.push(cursorParam(engine, end instanceof Date ? end.toISOString() : end));
    const closed = incremental.options.rangeEnd === 'closed' ? '=' : '';
    where.push(`${col} ${fn === 'max' ? '<' : '>'}${closed} ${engine.placeholder(params.length)}`);
  }
  // rows whose cursor is NULL, as dlt's onCursorValueMissing: raise (the cursor sees them), include, exclude
  const missing = incremental.options.onCursorValueMissing;
  if (where.length && missing === 'include') where.splice(0, where.length, `(${where.join(' AND ')} OR ${col} IS NULL)`);
  if (missing === 'exclude') where.push(`${col} IS NOT NULL`);
  if (where.length) sql += ` WHERE ${where.join(' AND ')}`;
  sql += ` ORDER BY ${col} ${fn === 'max' ? 'ASC' : 'DESC'}`;
  return { sql, params };
}
