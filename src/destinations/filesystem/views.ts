import type { ColumnSchema } from '../../schema/types.js';
import { DuckDBSqlClient } from '../duckdb/connection.js';
import { DuckDBDialect } from '../duckdb/dialect.js';
import { quoteStringLiteralStandard } from '../sql/dialect.js';
import type { FileStorage } from '../../common/file-storage.js';
import { joinPath } from '../../common/file-storage.js';
import { CSV_READ_OPTIONS, csvReadExpr } from '../../storage/job-formats.js';
import { JOB_MARKERS_DIR } from './system-files.js';

/**
 * The filesystem destination's SQL side, as dlt does it: an in-memory DuckDB of this client
 * alone with one view per table folder over the table's files (typed by the stored schema),
 * in a schema named like the dataset. Views are rebuilt before each use, so they always see
 * the files that are there now.
 */
export class FilesystemViews {
  readonly sql = new DuckDBSqlClient(':memory:', { memory_limit: '256MB' }, true);
  readonly dialect = new DuckDBDialect(() => this.sql.catalog);

  constructor(
    private readonly storage: FileStorage,
    private readonly datasetDir: string,
    private readonly datasetName: string,
    /** Columns per table, from the stored schemas (system tables included). */
    private readonly knownColumns: () => Promise<Map<string, ColumnSchema[]>>,
  ) {}

  async refresh(): Promise<void> {
    await this.sql.open(); // the catalog name is known once connected
    const schema = this.dialect.qualifySchema(this.datasetName);
    if (!(await this.storage.listDirs('')).includes(this.datasetDir)) {
      // no dataset folder (never loaded, or dropped): no schema either, as on a database
      await this.sql.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      return;
    }
    const known = await this.knownColumns();
    const statements: string[] = [];
    for (const table of await this.storage.listDirs(this.datasetDir)) {
      if (table === JOB_MARKERS_DIR) continue;
      const files = await this.storage.listFiles(joinPath(this.datasetDir, table));
      const of = (ext: string) => files.filter((f) => f.endsWith(`.${ext}`));
      const select = await this.tableSelect(known.get(table), of('jsonl'), of('parquet'), of('csv'));
      if (select) statements.push(`CREATE VIEW ${this.dialect.qualify({ schema: this.datasetName, table })} AS ${select}`);
    }
    await this.sql.transaction(async (tx) => {
      await tx.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await tx.execute(`CREATE SCHEMA ${schema}`);
      for (const s of statements) await tx.execute(s);
    });
    await this.sql.setDefaultSchema(this.datasetName);
  }

  /** A list literal of the files' reader paths. */
  private listOf(files: string[]): string {
    return `[${files.map((f) => quoteStringLiteralStandard(this.storage.readerPath(f))).join(', ')}]`;
  }

  /**
   * The SELECT of a table's view. Typed by the stored schema: a typed empty row set holds every
   * column and each format's files are unioned into it by name, so a column older files lack
   * reads as NULL. A folder no stored schema describes (e.g. a table put aside by a refresh) is
   * read with DuckDB's own inference.
   */
  private async tableSelect(columns: ColumnSchema[] | undefined, jsonl: string[], parquet: string[], csv: string[]): Promise<string | undefined> {
    const q = (name: string) => this.dialect.quoteIdentifier(name);
    const csvFrom = csv.length > 0 ? `read_csv(${this.listOf(csv)}, ${CSV_READ_OPTIONS})` : '';
    if (!columns || columns.length === 0) {
      const parts = [
        ...(jsonl.length > 0 ? [`SELECT * FROM read_json_auto(${this.listOf(jsonl)}, format = 'newline_delimited')`] : []),
        ...(parquet.length > 0 ? [`SELECT * FROM read_parquet(${this.listOf(parquet)}, union_by_name = true)`] : []),
        ...(csv.length > 0 ? [`SELECT * FROM read_csv(${this.listOf(csv)}, header = true, union_by_name = true)`] : []),
      ];
      return parts.length === 0 ? undefined : parts.join(' UNION ALL BY NAME ');
    }
    const parts = [`SELECT ${columns.map((c) => `CAST(NULL AS ${this.dialect.columnType(c)}) AS ${q(c.name)}`).join(', ')} WHERE false`];
    if (jsonl.length > 0) parts.push(this.dialect.selectJsonlSql(columns, this.listOf(jsonl)));
    if (parquet.length > 0) {
      // parquet's own types are kept
      const wanted = columns.map((c) => quoteStringLiteralStandard(c.name)).join(', ');
      parts.push(`SELECT COLUMNS(c -> c IN (${wanted})) FROM read_parquet(${this.listOf(parquet)}, union_by_name = true)`);
    }
    if (csv.length > 0) {
      // csv is text: the header names the columns the files hold, each is cast to its schema type
      const present = new Set((await this.sql.query<{ column_name: string }>(`DESCRIBE SELECT * FROM ${csvFrom}`)).map((r) => r.column_name));
      const cols = columns.filter((c) => present.has(c.name));
      if (cols.length > 0) parts.push(`SELECT ${cols.map((c) => `${csvReadExpr(c, q(c.name), this.dialect.columnType(c))} AS ${q(c.name)}`).join(', ')} FROM ${csvFrom}`);
    }
    return parts.length === 1 ? parts[0]! : `SELECT ${columns.map((c) => q(c.name)).join(', ')} FROM (${parts.join(' UNION ALL BY NAME ')})`;
  }

  async close(): Promise<void> {
    await this.sql.close();
  }
}
