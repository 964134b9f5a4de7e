// Importing a destination's folder registers it by name.
import './duckdb/index.js';
import './postgres/index.js';
import './filesystem/index.js';

export * from './types.js';
export { duckdb, DuckDBClient, type DuckDBOptions } from './duckdb/index.js';
export { postgres, PostgresClient, type PostgresOptions } from './postgres/index.js';
export { filesystem, FilesystemClient, type FilesystemOptions, type FileStorage, LocalFileStorage } from './filesystem/index.js';
export { SqlDatasetReader } from './sql/dataset-reader.js';
export { SqlJobClient, type SqlJobClientOptions } from './sql/job-client.js';
export type { SqlClient, SqlDialect, SqlExecutor, TableRef } from './sql/dialect.js';
export {
  LOADS_TABLE_SCHEMA,
  VERSION_TABLE_SCHEMA,
  JOBS_TABLE_SCHEMA,
  STATE_TABLE_SCHEMA,
} from './sql/system-tables.js';

export { registerDestination, registeredDestinations, resolveDestination, isDestinationFactory, DEFAULT_DESTINATION, type DestinationMaker } from './registry.js';
