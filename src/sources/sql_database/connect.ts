/** Opens the engine adapter for the credentials' dialect; each driver is loaded only when used. */
import type { SqlCredentials, SqlDialect } from './credentials.js';
import type { SqlEngine } from './engine.js';

const OPENERS: Record<SqlDialect, (c: SqlCredentials) => Promise<SqlEngine>> = {
  postgres: async (c) => (await import('./engines/postgres.js')).openPostgres(c),
  mysql: async (c) => (await import('./engines/mysql.js')).openMysql(c),
  sqlite: async (c) => (await import('./engines/sqlite.js')).openSqlite(c),
  duckdb: async (c) => (await import('./engines/duckdb.js')).openDuckdb(c),
};

export function openEngine(c: SqlCredentials): Promise<SqlEngine> {
  return OPENERS[c.dialect](c);
}
