import type { ColumnSchema } from '../../schema/types.js';
import { DuckDBSqlClient } from '../duckdb/connection.js';
import { DuckDBDialect } from '../duckdb/dialect.js';
import { quoteStringLiteralStandard } from '../sql/dialect.js';
import type { FileStorage } from './storage.js';
import { joinPath } from './storage.js';
import { JOB_MARKERS_DIR } from './system-files.js';

/** Job file formats the views read, by file extension. */
const READABLE_EXTENSIONS = ['jsonl'];

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
      const files = (await this.storage.listFiles(joinPath(this.datasetDir, table))).filter((f) => READABLE_EXTENSIONS.some((e) => f.endsWith(`.${e}`)));
      const view = this.dialect.qualify({ schema: this.datasetName, table });
      const columns = known.get(table);
      const list = `[${files.map((f) => quoteStringLiteralStandard(this.storage.readerPath(f))).join(', ')}]`;
      if (columns && columns.length > 0) {
        const select =
          files.length > 0
            ? this.dialect.selectJsonlSql(columns, list)
            : `SELECT ${columns.map((c) => `CAST(NULL AS ${this.dialect.columnType(c)}) AS ${this.dialect.quoteIdentifier(c.name)}`).join(', ')} WHERE false`;
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
