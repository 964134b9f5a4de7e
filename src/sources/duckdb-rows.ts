/**
 * Rows of a streaming DuckDB result as haul values, shared by the sources that read through
 * DuckDB (sql_database's DuckDB engine, the filesystem source's parquet reader): BIGINT as
 * number (bigint past 2^53), DECIMAL exact text, DATE/TIME text, timestamps as UTC ISO
 * strings (microseconds kept), JSON columns parsed, BLOB bytes.
 */
import { DuckDBTypeId, JSDuckDBValueConverter, type DuckDBResult, type DuckDBValue, type DuckDBValueConverter, type JS } from '@duckdb/node-api';
import { exactInteger } from '../common/safe-integer.js';
import { markFloatColumns } from '../common/whole-floats.js';


/** Microseconds since the epoch -> `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
function microsToIso(micros: bigint): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const rest = Number(micros - ms * 1000n);
  const iso = new Date(Number(ms)).toISOString(); // ...sss Z
  return rest === 0 ? iso : `${iso.slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
}

const toHaulValue: DuckDBValueConverter<unknown> = (value, type, converter) => {
  if (value == null) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT: {
      const v = value as bigint;
      return exactInteger(v);
    }
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.DATE:
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.INTERVAL:
      return String(value);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return microsToIso((value as { micros: bigint }).micros);
    case DuckDBTypeId.TIMESTAMP_MS:
      return microsToIso((value as { millis: bigint }).millis * 1000n);
    case DuckDBTypeId.TIMESTAMP_S:
      return microsToIso((value as { seconds: bigint }).seconds * 1_000_000n);
    case DuckDBTypeId.TIMESTAMP_NS:
      return microsToIso((value as { nanos: bigint }).nanos / 1000n);
    case DuckDBTypeId.VARCHAR:
      return String(value);
    default:
      return JSDuckDBValueConverter(value as DuckDBValue, type, converter as DuckDBValueConverter<JS>);
  }
};

const FLOAT_TYPES = new Set<DuckDBTypeId>([DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE]);

/** Only rows with a whole float are marked: marking costs, and the other rows need nothing. */
function hasWholeValue(row: Record<string, unknown>, columns: ReadonlySet<string>): boolean {
  for (const k of columns) if (Number.isInteger(row[k])) return true;
  return false;
}

/** Rows of a streaming DuckDB result as haul values, gathered in pages of `chunkSize`. */
export async function* duckdbRowPages(result: DuckDBResult, chunkSize: number): AsyncIterable<Record<string, unknown>[]> {
  // The JSON alias is on the result's column type, not on the vectors the converter sees.
  const jsonColumns = result.columnNames().filter((_, i) => result.columnType(i).alias === 'JSON');
  // a FLOAT/DOUBLE column's whole values are floats (`1.0`), so it types double as in dlt, not bigint with a variant
  const floatColumns = new Set(result.columnNames().filter((_, i) => FLOAT_TYPES.has(result.columnType(i).typeId)));
  let chunk: Record<string, unknown>[] = [];
  for await (const rows of result.yieldConvertedRowObjects(toHaulValue)) {
    for (const row of rows) {
      for (const k of jsonColumns) if (typeof row[k] === 'string') row[k] = parseJson(row[k] as string);
      if (floatColumns.size > 0 && hasWholeValue(row, floatColumns)) markFloatColumns(row, floatColumns);
      chunk.push(row);
      if (chunk.length >= chunkSize) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (chunk.length > 0) yield chunk;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
