/**
 * Database column types -> haul column hints, as dlt's sql_database does it with its default
 * (SQLAlchemy) backend: each engine's type names are first sorted into SQLAlchemy's generic
 * families (`ColumnKind`), then the family decides the data type:
 *
 *   smallint, integer -> bigint          numeric -> decimal (with the declared precision/scale)
 *   float (real, double) -> double       string (char, varchar, text, enum) -> text
 *   (MySQL's DOUBLE/REAL are numeric: SQLAlchemy reads them as Decimal, so dlt makes decimals)
 *   binary (bytea, blob) -> binary       datetime -> timestamp (timezone as declared)
 *   date -> date   time -> time          json, array -> json   bool -> bool   uuid -> text
 *
 * `minimal` keeps names and nullability (types come from the data), and the type of numeric,
 * date and time columns, which dlt infers from Python's values and JS has none for; `full_with_precision`
 * adds lengths of strings/binaries and 32 bits for small integers. Types in no family (pg
 * interval, inet, money, MySQL year/bit, ...) get no data type: it is inferred from the values.
 */
import type { ColumnHint } from '../../schema/types.js';
import type { ColumnKind, ReflectedColumn } from './engine.js';
import { typeArgs } from './engine.js';

export type ReflectionLevel = 'minimal' | 'full' | 'full_with_precision';

/** A column hint plus dlt's `timezone` flag for timestamps. */
export type SqlColumnHint = ColumnHint & { timezone?: boolean };

export function columnHint(col: ReflectedColumn, level: ReflectionLevel): SqlColumnHint {
  const hint: SqlColumnHint = { nullable: col.nullable };
  if (level === 'minimal') {
    // dlt infers these from Python's Decimal, date and time values; JS reads them as strings,
    // which would make text columns: the type dlt would infer comes as a hint instead
    if (col.kind === 'numeric') hint.dataType = 'decimal';
    else if (col.kind === 'date') hint.dataType = 'date';
    else if (col.kind === 'time') hint.dataType = 'time';
    return hint;
  }
  const precise = level === 'full_with_precision';
  switch (col.kind) {
    case 'uuid':
      hint.dataType = 'text';
      break;
    case 'numeric':
      hint.dataType = 'decimal';
      // dlt always keeps a decimal's declared precision and scale (they decide the column).
      if (col.precision !== undefined) {
        hint.precision = col.precision;
        if (col.scale !== undefined) hint.scale = col.scale;
      }
      break;
    case 'float':
      hint.dataType = 'double';
      break;
    case 'smallint':
      hint.dataType = 'bigint';
      if (precise) hint.precision = 32;
      break;
    case 'integer':
      hint.dataType = 'bigint';
      break;
    case 'string':
      hint.dataType = 'text';
      if (precise && col.length) hint.precision = col.length;
      break;
    case 'binary':
      hint.dataType = 'binary';
      if (precise && col.length) hint.precision = col.length;
      break;
    case 'datetime':
      hint.dataType = 'timestamp';
      hint.timezone = col.timezone === true;
      break;
    case 'date':
      hint.dataType = 'date';
      break;
    case 'time':
      hint.dataType = 'time';
      break;
    case 'json':
    case 'array':
      hint.dataType = 'json';
      break;
    case 'bool':
      hint.dataType = 'bool';
      break;
    case 'unknown':
      // No hint at all, as dlt: the column is made from the values, after the reflected ones.
      return col.nullable ? {} : hint;
  }
  return hint;
}

/**
 * PostgreSQL 15+ takes a scale below 0 (`numeric(5,-2)` rounds to hundreds) or above the
 * precision (`numeric(3,5)` holds 0.00xyz); a destination's decimal takes neither. The
 * decimal that holds every such value: `(p - s, 0)` and `(s, s)`. dlt passes the declared
 * pair on and the load fails.
 */
