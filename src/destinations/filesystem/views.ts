import type { ColumnSchema } from '../../schema/types.js';
import { DuckDBSqlClient } from '../duckdb/connection.js';
import { DuckDBDialect } from '../duckdb/dialect.js';
import { quoteStringLiteralStandard } from '../sql/dialect.js';
import type { FileStorage } from '../../common/file-storage.js';
import { joinPath } from '../../common/file-storage.js';
import { JOB_MARKERS_DIR } from './system-files.js';

/** Job file formats the views read, by file extension. */
const READABLE_EXTENSIONS = ['jsonl', 'parquet'];

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
      const all = (await this.storage.listFiles(joinPath(this.datasetDir, table))).filter((f) => READABLE_EXTENSIONS.some((e) => f.endsWith(`.${e}`)));
      const files = all.filter((f) => f.endsWith('.jsonl'));
      const parquet = all.filter((f) => f.endsWith('.parquet'));
      const view = this.dialect.qualify({ schema: this.datasetName, table });
      const columns = known.get(table);
      const listOf = (fs: string[]) => `[${fs.map((f) => quoteStringLiteralStandard(this.storage.readerPath(f))).join(', ')}]`;
      const list = listOf(files);
      if (columns && columns.length > 0) {
        // A typed empty row set holds every column; each format's files are unioned into it by name,
        // so a column older files lack reads as NULL and parquet's own types are kept.
        const parts = [`SELECT ${columns.map((c) => `CAST(NULL AS ${this.dialect.columnType(c)}) AS ${this.dialect.quoteIdentifier(c.name)}`).join(', ')} WHERE false`];
        if (files.length > 0) parts.push(this.dialect.selectJsonlSql(columns, list));
        if (parquet.length > 0) {
          const wanted = columns.map((c) => quoteStringLiteralStandard(c.name)).join(', ');
          parts.push(`SELECT COLUMNS(c -> c IN (${wanted})) FROM read_parquet(${listOf(parquet)}, union_by_name = true)`);
        }
        const select = parts.length === 1 ? parts[0]! : `SELECT ${columns.map((c) => this.dialect.quoteIdentifier(c.name)).join(', ')} FROM (${parts.join(' UNION ALL BY NAME ')})`;
        statements.push(`CREATE VIEW ${view} AS ${select}`);
      } else if (files.length > 0) {
        // a folder no stored schema describes (e.g. a table put aside by a refresh): let DuckDB infer
        statements.push(`CREATE VIEW ${view} AS SELECT * FROM read_json_auto(${list}, format = 'newline_delimited')`);
      }
    }
    await this.sql.transaction(async (tx) => {
      await tx.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await tx.execute(`CREATE SCHEMA ${schema}`);
      for (const s of statements) await tx.execute(s);
    });
    await this.sql.setDefaultSchema(this.datasetName);
  }

  async close(): Promise<void> {
    await this.sql.close();
  }
}
