export { sqlDatabase, sqlTable } from './sql-database.js';
export type { SqlDatabaseOptions, SqlTableOptions, SqlSourceCommonOptions, SqlBackend, ReflectionLevel, SqlColumnHint, ReflectedTable, ReflectedColumn, ColumnKind, SqlQuery } from './sql-database.js';
export type { SqlCredentials, SqlCredentialsInput, SqlDialect } from './credentials.js';
export { SourceDatabaseNotFoundError } from './connect-errors.js';