function holdingPrecision(precision: number | undefined, scale: number | undefined): { precision: number | undefined; scale: number | undefined } {
  if (precision === undefined || scale === undefined) return { precision, scale };
  if (scale < 0) return { precision: precision - scale, scale: 0 };
  if (scale > precision) return { precision: scale, scale };
  return { precision, scale };
}

/** PostgreSQL (and DuckDB, which SQLAlchemy reflects through the PostgreSQL dialect) type names. */
export function postgresKind(nativeType: string, isEnum = false): Pick<ReflectedColumn, 'kind' | 'length' | 'precision' | 'scale' | 'timezone'> {
  if (isEnum) return { kind: 'string' };
  if (nativeType.endsWith('[]')) return { kind: 'array' };
  const { base, args } = typeArgs(nativeType);
  switch (base) {
    case 'smallint':
    case 'int2':
      return { kind: 'smallint' };
    case 'integer':
    case 'int':
    case 'int4':
    case 'bigint':
    case 'int8':
    case 'serial':
    case 'bigserial':
      return { kind: 'integer' };
    case 'numeric':
    case 'decimal':
      return { kind: 'numeric', ...holdingPrecision(args[0], args[0] === undefined ? undefined : (args[1] ?? 0)) };
    case 'real':
    case 'float4':
    case 'double precision':
    case 'float8':
      return { kind: 'float' };
    case 'character varying':
    case 'varchar':
    case 'character':
    case 'char':
    case 'bpchar':
      return { kind: 'string', length: args[0] };
    case 'text':
    case 'citext':
    case '"char"':
    case 'name':
      return { kind: 'string' };
    case 'bytea':
      return { kind: 'binary' };
    case 'timestamp without time zone':
    case 'timestamp':
      return { kind: 'datetime', timezone: false };
    case 'timestamp with time zone':
    case 'timestamptz':
      return { kind: 'datetime', timezone: true };
    case 'date':
      return { kind: 'date' };
    case 'time without time zone':
    case 'time with time zone':
    case 'time':
    case 'timetz':
      return { kind: 'time' };
    case 'json':
    case 'jsonb':
      return { kind: 'json' };
    case 'boolean':
    case 'bool':
      return { kind: 'bool' };
    case 'uuid':
      return { kind: 'uuid' };
    default:
      return { kind: 'unknown' };
  }
}

/** MySQL / MariaDB: `DATA_TYPE` and `COLUMN_TYPE` of information_schema.COLUMNS. */
export function mysqlKind(dataType: string, columnType: string): Pick<ReflectedColumn, 'kind' | 'length' | 'precision' | 'scale' | 'timezone'> {
  const { args } = typeArgs(columnType);
  switch (dataType.toLowerCase()) {
    case 'smallint':
      return { kind: 'smallint' };
    case 'tinyint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'bigint':
      return { kind: 'integer' };
    case 'decimal':
    case 'numeric':
      return { kind: 'numeric', precision: args[0], scale: args[0] === undefined ? undefined : (args[1] ?? 0) };
    case 'float':
      return { kind: 'float' };
    case 'double':
    case 'real':
      // SQLAlchemy's MySQL DOUBLE/REAL return Decimal (asdecimal), so dlt makes them decimal.
      return { kind: 'numeric', precision: args[0], scale: args[0] === undefined ? undefined : (args[1] ?? 0) };
    case 'char':
    case 'varchar':
      return { kind: 'string', length: args[0] };
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
    case 'enum':
    case 'set':
      return { kind: 'string' };
    case 'binary':
    case 'varbinary':
      return { kind: 'binary', length: args[0] };
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return { kind: 'binary' };
    case 'datetime':
    case 'timestamp':
      return { kind: 'datetime', timezone: false };
    case 'date':
      return { kind: 'date' };
    case 'time':
      return { kind: 'time' };
    case 'json':
      return { kind: 'json' };
    case 'boolean':
    case 'bool':
      return { kind: 'bool' };
    case 'uuid':
      // MariaDB 10.7+: text, in its place among the columns (as dlt reflects it)
      return { kind: 'uuid' };
    default:
      return { kind: 'unknown' };
  }
}

