/**
 * `sqlDatabase()` and `sqlTable()`: dlt's sql_database source. Tables are reflected when the
 * source is made (so their columns, types and primary keys are hints before any row is read);
 * each resource opens its own connection when extracted and streams its rows in chunks.
 */
import { refuseUnknownOptions } from '../../common/option-keys.js';
import { camelCase } from '../../common/zod-issues.js';
import { redactError } from '../../config/redact.js';
import { InvalidOptionsError, SourceTableNotFoundError } from '../../errors.js';
import { Incremental } from '../../extract/incremental.js';
import { Resource, Source, resource, type ResourceContext } from '../../extract/resource.js';
import type { WriteDisposition } from '../../schema/types.js';
import { openEngine } from './connect.js';
import { resolveSqlCredentials, type SqlCredentials, type SqlCredentialsInput } from './credentials.js';
import type { ReflectedTable, SqlEngine } from './engine.js';
import { buildTableQuery, type SqlQuery } from './query.js';
import { columnHint, type ReflectionLevel, type SqlColumnHint } from './type-mapping.js';

export type { ReflectionLevel, SqlColumnHint } from './type-mapping.js';
export type { ReflectedTable, ReflectedColumn, ColumnKind } from './engine.js';
export type { SqlQuery } from './query.js';

/**
 * dlt's `backend`: only its default, `sqlalchemy`, exists here (the name is accepted so dlt
 * code ports as it is). `pyarrow`, `pandas` and `connectorx` are Python libraries; haul
 * refuses them with an InvalidOptionsError (see docs/decisions.md).
 */
export type SqlBackend = 'sqlalchemy';

/** Options both functions take. */
export interface SqlSourceCommonOptions {
  /** dlt's `backend`; only `'sqlalchemy'` (the default): rows come from the database's own driver. */
  backend?: SqlBackend;
  /** A connection string (`postgresql://…`, `mysql://…`, `duckdb:///file`, `sqlite:///file`) or its fields; default: `sources.sql_database.credentials` from env/.dlt. */
  credentials?: SqlCredentialsInput;
  /** The database schema (default: the connection's default, e.g. `public`, `main`; MySQL: the database). */
  schema?: string;
  /** Rows fetched from the server per round trip and yielded per item batch (default 50,000). */
  chunkSize?: number;
  /** `minimal`: names and nullability; `full` (default): data types; `full_with_precision`: plus lengths. */
  reflectionLevel?: ReflectionLevel;
  /** An `incremental('updated_at', {...})`: its range is pushed into the query. With sqlDatabase it applies to every table. */
  incremental?: Incremental;
  /** Change a reflected table before use: drop columns (splice `table.columns`), change kinds. */
  tableAdapterCallback?: (table: ReflectedTable) => ReflectedTable | void;
  /** Rewrite the query a table runs (SQL and its parameters; values must stay parameters). */
  queryAdapterCallback?: (query: SqlQuery, table: ReflectedTable, incremental: Incremental | undefined) => SqlQuery;
  writeDisposition?: WriteDisposition;
  primaryKey?: string | string[];
  mergeKey?: string | string[];
  /** Column hints merged over the reflected ones (user's keys win). */
  columns?: Record<string, SqlColumnHint>;
  /** Scopes config lookups of the credentials (`<pipelineName>.sources.sql_database.credentials`). */
  pipelineName?: string;
}

export interface SqlDatabaseOptions extends SqlSourceCommonOptions {
  /** Only these tables or views (default: every table of the schema). */
  tableNames?: string[];
  /** Also read the schema's views when `tableNames` is not given (default false); a view named in `tableNames` is read either way, as in dlt. */
  includeViews?: boolean;
  /** Source (and schema) name; default `sql_database`, as in dlt. */
  name?: string;
}

export interface SqlTableOptions extends SqlSourceCommonOptions {
  table: string;
  /** Resource name (default: the table name). */
  name?: string;
  /** Read only these columns (dlt's `included_columns`); the others are neither selected nor in the schema. */
  includedColumns?: string[];
  /** Leave these columns out of the SELECT and the schema (dlt's `excluded_columns`), e.g. large blobs or personal data. */
  excludedColumns?: string[];
}

const DEFAULT_CHUNK_SIZE = 50_000;
const PYTHON_BACKENDS = ['pyarrow', 'pandas', 'connectorx'];

