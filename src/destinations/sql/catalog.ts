import type { Schema } from '../../schema/schema.js';
import type { ColumnSchema, TableSchema } from '../../schema/types.js';
import type { SqlDialect, SqlExecutor, TableRef } from './dialect.js';

/*
 * What a SQL destination knows about one dataset: how its names are written (qualified,
 * quoted, folded when the database ignores case), what exists (information_schema), and
 * migration, which only creates what is missing. Shared by the job client and the job
 * loader; holds no connection (every call gets the executor to run on).
 */
export class SqlCatalog {
  constructor(
    private readonly dialect: SqlDialect,
    readonly datasetName: string,
    /** Where merge stages its rows: `<dataset>_staging`, as in dlt. */
    readonly stagingDatasetName: string,
  ) {}

  // ---------------------------------------------------------------- names

  ref(table: string, staging = false): TableRef {
    return { schema: staging ? this.stagingDatasetName : this.datasetName, table };
  }

  /** Qualified, quoted table name in the dataset (or its staging dataset). */
  t(table: string, staging = false): string {
    return this.dialect.qualify(this.ref(table, staging));
  }

  q(identifier: string): string {
    return this.dialect.quoteIdentifier(identifier);
  }

  /** A name as information_schema compares it (lower case when the database ignores case). */
  fold(name: string): string {
    return this.dialect.caseInsensitiveIdentifiers ? name.toLowerCase() : name;
  }

  /** Parameter `$param`, cast to the column's type (for databases that cannot infer it). */
  cast(param: number, column: ColumnSchema): string {
    return `CAST($${param} AS ${this.dialect.columnType(column)})`;
  }

  columnDef(c: ColumnSchema, withNotNull: boolean): string {
    const collation = this.dialect.columnCollation?.(c);
    return `${this.q(c.name)} ${this.dialect.columnType(c)}${collation ? ` COLLATE ${this.q(collation)}` : ''}${withNotNull && c.nullable === false ? ' NOT NULL' : ''}`;
  }

  // ---------------------------------------------------------------- what exists

  async schemaExists(ex: SqlExecutor, schemaName: string): Promise<boolean> {
    const rows = await ex.query(
      'SELECT schema_name FROM information_schema.schemata WHERE schema_name = $1',
      [schemaName],
    );
    return rows.length > 0;
  }

  /** Tables of a schema (folded names when the database ignores case). */
  async tableNames(ex: SqlExecutor, schemaName: string): Promise<Set<string>> {
    const rows = await ex.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [schemaName],
    );
    return new Set(rows.map((r) => this.fold(r.table_name)));
  }

  async tableExists(ex: SqlExecutor, table: string): Promise<boolean> {
    return (await this.tableNames(ex, this.datasetName)).has(this.fold(table));
  }

  /** Existing columns per table of the dataset, read from information_schema. */
  private async existingColumns(ex: SqlExecutor): Promise<Map<string, Set<string>>> {
    const rows = await ex.query<{ table_name: string; column_name: string }>(
      'SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1',
      [this.datasetName],
    );
    const out = new Map<string, Set<string>>();
    for (const r of rows) {
      const key = this.fold(r.table_name);
      let set = out.get(key);
      if (!set) out.set(key, (set = new Set()));
      set.add(this.fold(r.column_name));
    }
    return out;
  }

  // ---------------------------------------------------------------- migration

  async createSchemaIfMissing(ex: SqlExecutor, schemaName: string): Promise<void> {
    if (!(await this.schemaExists(ex, schemaName))) {
      await ex.execute(`CREATE SCHEMA IF NOT EXISTS ${this.dialect.qualifySchema(schemaName)}`);
    }
  }

  /**
   * Creates missing tables and adds missing columns (never drops or changes a column).
   * Columns added to an existing table are always nullable: old rows have no value.
   * Tables without columns are skipped (nothing to create yet). Returns changed table names.
   */
  async migrateTables(ex: SqlExecutor, tables: TableSchema[]): Promise<string[]> {
    const existing = await this.existingColumns(ex);
    const changed: string[] = [];
    for (const table of tables) {
      const cols = Object.values(table.columns).filter((c) => !c.incomplete);
      if (cols.length === 0) continue;
      const have = existing.get(this.fold(table.name));
      if (!have) {
        await ex.execute(
          `CREATE TABLE ${this.t(table.name)} (${cols.map((c) => this.columnDef(c, true)).join(', ')})`,
        );
        existing.set(this.fold(table.name), new Set(cols.map((c) => this.fold(c.name))));
        changed.push(table.name);
        continue;
      }
      let altered = false;
      for (const c of cols) {
        if (have.has(this.fold(c.name))) continue;
        await ex.execute(`ALTER TABLE ${this.t(table.name)} ADD COLUMN ${this.columnDef(c, false)}`);
        have.add(this.fold(c.name));
        altered = true;
      }
      if (altered) changed.push(table.name);
    }
    return changed;
  }
}

/** The columns of a table that exist at the destination (incomplete ones are hints no data has filled yet). */
export function columnsOf(schema: Schema, table: string): ColumnSchema[] {
  const t = schema.getTable(table);
  return t ? Object.values(t.columns).filter((c) => !c.incomplete) : [];
}