/**
 * SQLite's declared type, resolved as SQLAlchemy's SQLite dialect does: a known type name
 * first, else SQLite's affinity rules (INT -> integer, CHAR/CLOB/TEXT -> text, BLOB or
 * nothing -> no type, REAL/FLOA/DOUB -> real, anything else -> numeric).
 */
export function sqliteKind(declared: string): Pick<ReflectedColumn, 'kind' | 'length' | 'precision' | 'scale' | 'timezone'> {
  const { base, args } = typeArgs(declared);
  const name = base.toUpperCase();
  const known: Record<string, ColumnKind> = {
    BIGINT: 'integer', INT: 'integer', INTEGER: 'integer', SMALLINT: 'smallint',
    BLOB: 'binary', BOOL: 'bool', BOOLEAN: 'bool',
    CHAR: 'string', NCHAR: 'string', VARCHAR: 'string', NVARCHAR: 'string', TEXT: 'string',
    DATE: 'date', DATE_CHAR: 'date', DATETIME: 'datetime', DATETIME_CHAR: 'datetime', TIMESTAMP: 'datetime',
    TIME: 'time', TIME_CHAR: 'time',
    DECIMAL: 'numeric', NUMERIC: 'numeric', DOUBLE: 'float', FLOAT: 'float', REAL: 'float', JSON: 'json',
  };
  let kind: ColumnKind | undefined = known[name];
  if (kind === undefined) {
    if (name.includes('INT')) kind = 'integer';
    else if (/CHAR|CLOB|TEXT/.test(name)) kind = 'string';
    else if (name.includes('BLOB') || name === '') kind = 'unknown';
    else if (/REAL|FLOA|DOUB/.test(name)) kind = 'float';
    else kind = 'numeric';
  }
  switch (kind) {
    case 'numeric':
      return { kind, precision: args[0], scale: args[0] === undefined ? undefined : args[1] };
    case 'string':
    case 'binary':
      return { kind, length: args[0] };
    case 'datetime':
      return { kind, timezone: false };
    default:
      return { kind };
  }
}

/** DuckDB's type names (information_schema.columns.data_type). */
export function duckdbKind(dataType: string): Pick<ReflectedColumn, 'kind' | 'length' | 'precision' | 'scale' | 'timezone'> {
  const t = dataType.trim().toUpperCase();
  if (t.endsWith('[]') || /^[A-Z]+\[\d+\]$/.test(t)) return { kind: 'array' };
  const { base, args } = typeArgs(t);
  switch (base.toUpperCase()) {
    case 'TINYINT':
    case 'UTINYINT':
    case 'USMALLINT':
    case 'INTEGER':
    case 'UINTEGER':
    case 'BIGINT':
    case 'UBIGINT':
    case 'HUGEINT':
    case 'UHUGEINT':
      return { kind: 'integer' };
    case 'SMALLINT':
      return { kind: 'smallint' };
    case 'DECIMAL':
      return { kind: 'numeric', precision: args[0], scale: args[1] };
    case 'FLOAT':
    case 'DOUBLE':
      return { kind: 'float' };
    case 'VARCHAR':
      return { kind: 'string', length: args[0] };
    case 'BLOB':
      return { kind: 'binary' };
    case 'TIMESTAMP':
    case 'TIMESTAMP_S':
    case 'TIMESTAMP_MS':
    case 'TIMESTAMP_NS':
      return { kind: 'datetime', timezone: false };
    case 'TIMESTAMP WITH TIME ZONE':
      return { kind: 'datetime', timezone: true };
    case 'DATE':
      return { kind: 'date' };
    case 'TIME':
    case 'TIME WITH TIME ZONE':
      return { kind: 'time' };
    case 'JSON':
      return { kind: 'json' };
    case 'BOOLEAN':
      return { kind: 'bool' };
    case 'UUID':
      return { kind: 'uuid' };
    default:
      return { kind: 'unknown' };
  }
}