/** Refuses dlt's Python-only backends before anything connects, saying what haul does instead. */
function checkBackend(options: SqlSourceCommonOptions & { backendKwargs?: unknown }): void {
  const backend: unknown = options.backend;
  if (backend !== undefined && backend !== 'sqlalchemy') {
    const why = PYTHON_BACKENDS.includes(backend as string)
      ? `dlt's "${String(backend)}" backend is a Python library haul does not have`
      : 'it is not one of dlt\'s backends';
    throw new InvalidOptionsError(
      `sql_database backend "${String(backend)}"`,
      `${why}. haul has only "sqlalchemy" (the default): rows are read by the database's own driver ` +
        '(PostgreSQL COPY or a cursor, mysql2, better-sqlite3, DuckDB) and land with the tables, columns and types of dlt\'s default backend. ' +
        'Leave backend out (or pass "sqlalchemy"); chunkSize sets how many rows are read and yielded at a time',
    );
  }
  if (options.backendKwargs !== undefined) {
    throw new InvalidOptionsError('sql_database backendKwargs', 'they configure dlt\'s pyarrow, pandas and connectorx backends, which haul does not have; remove them');
  }
}

const COMMON_KEYS = ['backend', 'backendKwargs', 'credentials', 'schema', 'chunkSize', 'reflectionLevel', 'incremental', 'tableAdapterCallback', 'queryAdapterCallback', 'writeDisposition', 'primaryKey', 'mergeKey', 'columns', 'pipelineName'];
const DATABASE_KEYS = new Set([...COMMON_KEYS, 'tableNames', 'includeViews', 'name']);
const TABLE_KEYS = new Set([...COMMON_KEYS, 'table', 'name', 'includedColumns', 'excludedColumns']);

/** dlt options haul does not take, and what does their job here (keys in camelCase). */
const DLT_OPTIONS_ELSEWHERE: Record<string, string> = {
  deferTableReflect:
    'haul reflects when sqlDatabase()/sqlTable() is awaited; to reflect in each run on a Temporal worker, register a factory: `sources = { shop: () => sqlDatabase({ ... }) }`',
  detectPrecisionHints: "use reflectionLevel: 'full_with_precision'",
  typeAdapterCallback: 'change a column\'s kind in tableAdapterCallback(table), or give its type in `columns`',
  metadata: 'there is no SQLAlchemy MetaData here: pass schema (and tableNames)',
  engineAdapterCallback: 'there is no SQLAlchemy engine here: connection settings go in the credentials',
  engineKwargs: 'there is no SQLAlchemy engine here: connection settings go in the credentials',
  resolveForeignKeys: 'foreign keys are not reflected into references',
  tableLoaderClass: 'rows are read by the database driver (see backend)',
};

function refuseDltOnlyOptions(options: object, where: string): void {
  for (const key of Object.keys(options)) {
    const advice = DLT_OPTIONS_ELSEWHERE[camelCase(key)];
    if (advice) throw new InvalidOptionsError(where, `dlt's option "${key}" is not taken: ${advice}`);
  }
}

/** One resource per table of a database schema (or of `tableNames`). */
export async function sqlDatabase(options: SqlDatabaseOptions = {}): Promise<Source> {
  refuseDltOnlyOptions(options, 'sqlDatabase');
  refuseUnknownOptions(options, DATABASE_KEYS, 'sqlDatabase');
  checkBackend(options);
  const credentials = resolveSqlCredentials(options.credentials, options.pipelineName);
  const tables = await withEngine(credentials, async (engine) => {
    const known = await engine.listTables(options.schema, options.includeViews ?? false);
    if (options.schema !== undefined && options.tableNames === undefined && (await engine.listTables(options.schema, true)).length === 0) {
      // a mistyped schema (MySQL has none: there it is the database) would load nothing, successfully
      throw new InvalidOptionsError(`sqlDatabase schema "${options.schema}"`, `has no tables or views at ${engine.location}; check that it exists and is spelled as the database spells it (on MySQL/MariaDB the schema is the database)`);
    }
    const names = options.tableNames ?? known;
    const out: ReflectedTable[] = [];
    for (const name of names) {
      // a view named in tableNames is read without includeViews, as dlt reflects any object it is given by name
      const t = await engine.reflectTable(options.schema, name);
      if (!t) throw new SourceTableNotFoundError(engine.location, name, known);
      out.push(t);
    }
    return out;
  });
  const resources: Record<string, Resource> = {};
  for (const t of tables) {
    const r = tableResource(credentials, adapt(t, options), options, options.incremental && copyOf(options.incremental));
    resources[r.name] = r;
  }
  const name = options.name ?? 'sql_database';
  return new Source(name, resources, name, undefined, undefined, true);
}

