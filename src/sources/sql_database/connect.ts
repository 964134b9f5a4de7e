/** Opens the engine adapter for the credentials' dialect; each driver is loaded only when used. */
import type { SqlCredentials } from './credentials.js';
import type { SqlEngine } from './engine.js';

export async function openEngine(c: SqlCredentials): Promise<SqlEngine> {
  switch (c.dialect) {
    case 'postgres':
      return (await import('./engines/postgres.js')).openPostgres(c);
    case 'mysql':
      return (await import('./engines/mysql.js')).openMysql(c);
    case 'sqlite':
      return (await import('./engines/sqlite.js')).openSqlite(c);
    case 'duckdb':
      return (await import('./engines/duckdb.js')).openDuckdb(c);
  }
}
