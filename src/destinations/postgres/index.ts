import { InvalidOptionsError } from '../../errors.js';
import { checkDatasetNameOption, normalizesDatasetName } from '../dataset-name.js';
import type { Schema } from '../../schema/schema.js';
import { registerDestination } from '../registry.js';
import { SqlJobClient } from '../sql/job-client.js';
import type { DestinationCapabilities, DestinationFactory } from '../types.js';
import { PostgresSqlClient } from './connection.js';
import { resolvePostgresCredentials, type PostgresCredentials, type PostgresCredentialsInput } from './credentials.js';
import { PostgresDialect } from './dialect.js';
import { addMissingUniqueConstraints, wantedUniqueColumns } from './unique-constraints.js';

export { PostgresDialect, postgresColumnType } from './dialect.js';
export { PostgresSqlClient } from './connection.js';
export { resolvePostgresCredentials, parseConnectionString, credentialsLocation, type PostgresCredentials, type PostgresCredentialsInput } from './credentials.js';

export interface PostgresOptions {
  /**
   * A connection string `postgresql://user:password@host:5432/database` or the fields
   * `{ host, port, database, username, password, sslmode, connectTimeout }`. Missing parts
   * come from config: env `DESTINATION__POSTGRES__CREDENTIALS` (a connection string) or its
   * fields (`DESTINATION__POSTGRES__CREDENTIALS__PASSWORD`), `[destination.postgres.credentials]`
   * in .dlt/secrets.toml (pipeline-scoped sections first), as in dlt. Never stored by the
   * pipeline: they are resolved each time a client is created.
   */
  credentials?: PostgresCredentialsInput;
  /** dlt's create_indexes: UNIQUE constraints on columns hinted `unique` (`_dlt_id`). Default true. */
  createIndexes?: boolean;
  /**
   * dlt's `enable_dataset_name_normalization`. false: the schema is named exactly as
   * `datasetName` (an existing schema `Sales` stays `Sales`). Default true (`sales`), or
   * `destination.postgres.enable_dataset_name_normalization` from config.
   */
  enableDatasetNameNormalization?: boolean;
}

/**
 * dlt's postgres capabilities: identifiers up to 63 characters (NAMEDATALEN - 1). jsonl job
 * files are converted to COPY's csv while they stream; csv files (PostgresDialect.bulkLoadCsv
 * COPYs them as they are) join, as the preferred format, once normalize writes them.
 */
export const POSTGRES_CAPABILITIES: DestinationCapabilities = {
  supportedLoaderFileFormats: ['jsonl', 'csv'],
  preferredLoaderFileFormat: 'jsonl',
  supportedWriteDispositions: ['append', 'replace', 'merge', 'skip'],
  maxIdentifierLength: 63,
  maxTimestampPrecision: 6,
  maxIntegerPrecision: 64,
  supportsTransactions: true,
};

/** The PostgreSQL destination: one dataset is one PostgreSQL schema in the database. */
export class PostgresClient extends SqlJobClient {
  readonly credentials: Omit<PostgresCredentials, 'password'>;
  readonly createIndexes: boolean;
  /** UNIQUE constraints the last migrated schema asks for (see unique-constraints.ts). */
  private wantedUnique = new Map<string, string[]>();

  constructor(credentials: PostgresCredentials, datasetName: string, opts: { createIndexes?: boolean; normalizeDatasetName?: boolean } = {}) {
    const sql = new PostgresSqlClient(credentials);
    super({
      destinationName: 'postgres',
      displayLocation: sql.location,
      capabilities: POSTGRES_CAPABILITIES,
      datasetName,
      normalizeDatasetName: opts.normalizeDatasetName,
      sql,
      dialect: new PostgresDialect(),
    });
    const { password: _pw, ...rest } = credentials;
    void _pw;
    this.credentials = rest;
    this.createIndexes = opts.createIndexes ?? true;
  }

  override async updateStoredSchema(schema: Schema, tables?: string[]): Promise<string[]> {
    const changed = await super.updateStoredSchema(schema, tables);
    if (this.createIndexes) this.wantedUnique = wantedUniqueColumns(schema, tables);
    return changed;
  }

  /** Adds the UNIQUE constraints new tables still lack (one index build each), then completes. */
  override async completeLoad(loadId: string, schemaName: string, schemaVersionHash: string): Promise<void> {
    if (this.wantedUnique.size > 0) {
      const wanted = this.wantedUnique;
      await this.wrap(`adding UNIQUE constraints for load ${loadId}`, () =>
        this.sql.transaction((tx) =>
          addMissingUniqueConstraints(tx, this.datasetName, wanted, { table: (n) => this.t(n), ident: (n) => this.q(n) }),
        ),
      );
    }
    await super.completeLoad(loadId, schemaName, schemaVersionHash);
  }
}

/**
 * The PostgreSQL destination factory. Its stored `options` (state.json, Temporal inputs)
 * hold only `createIndexes`; credentials stay in this process and are resolved per client.
 */
export function postgres(options: PostgresOptions = {}): DestinationFactory {
  const { credentials, createIndexes, enableDatasetNameNormalization } = options;
  checkDatasetNameOption(enableDatasetNameNormalization, 'postgres destination');
  if (createIndexes !== undefined && typeof createIndexes !== 'boolean') {
    throw new InvalidOptionsError('postgres destination', '`createIndexes` must be true or false');
  }
  if (credentials !== undefined && typeof credentials !== 'string' && (typeof credentials !== 'object' || credentials === null)) {
    throw new InvalidOptionsError('postgres destination', '`credentials` must be a connection string or an object with host, database, username, password');
  }
  const stored: Record<string, unknown> = {};
  if (createIndexes !== undefined) stored.createIndexes = createIndexes;
  if (enableDatasetNameNormalization !== undefined) stored.enableDatasetNameNormalization = enableDatasetNameNormalization;
  return {
    destinationName: 'postgres',
    options: stored,
    createClient({ pipelineName, datasetName }) {
      const resolved = resolvePostgresCredentials({ pipelineName, explicit: credentials });
      const normalizeDatasetName = normalizesDatasetName('postgres', enableDatasetNameNormalization, pipelineName);
      return new PostgresClient(resolved, datasetName, { createIndexes, normalizeDatasetName });
    },
    withCredentials: (c) => postgres({ createIndexes, enableDatasetNameNormalization, credentials: c as PostgresOptions['credentials'] }),
  };
}

registerDestination('postgres', (options) => {
  // Stored options never carry credentials; refuse them rather than keep a password around.
  const { createIndexes, enableDatasetNameNormalization, ...rest } = options;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new InvalidOptionsError(
      'postgres destination options',
      `unknown option(s) ${unknown.join(', ')}: only createIndexes and enableDatasetNameNormalization are stored; credentials come from config/secrets`,
    );
  }
  return postgres({ createIndexes: createIndexes as boolean | undefined, enableDatasetNameNormalization: enableDatasetNameNormalization as boolean | undefined });
});
