import type { ColumnSchema, DataType, TableSchema } from '../../schema/types.js';
import { JOBS_TABLE, LOADS_TABLE, STATE_TABLE, VERSION_TABLE } from '../../schema/system.js';

function cols(defs: Array<[string, DataType, boolean, Partial<ColumnSchema>?]>): Record<string, ColumnSchema> {
  const out: Record<string, ColumnSchema> = {};
  for (const [name, dataType, nullable, hints] of defs) out[name] = { name, dataType, nullable, ...hints };
  return out;
}

/** `_dlt_loads`: one row per completed load package (status 0), as in dlt. */
export const LOADS_TABLE_SCHEMA: TableSchema = {
  name: LOADS_TABLE,
  writeDisposition: 'skip',
  columns: cols([
    ['load_id', 'text', false],
    ['schema_name', 'text', true],
    ['status', 'bigint', false],
    ['inserted_at', 'timestamp', false],
    ['schema_version_hash', 'text', true],
  ]),
};

/** `_dlt_version`: every schema version loaded to the dataset; `schema` is the StoredSchema JSON. */
export const VERSION_TABLE_SCHEMA: TableSchema = {
  name: VERSION_TABLE,
  writeDisposition: 'skip',
  columns: cols([
    ['version', 'bigint', false],
    ['engine_version', 'bigint', false],
    ['inserted_at', 'timestamp', false],
    ['schema_name', 'text', false],
    ['version_hash', 'text', false],
    ['schema', 'text', false],
  ]),
};

/** `_haul_jobs`: a marker per job file whose rows committed, cleared when the load completes. */
export const JOBS_TABLE_SCHEMA: TableSchema = {
  name: JOBS_TABLE,
  writeDisposition: 'skip',
  columns: cols([
    ['load_id', 'text', false],
    ['job_name', 'text', false],
    ['inserted_at', 'timestamp', false],
  ]),
};

/**
 * `_dlt_pipeline_state`: a normal appended table (it may also be in the pipeline's schema with
 * these columns); created with the other system tables so state can always be looked up.
 */
export const STATE_TABLE_SCHEMA: TableSchema = {
  name: STATE_TABLE,
  writeDisposition: 'append',
  columns: cols([
    ['version', 'bigint', false],
    ['engine_version', 'bigint', false],
    ['pipeline_name', 'text', false],
    ['state', 'text', false],
    ['created_at', 'timestamp', false],
    ['version_hash', 'text', true],
    ['_dlt_load_id', 'text', false],
    ['_dlt_id', 'text', false, { unique: true }],
  ]),
};

/** Tables the destination itself owns and writes (never from job files). */
export const DESTINATION_SYSTEM_TABLES: readonly TableSchema[] = [
  LOADS_TABLE_SCHEMA,
  VERSION_TABLE_SCHEMA,
  JOBS_TABLE_SCHEMA,
];

export const DESTINATION_OWNED_TABLE_NAMES: ReadonlySet<string> = new Set([LOADS_TABLE, VERSION_TABLE, JOBS_TABLE]);
