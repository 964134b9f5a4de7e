import type { Schema } from '../../schema/schema.js';
import { C_DLT_ID, C_DLT_PARENT_ID, C_DLT_ROOT_ID } from '../../schema/system.js';
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
    const compression = this.dialect.columnCompression?.(c);
    return `${this.q(c.name)} ${this.dialect.columnType(c)}${collation ? ` COLLATE ${this.q(collation)}` : ''}${compression ? ` USING COMPRESSION ${compression}` : ''}${withNotNull && c.nullable === false ? ' NOT NULL' : ''}`;
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
   * Columns added to an existing table are always nullable: old rows have no value, except
   * a nested table's root key, which is filled from the parent chain (fillRootKeys).
   * Tables without columns are skipped (nothing to create yet). Returns changed table names.
   * `tableOf` finds a parent that is not among `tables`.
   */
  async migrateTables(ex: SqlExecutor, tables: TableSchema[], tableOf: (name: string) => TableSchema | undefined = () => undefined): Promise<string[]> {
    const existing = await this.existingColumns(ex);
    const changed: string[] = [];
    const rootKeysAdded: TableSchema[] = [];
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
        if (table.parent !== undefined && rootKeyOf(table) === c.name) rootKeysAdded.push(table);
      }
      if (altered) changed.push(table.name);
    }
    const find = (name: string) => tables.find((t) => t.name === name) ?? tableOf(name);
    await this.fillRootKeys(ex, rootKeysAdded, find);
    return changed;
  }

  /**
   * A nested table loaded before its root became a merge table has rows without a root key.
   * Merge deletes a root's nested rows by that key, so those rows would outlive their root's
   * replacement (dlt refuses the migration instead: its root key is NOT NULL). Fills it, the
   * tables nearest the root first: a child of the root takes its parent key, a deeper one its
   * parent's root key.
   */
  private async fillRootKeys(ex: SqlExecutor, tables: TableSchema[], find: (name: string) => TableSchema | undefined): Promise<void> {
    const depth = (t: TableSchema): number => {
      let n = 0;
      for (let p = t.parent; p !== undefined && n < 64; p = find(p)?.parent) n++;
      return n;
    };
    for (const table of [...tables].sort((a, b) => depth(a) - depth(b))) {
      const parent = find(table.parent!);
      if (parent === undefined) continue; // not in the schema: nothing to follow
      const rootKey = this.q(rootKeyOf(table)!);
      const parentKey = this.q(Object.values(table.columns).find((c) => c.parentKey)?.name ?? C_DLT_PARENT_ID);
      if (parent.parent === undefined) {
        await ex.execute(`UPDATE ${this.t(table.name)} SET ${rootKey} = ${parentKey} WHERE ${rootKey} IS NULL`);
        continue;
      }
      const parentRowKey = this.q(Object.values(parent.columns).find((c) => c.rowKey)?.name ?? C_DLT_ID);
      const parentRootKey = this.q(rootKeyOf(parent) ?? C_DLT_ROOT_ID);
      await ex.execute(
        `UPDATE ${this.t(table.name)} AS x SET ${rootKey} = p.${parentRootKey} FROM ${this.t(parent.name)} AS p ` +
          `WHERE p.${parentRowKey} = x.${parentKey} AND x.${rootKey} IS NULL`,
      );
    }
  }
}

/** The name of a nested table's root key column (`_dlt_root_id`), if it has one. */
export function rootKeyOf(t: TableSchema): string | undefined {
  const cols = Object.values(t.columns);
  return cols.find((c) => c.rootKey)?.name ?? (t.columns[C_DLT_ROOT_ID] ? C_DLT_ROOT_ID : undefined);
}

/** The columns of a table that exist at the destination (incomplete ones are hints no data has filled yet). */
export function columnsOf(schema: Schema, table: string): ColumnSchema[] {
  const t = schema.getTable(table);
  return t ? Object.values(t.columns).filter((c) => !c.incomplete) : [];
}