/** One table as a resource. */
export async function sqlTable(options: SqlTableOptions): Promise<Resource> {
  if (!options?.table) throw new InvalidOptionsError('sqlTable', 'pass { table: "<table name>" }');
  refuseDltOnlyOptions(options, 'sqlTable');
  refuseUnknownOptions(options, TABLE_KEYS, 'sqlTable');
  checkBackend(options);
  const credentials = resolveSqlCredentials(options.credentials, options.pipelineName);
  const table = await withEngine(credentials, async (engine) => {
    const t = await engine.reflectTable(options.schema, options.table);
    if (!t) throw new SourceTableNotFoundError(engine.location, options.table, await engine.listTables(options.schema, true));
    return t;
  });
  return tableResource(credentials, adapt(selectColumns(table, options), options), options, options.incremental, options.name);
}

/**
 * dlt's `included_columns` / `excluded_columns`, applied before the table adapter. A name the
 * table does not have is refused (dlt ignores it): a misspelled exclusion would load the
 * very column it was meant to keep out.
 */
function selectColumns(table: ReflectedTable, options: SqlTableOptions): ReflectedTable {
  const { includedColumns: included, excludedColumns: excluded } = options;
  if (included === undefined && excluded === undefined) return table;
  const names = new Set(table.columns.map((c) => c.name));
  for (const [option, list] of [['includedColumns', included], ['excludedColumns', excluded]] as const) {
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.some((n) => typeof n !== 'string')) throw new InvalidOptionsError('sqlTable', `\`${option}\` must be a list of column names`);
    const unknown = list.filter((n) => !names.has(n));
    if (unknown.length > 0) {
      throw new InvalidOptionsError('sqlTable', `\`${option}\` names ${unknown.map((n) => `"${n}"`).join(', ')}, which table "${table.name}" does not have; its columns are ${[...names].join(', ')}`);
    }
  }
  const keep = (name: string) => (included === undefined || included.includes(name)) && !(excluded ?? []).includes(name);
  const columns = table.columns.filter((c) => keep(c.name));
  if (columns.length === 0) throw new InvalidOptionsError('sqlTable', `no column of table "${table.name}" is left to read: check includedColumns and excludedColumns`);
  return { ...table, columns, primaryKey: table.primaryKey.filter(keep) };
}

async function withEngine<T>(credentials: SqlCredentials, fn: (engine: SqlEngine) => Promise<T>): Promise<T> {
  let engine: SqlEngine | undefined;
  try {
    engine = await openEngine(credentials);
    return await fn(engine);
  } catch (e) {
    throw redactError(e);
  } finally {
    await engine?.close();
  }
}

function adapt(table: ReflectedTable, options: SqlSourceCommonOptions): ReflectedTable {
  const copy: ReflectedTable = { ...table, columns: table.columns.map((c) => ({ ...c })), primaryKey: [...table.primaryKey] };
  return options.tableAdapterCallback?.(copy) ?? copy;
}

/** Each table resource needs its own cursor object (state is bound per resource). */
function copyOf(inc: Incremental): Incremental {
  return new Incremental(inc.cursorPath, inc.options);
}

function tableResource(
  credentials: SqlCredentials,
  table: ReflectedTable,
  options: SqlSourceCommonOptions,
  incremental: Incremental | undefined,
  name = table.name,
): Resource {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new InvalidOptionsError('sql_database chunkSize', 'must be a whole number of rows, at least 1');
  const level = options.reflectionLevel ?? 'full';
  const columns: Record<string, SqlColumnHint> = {};
  for (const c of table.columns) {
    const hint = columnHint(c, level);
    if (Object.keys(hint).length > 0) columns[c.name] = hint;
  }
  for (const [col, hint] of Object.entries(options.columns ?? {})) columns[col] = { ...columns[col], ...hint };
  const primaryKey = options.primaryKey ?? (table.primaryKey.length === 0 ? undefined : table.primaryKey.length === 1 ? table.primaryKey[0] : table.primaryKey);

  async function* readTable(ctx: ResourceContext): AsyncGenerator<Record<string, unknown>[]> {
    let engine: SqlEngine | undefined;
    try {
      engine = await openEngine(credentials);
      let query = buildTableQuery(engine, table, ctx.incremental);
      if (options.queryAdapterCallback) query = options.queryAdapterCallback(query, table, ctx.incremental);
      yield* engine.streamRows(query.sql, query.params, chunkSize);
    } catch (e) {
      throw redactError(e);
    } finally {
      await engine?.close();
    }
  }
  Object.defineProperty(readTable, 'name', { value: name });

  return resource(readTable, {
    name,
    writeDisposition: options.writeDisposition,
    primaryKey,
    mergeKey: options.mergeKey,
    columns,
    incremental,
  });
}
