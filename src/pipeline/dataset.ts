import { existsSync } from 'node:fs';
import { redactError } from '../config/redact.js';
import type { DatasetColumn, DatasetReader, DestinationClient, TableRead } from '../destinations/types.js';
import { DestinationError, InvalidOptionsError, UnknownTableError } from '../errors.js';
import { isSystemTable } from '../schema/system.js';

type Row = Record<string, unknown>;

/**
 * The reader of a dataset whose embedded database file does not exist yet (nothing loaded):
 * reading must not create an empty file as a side effect.
 */
function emptyReader(client: DestinationClient): DatasetReader {
  return {
    tables: async () => [],
    columns: async (table) => {
      throw new UnknownTableError(table, client.datasetName, []);
    },
    rowCounts: async (tables) => {
      if (tables.length > 0) throw new UnknownTableError(tables[0]!, client.datasetName, []);
      return {};
    },
    read: async (q) => {
      throw new UnknownTableError(q.table, client.datasetName, []);
    },
    stream: async function* (q) {
      throw new UnknownTableError(q.table, client.datasetName, []);
    },
    query: async () => {
      throw new DestinationError(client.destinationName, `nothing was loaded into dataset "${client.datasetName}" yet: ${client.localFile} does not exist`);
    },
  };
}

const neverCreated = (client: DestinationClient) => client.localFile !== undefined && !existsSync(client.localFile);

/**
 * Opens a client for one call and closes it after, so a dataset holds no connection (and no
 * DuckDB file lock) between calls. Errors leave with known secrets taken out.
 */
async function withReader<T>(openClient: () => DestinationClient, fn: (r: DatasetReader) => Promise<T>): Promise<T> {
  const client = openClient();
  try {
    if (neverCreated(client)) return await fn(emptyReader(client));
    await client.open();
    return await fn(client.datasetReader());
  } catch (e) {
    throw redactError(e);
  } finally {
    await client.close();
  }
}

function checkCount(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidOptionsError(name, `expected a whole number >= 0, got ${String(n)}`);
  return n;
}

/**
 * One table of a dataset, read lazily like dlt's relation: `select`, `orderBy`, `limit` and
 * `offset` return a new relation; `fetchAll`, `fetchOne` and `iter` read.
 */
export class Relation<T extends Row = Row> {
  constructor(
    private readonly openClient: () => DestinationClient,
    private readonly read: TableRead,
  ) {}

  private with(change: Partial<TableRead>): Relation<T> {
    return new Relation<T>(this.openClient, { ...this.read, ...change });
  }

  /** Only these columns, in this order. */
  select(...columns: string[]): Relation<T> {
    return this.with({ columns });
  }

  orderBy(column: string, direction: 'asc' | 'desc' = 'asc'): Relation<T> {
    return this.with({ orderBy: [...(this.read.orderBy ?? []), { column, descending: direction === 'desc' }] });
  }

  limit(n: number): Relation<T> {
    return this.with({ limit: checkCount('limit', n) });
  }

  offset(n: number): Relation<T> {
    return this.with({ offset: checkCount('offset', n) });
  }

  /** dlt's `head()`: the first `n` rows (default 5). */
  head(n = 5): Promise<T[]> {
    return this.limit(n).fetchAll();
  }

  fetchAll(): Promise<T[]> {
    return withReader(this.openClient, (r) => r.read<T>(this.read));
  }

  async fetchOne(): Promise<T | undefined> {
    return (await this.limit(1).fetchAll())[0];
  }

  /** The rows in batches of `chunkSize` (default 10,000); memory holds one batch. */
  async *iter(options: { chunkSize?: number } = {}): AsyncGenerator<T[]> {
    const chunkSize = checkCount('chunkSize', options.chunkSize ?? 10_000);
    if (chunkSize === 0) throw new InvalidOptionsError('chunkSize', 'must be at least 1');
    const client = this.openClient();
    try {
      if (neverCreated(client)) {
        yield* emptyReader(client).stream<T>(this.read, chunkSize);
        return;
      }
      await client.open();
      yield* client.datasetReader().stream<T>(this.read, chunkSize);
    } catch (e) {
      throw redactError(e);
    } finally {
      await client.close();
    }
  }
}

/**
 * `pipeline.dataset()`: reads back what the pipeline loaded, the same way on every destination
 * (files through DuckDB views). Values as `query()` documents them: safe integers as number,
 * larger ones as bigint, decimal as an exact string, timestamps as Date, binary as Buffer.
 */
export class Dataset {
  constructor(
    readonly datasetName: string,
    private readonly openClient: () => DestinationClient,
  ) {}

  /** A table to read (nothing is read until fetchAll / fetchOne / iter). */
  table<T extends Row = Row>(name: string): Relation<T> {
    return new Relation<T>(this.openClient, { table: name });
  }

  /** Any SQL over the dataset; unqualified table names resolve in it. */
  query<T = Row>(sql: string, params?: unknown[]): Promise<T[]> {
    return withReader(this.openClient, (r) => r.query<T>(sql, params));
  }

  /** The dataset's tables, sorted; dlt's `_dlt_*` (and haul's `_haul_*`) tables only with includeSystem. */
  async tables(options: { includeSystem?: boolean } = {}): Promise<string[]> {
    const all = await withReader(this.openClient, (r) => r.tables());
    return options.includeSystem ? all : all.filter((t) => !isSystemTable(t));
  }

  columns(table: string): Promise<DatasetColumn[]> {
    return withReader(this.openClient, (r) => r.columns(table));
  }

  /** Rows per table (the data tables unless `tables` names others). */
  async rowCounts(options: { tables?: string[]; includeSystem?: boolean } = {}): Promise<Record<string, number>> {
    const tables = options.tables ?? (await this.tables({ includeSystem: options.includeSystem }));
    return withReader(this.openClient, (r) => r.rowCounts(tables));
  }
}
