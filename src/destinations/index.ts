import { InvalidOptionsError } from '../errors.js';
import { duckdb } from './duckdb/index.js';
import type { DestinationFactory } from './types.js';

export * from './types.js';
export { duckdb, DuckDBClient, type DuckDBOptions } from './duckdb/index.js';
export { SqlJobClient, type SqlJobClientOptions } from './sql/job-client.js';
export type { SqlClient, SqlDialect, SqlExecutor, TableRef } from './sql/dialect.js';
export {
  LOADS_TABLE_SCHEMA,
  VERSION_TABLE_SCHEMA,
  JOBS_TABLE_SCHEMA,
  STATE_TABLE_SCHEMA,
} from './sql/system-tables.js';

/** Destinations that can be named by a string (their default configuration). */
const BY_NAME: Record<string, (options: Record<string, unknown>) => DestinationFactory> = {
  duckdb: (options) => duckdb(options),
};

/**
 * `'duckdb'` -> `duckdb(options)` (options as stored from a factory's `options`); a factory
 * is returned as is.
 */
export function resolveDestination(
  dest: string | DestinationFactory,
  options: Readonly<Record<string, unknown>> = {},
): DestinationFactory {
  if (typeof dest !== 'string') {
    if (dest && typeof dest.createClient === 'function' && typeof dest.destinationName === 'string') return dest;
    throw new InvalidOptionsError('destination', 'expected a destination name or a destination factory such as duckdb({ path })');
  }
  const make = BY_NAME[dest];
  if (!make) {
    throw new InvalidOptionsError(
      'destination',
      `unknown destination ${JSON.stringify(dest)}; known: ${Object.keys(BY_NAME).join(', ')} (or pass a factory such as duckdb({ path }))`,
    );
  }
  return make({ ...options });
}
