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
}

export interface TableSchema {
  name: string;
  /** Name of the parent table for nested (child) tables. */
  parent?: string;
  /** Resource that produced the (root) table. */
  resource?: string;
  /** Only set on root tables; child tables follow their root. */
  writeDisposition?: WriteDisposition;
  /** Columns in the order they were added. */
  columns: Record<string, ColumnSchema>;
  /** Depth of nested child tables below this root; deeper data is kept as json. */
  maxTableNesting?: number;
  /** Only set on root tables (child tables follow their root); else the schema settings' one. */
  schemaContract?: SchemaContract;
  description?: string;
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
