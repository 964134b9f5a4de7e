/**
 * Credentials of the database a sql_database source reads, as dlt's ConnectionStringCredentials:
 * a connection string (`postgresql://loader:pw@db:5432/shop`, `mysql://…`, `mariadb://…`,
 * `duckdb:///path/to/file.duckdb`, `sqlite:///path/to/file.db`) or its fields, given in
 * code or found at `sources.sql_database.credentials` (env, .dlt/secrets.toml, config.toml).
 * The password (and the whole string) become known secrets, so redaction hides them; errors
 * here never repeat the string.
 */
import { resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { ConfigValueMissingError, config, secrets } from '../../config/index.js';
import { registerSecret } from '../../config/redact.js';
import { connectionUrlParts } from '../../config/connection-url.js';
import { InvalidOptionsError } from '../../errors.js';

export type SqlDialect = 'postgres' | 'mysql' | 'sqlite' | 'duckdb';

export interface SqlCredentials {
  dialect: SqlDialect;
  /** The scheme as written (`postgresql`, `mysql+pymysql`, `mariadb`, `duckdb`, `sqlite`). */
  drivername: string;
  host?: string;
  port?: number;
  /** Database name (servers) or file path (DuckDB, SQLite; `:memory:` for none). */
  database?: string;
  username?: string;
  password?: string;
  /** Query parameters of the connection string (e.g. `sslmode`, `connect_timeout`). */
  query: Record<string, string>;
}

/** What a user may pass: a connection string or the fields (dlt's names). */
export type SqlCredentialsInput = string | (Partial<Omit<SqlCredentials, 'dialect' | 'query'>> & { drivername: string; query?: Record<string, string> });

export const CREDENTIALS_PATH = 'sources.sql_database.credentials';

const SCHEMES: Record<string, SqlDialect> = {
  postgresql: 'postgres',
  postgres: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  duckdb: 'duckdb',
  sqlite: 'sqlite',
};

/** Engines whose database is a file (SQLAlchemy's `scheme:///path` URLs). */
const FILE_DIALECTS: ReadonlySet<SqlDialect> = new Set<SqlDialect>(['sqlite', 'duckdb']);

const EXAMPLE = 'postgresql://loader:<password>@db.example.com:5432/shop, mysql://root@127.0.0.1:3306/shop, duckdb:///shop.duckdb or sqlite:///shop.db';

/** `postgresql+psycopg2` -> postgres. */
export function dialectOf(drivername: string): SqlDialect {
  const base = drivername.toLowerCase().split('+')[0]!;
  const d = SCHEMES[base];
  if (!d) throw new InvalidOptionsError('sql_database credentials', `unsupported database "${base}"; haul reads ${Object.keys(SCHEMES).join(', ')} (e.g. ${EXAMPLE})`);
  return d;
}

/** Parses a connection string; errors name the part that is wrong, never the string. */
export function parseSqlConnectionString(text: string): SqlCredentials {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(text.trim());
  if (!m) throw new InvalidOptionsError('sql_database credentials', `the connection string is not a URL; expected one such as ${EXAMPLE}`);
  const drivername = m[1]!.toLowerCase();
  const dialect = dialectOf(drivername);
  if (FILE_DIALECTS.has(dialect)) {
    // SQLAlchemy's file URLs: `sqlite:///relative.db`, `sqlite:////absolute.db`, `duckdb:///:memory:`.
    const rest = m[2]!;
    const [pathPart, queryPart] = splitOnce(rest, '?');
    if (!pathPart.startsWith('/')) throw new InvalidOptionsError('sql_database credentials', `a ${dialect} connection string has three slashes before the file path: ${dialect}:///path/to/file`);
    const path = decodeURIComponent(pathPart.slice(1));
    return { dialect, drivername, database: path || ':memory:', query: queryOf(queryPart) };
  }
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new InvalidOptionsError('sql_database credentials', `the connection string is not a valid URL; expected one such as ${EXAMPLE}`);
  }
  const out: SqlCredentials = { dialect, drivername, query: Object.fromEntries(url.searchParams), ...connectionUrlParts(url) };
  return out;
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

function queryOf(q: string): Record<string, string> {
  return q ? Object.fromEntries(new URLSearchParams(q)) : {};
}

const intLike = z.union([z.number().int().positive(), z.string().regex(/^\d+$/).transform(Number)]);
const fieldsSchema = z
  .object({ drivername: z.string().min(1), host: z.string().min(1), port: intLike, database: z.string().min(1), username: z.string().min(1) })
  .partial();
const passwordSchema = z.object({ password: z.string() }).partial();
const nativeSchema = z.union([z.string(), z.record(z.string(), z.unknown())]);
const codeSchema = z
  .object({
    drivername: z.string().min(1),
    host: z.string().min(1).optional(),
    port: intLike.optional(),
    database: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    query: z.record(z.string(), z.string()).optional(),
  })
  .strict();

function fromCode(input: SqlCredentialsInput): SqlCredentials {
  if (typeof input === 'string') return parseSqlConnectionString(input);
  const r = codeSchema.safeParse(input);
  if (!r.success) {
    // Field names only: the values may be secret.
    throw new InvalidOptionsError('sql_database credentials', r.error.issues.map((i) => `${i.path.join('.') || '(credentials)'}: ${i.message}`).join('; '));
  }
  const { query, ...rest } = r.data;
  return { ...rest, dialect: dialectOf(r.data.drivername), query: query ?? {} };
}

/**
 * The credentials to use: given in code, else a connection string at
 * `sources.sql_database.credentials`, else its fields (`[sources.sql_database.credentials]`
 * drivername, host, port, database, username in config or secrets, password in secrets).
 */
export function resolveSqlCredentials(explicit?: SqlCredentialsInput, pipelineName?: string): SqlCredentials {
  if (explicit !== undefined) {
    if (typeof explicit === 'string') registerSecret(explicit);
    const c = fromCode(explicit);
    registerSecret(c.password);
    return finish(c);
  }
  const native = secrets.getOptional(CREDENTIALS_PATH, nativeSchema, { pipelineName });
  if (typeof native === 'string' && native.trim()) {
    const c = parseSqlConnectionString(native);
    registerSecret(c.password);
    return finish(c);
  }
  const fields = config.getOptional(CREDENTIALS_PATH, fieldsSchema, { pipelineName, fieldsOnly: true }) ?? {};
  const pw = secrets.getOptional(CREDENTIALS_PATH, passwordSchema, { pipelineName, fieldsOnly: true }) ?? {};
  if (!fields.drivername) {
    throw new ConfigValueMissingError(CREDENTIALS_PATH, 'secret', [
      'explicit argument: sqlDatabase({ credentials })',
      `environment: ${CREDENTIALS_PATH.split('.').join('__').toUpperCase()} (a connection string such as ${EXAMPLE})`,
      `.dlt/secrets.toml: [sources.sql_database] credentials = "..." or [${CREDENTIALS_PATH}] drivername, host, port, database, username, password`,
    ]);
  }
  registerSecret(pw.password);
  return finish({
    dialect: dialectOf(fields.drivername),
    drivername: fields.drivername,
    host: fields.host,
    port: fields.port,
    database: fields.database,
    username: fields.username,
    password: pw.password,
    query: {},
  });
}

function finish(c: SqlCredentials): SqlCredentials {
  if (FILE_DIALECTS.has(c.dialect)) {
    const db = c.database ?? ':memory:';
    return { ...c, database: db === ':memory:' ? db : resolvePath(db) };
  }
  if (!c.database) throw new InvalidOptionsError('sql_database credentials', `the ${c.dialect} connection string names no database: add it after the host, e.g. ${c.drivername}://user@host/database`);
  return { ...c, host: c.host ?? 'localhost', port: c.port ?? (c.dialect === 'postgres' ? 5432 : 3306) };
}

/** How errors and logs name the database: `postgres 127.0.0.1:5432/shop` or the file; never the password. */
export function credentialsLocation(c: SqlCredentials): string {
  if (FILE_DIALECTS.has(c.dialect)) return `${c.dialect} ${c.database}`;
  const host = c.host?.includes(':') ? `[${c.host}]` : c.host;
  return `${c.dialect} ${host}:${c.port}/${c.database}`;
}
