/** The data types a column can have; the same names as dlt's. */
export const DATA_TYPES = [
  'text', 'bigint', 'double', 'bool', 'timestamp', 'date', 'time', 'decimal', 'binary', 'json',
] as const;
export type DataType = (typeof DATA_TYPES)[number];

export type WriteDisposition = 'append' | 'replace' | 'merge' | 'skip';

/** What a schema contract does with a change (dlt's contract modes). */
export const CONTRACT_MODES = ['evolve', 'freeze', 'discard_row', 'discard_value'] as const;
export type ContractMode = (typeof CONTRACT_MODES)[number];

/**
 * dlt's schema contract: per entity, what happens to a new table (`tables`, child tables
 * included), a new column on a table that already holds data (`columns`) and a value whose
 * type needs a variant column (`dataType`). A single mode applies to all three.
 */
export interface SchemaContractSettings {
  tables?: ContractMode;
  columns?: ContractMode;
  dataType?: ContractMode;
}
export type SchemaContract = ContractMode | SchemaContractSettings;

/** How a merge writes (dlt's `x-merge-strategy`); `delete-insert` is the default. */
export const MERGE_STRATEGIES = ['delete-insert', 'upsert', 'scd2', 'insert-only'] as const;
export type MergeStrategy = (typeof MERGE_STRATEGIES)[number];

/** How a replace writes (dlt's `destination.replace_strategy`); `truncate-and-insert` is the default. */
export const REPLACE_STRATEGIES = ['truncate-and-insert', 'insert-from-staging', 'staging-optimized'] as const;
export type ReplaceStrategy = (typeof REPLACE_STRATEGIES)[number];

/** dlt's write disposition dict for merge, in camelCase. */
export interface MergeDispositionConfig {
  disposition: 'merge';
  strategy?: MergeStrategy;
  /** scd2: the `[validFrom, validTo]` columns (default `_dlt_valid_from`, `_dlt_valid_to`). */
  validityColumnNames?: [string, string];
  /** scd2: `validTo` of active rows (default null), e.g. `'9999-12-31'`. */
  activeRecordTimestamp?: string | Date | null;
  /** scd2: the time rows are retired/inserted at (default, or null as in dlt: the load package's creation time). */
  boundaryTimestamp?: string | Date | null;
  /** scd2: a column holding the row's version (default: a hash of all user columns in `_dlt_id`). */
  rowVersionColumnName?: string;
}

/** A string shorthand or dlt's config dict (`{ disposition: 'merge', strategy: 'scd2', ... }`). */
export type WriteDispositionConfig = WriteDisposition | { disposition: Exclude<WriteDisposition, 'merge'> } | MergeDispositionConfig;

/** Job file formats normalize can write (docs/package-format.md). */
export type LoaderFileFormat = 'jsonl' | 'parquet' | 'csv';
export const LOADER_FILE_FORMATS: readonly LoaderFileFormat[] = ['jsonl', 'parquet', 'csv'];
export const WRITE_DISPOSITIONS: readonly WriteDisposition[] = ['append', 'replace', 'merge', 'skip'];

/** A column as kept in the schema. Names are already normalized (snake_case). */
export interface ColumnSchema {
  name: string;
  dataType: DataType;
  nullable: boolean;
  primaryKey?: boolean;
  mergeKey?: boolean;
  unique?: boolean;
  /** `_dlt_id`: the row's own key. */
  rowKey?: boolean;
  /** `_dlt_parent_id`: links a child row to its parent's `_dlt_id`. */
  parentKey?: boolean;
  /** `_dlt_root_id`: links a nested row to its root row (merge tables). */
  rootKey?: boolean;
  /** A `<col>__v_<type>` column made when a value did not fit the column's type. */
  variant?: boolean;
  precision?: number;
  scale?: number;
  timezone?: boolean;
  /**
   * Hints given before any data was seen (e.g. `primaryKey` on a column with no declared
   * type). Normalize sets the type from the first value and clears this; destinations
   * never create incomplete columns.
   */
  incomplete?: boolean;
  /** merge: a truthy value (true for bool, any non-null value otherwise) deletes the row's key (dlt's `hard_delete`). */
  hardDelete?: boolean;
  /** merge: which duplicate of a primary key wins within one load (dlt's `dedup_sort`). */
  dedupSort?: 'asc' | 'desc';
  /** dlt's description, partition, cluster and sort hints: kept for warehouse destinations; no effect here. */
  description?: string;
  partition?: boolean;
  cluster?: boolean;
  sort?: boolean;
}

/** Column hints a user may pass for a resource (keys are user names; normalized later). */
export interface ColumnHint {
  dataType?: DataType;
  nullable?: boolean;
  primaryKey?: boolean;
  mergeKey?: boolean;
  unique?: boolean;
  precision?: number;
  scale?: number;
  /** Timestamps: false makes a column without time zone (dlt's `timezone` hint; default true). */
  timezone?: boolean;
  /** merge: a truthy value deletes the row's key instead of writing it (dlt's `hard_delete`). */
  hardDelete?: boolean;
  /** merge: `desc` keeps the duplicate with the highest value, `asc` the lowest (dlt's `dedup_sort`). */
  dedupSort?: 'asc' | 'desc';
  /** dlt's description, partition, cluster and sort hints: kept in the schema; no effect on DuckDB, PostgreSQL or files. */
  description?: string;
  partition?: boolean;
  cluster?: boolean;
  sort?: boolean;
}

export interface TableSchema {
  name: string;
  /** Name of the parent table for nested (child) tables. */
  parent?: string;
  /** Resource that produced the (root) table. */
  resource?: string;
  /** Only set on root tables; child tables follow their root. */
  writeDisposition?: WriteDisposition;
  /** Root merge tables: the strategy (dlt's `x-merge-strategy`; absent: delete-insert). */
  mergeStrategy?: MergeStrategy;
  /** scd2 settings (dlt's `x-valid-from`/`x-valid-to` columns, `x-active-record-timestamp`, ...). */
  scd2?: Scd2Settings;
  /** Columns in the order they were added. */
  columns: Record<string, ColumnSchema>;
  /** Depth of nested child tables below this root; deeper data is kept as json. */
  maxTableNesting?: number;
  /** Only set on root tables (child tables follow their root); else the schema settings' one. */
  schemaContract?: SchemaContract;
  description?: string;
}

export interface Scd2Settings {
  validFrom: string;
  validTo: string;
  /** ISO text; absent: active rows have a null `validTo`. */
  activeRecordTimestamp?: string;
  /** ISO text; absent: the package's creation time. */
  boundaryTimestamp?: string;
  /** absent: `_dlt_id` holds a hash of the row's user columns. */
  rowVersionColumnName?: string;
}

export interface SchemaSettings {
  /** Max depth of child tables; deeper lists/objects are kept as json. */
  maxTableNesting?: number;
  /** Turn ISO-8601 strings into timestamps (dlt's `iso_timestamp` detection). */
  detectIsoTimestamps: boolean;
  /** The source's schema contract: for tables that have none of their own. */
  schemaContract?: SchemaContract;
}

/** The serialized schema document (schemas/<name>.schema.json, YAML export). */
export interface StoredSchema {
  name: string;
  version: number;
  versionHash: string;
  previousHashes: string[];
  engineVersion: number;
  settings: SchemaSettings;
  tables: Record<string, TableSchema>;
}

export const SCHEMA_ENGINE_VERSION = 1;
