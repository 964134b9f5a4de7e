/**
 * Typed errors. Each names what is wrong (table, column, file) and what to do. The `code`
 * is stable and becomes the Temporal ApplicationFailure type; `retryable` tells the
 * activity layer whether trying again can help. This file imports nothing: secrets are
 * redacted where text leaves haul (the Pipeline facade, logger, trace, CLI, Temporal
 * failure mapping), see `redactError` in config/redact.ts.
 */
export class HaulError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

export type PipelineStep = 'sync' | 'extract' | 'normalize' | 'load' | 'drop';

/**
 * Wraps the error that stopped a step. State and pending packages stay as they were, except
 * that a run's own package whose data cannot be normalized is discarded (`discarded`), so it
 * does not block the runs after it. The advice names what to run for what stays pending.
 */
export class PipelineStepFailed extends HaulError {
  constructor(
    readonly pipelineName: string,
    readonly step: PipelineStep,
    readonly loadId: string | undefined,
    cause: unknown,
    readonly discarded = false,
  ) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    const retryable = cause instanceof HaulError ? cause.retryable : true;
    super(
      'PipelineStepFailed',
      `pipeline "${pipelineName}" failed in step ${step}${loadId ? ` (load ${loadId})` : ''}: ${inner}` + stepAdvice(pipelineName, step, loadId, retryable, discarded),
      { cause, retryable },
    );
  }
}

/** A failed step's advice when its package stays pending (a Temporal compensation that discards the package takes it back). */
export const PENDING_DATA_KEPT = 'Pending data is kept; run again to finish it.';

function stepAdvice(pipelineName: string, step: PipelineStep, loadId: string | undefined, retryable: boolean, discarded: boolean): string {
  if (discarded) return `\nNothing of this run was kept: its load package ${loadId} was discarded and the pipeline state did not move. Fix the data and run again.`;
  if (step === 'extract' || step === 'sync' || step === 'drop') return '';
  if (retryable) return `\n${PENDING_DATA_KEPT}`;
  // A pending package is finished first by every later run, so a cause in the data blocks them all.
  return (
    `\nThe load package stays pending, and every later run finishes pending packages first, so they will stop here too. ` +
    `See what failed with "haul pipeline ${pipelineName} failed-jobs"${loadId ? ` or "haul pipeline ${pipelineName} load-package ${loadId}"` : ''}; ` +
    `fix the cause and run again, or discard the pending data with "haul pipeline ${pipelineName} drop-pending-packages" (pipeline.dropPendingPackages() in code).`
  );
}

export class InvalidOptionsError extends HaulError {
  constructor(where: string, details: string) {
    super('InvalidOptions', `invalid ${where}: ${details}`);
  }
}

/**
 * A table's write disposition the destination cannot load, refused before anything is
 * extracted (e.g. merge into a filesystem, which dlt supports only for delta tables).
 */
export class UnsupportedWriteDispositionError extends HaulError {
  constructor(
    readonly destination: string,
    readonly table: string,
    readonly resource: string,
    readonly disposition: string,
    readonly supported: readonly string[],
    advice?: string,
  ) {
    super(
      'UnsupportedWriteDisposition',
      `invalid writeDisposition: table "${table}" (resource "${resource}") uses "${disposition}", which destination ${destination} does not support (it supports ${supported.join(', ')}); ` +
        (advice ?? 'choose one of those or another destination'),
    );
  }
}

export class MissingTableNameError extends HaulError {
  constructor() {
    super(
      'MissingTableName',
      'cannot tell which table this data goes to: pass { tableName } to run()/extract(), or wrap the data in resource(data, { name })',
    );
  }
}

export class UnserializableValueError extends HaulError {
  constructor(readonly table: string, readonly path: string, what: string) {
    super(
      'UnserializableValue',
      `resource "${table}" yielded a value that cannot be stored at ${path || '(item)'}: ${what}. ` +
        'Yield plain JSON data (objects, arrays, strings, numbers, booleans, null, Date, bigint, Uint8Array); convert or drop this field in the resource.',
    );
  }
}

/** A pipeline state value JSON cannot keep (dlt refuses such state too). */
export class UnserializableStateError extends HaulError {
  constructor(readonly path: string, what: string) {
    super(
      'UnserializableState',
      `the pipeline state at ${path} holds ${what}, which the state (stored as JSON) cannot keep. ` +
        'Keep plain JSON in resourceState()/sourceState(): objects, arrays, strings, numbers, booleans, null (a Date is kept as its ISO string); convert this value first',
    );
  }
}

export class InvalidIdentifierError extends HaulError {
  constructor(readonly table: string, readonly identifier: string, why: string) {
    super('InvalidIdentifier', `table "${table}": identifier ${JSON.stringify(identifier)} ${why}`);
  }
}

export class IdentifierCollisionError extends HaulError {
  constructor(readonly table: string, readonly normalized: string, a: string, b: string) {
    super(
      'IdentifierCollision',
      `table "${table}": names ${JSON.stringify(a)} and ${JSON.stringify(b)} both normalize to "${normalized}"; rename one of them in the resource`,
    );
  }
}

export class CorruptPackageFileError extends HaulError {
  constructor(readonly file: string, readonly why: string) {
    super(
      'CorruptPackageFile',
      `load package file ${file} is broken: ${why}. The package stays pending: repair the file and run again, ` +
        'or discard pending packages with pipeline.dropPendingPackages() (CLI: haul pipeline <name> drop-pending-packages)',
    );
  }
}

/** The working dir's own state.json or a committed schema file cannot be read. */
export class CorruptStateError extends HaulError {
  constructor(readonly pipelineName: string, readonly file: string, why: string) {
    super(
      'CorruptState',
      `pipeline "${pipelineName}": ${file} is broken (${why}). Restore state and schemas from the destination with ` +
        `"haul pipeline ${pipelineName} sync --yes", or open the pipeline with pipeline({ pipelineName: "${pipelineName}", destination, datasetName, restoreFromDestination: true })`,
    );
  }
}

export class SchemaFileError extends HaulError {
  constructor(readonly file: string, why: string) {
    super('SchemaFile', `${file}: ${why}`);
  }
}

export class DestinationError extends HaulError {
  constructor(destination: string, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super('DestinationError', `${destination}: ${message}`, options);
  }
}

export class DestinationUnreachableError extends HaulError {
  constructor(destination: string, where: string, cause: unknown) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    super('DestinationUnreachable', `cannot open destination ${destination} at ${where}: ${inner}`, { cause, retryable: true });
  }
}

/** No Temporal server answers at the address a client or worker connects to. */
export class TemporalUnreachableError extends HaulError {
  constructor(readonly address: string, cause: unknown) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    super(
      'TemporalUnreachable',
      `cannot reach a Temporal server at ${address} (TEMPORAL_ADDRESS, default localhost:7233): ${inner}; ` +
        'start one (`temporal server start-dev`, or startDevServer() from haul/temporal) or set TEMPORAL_ADDRESS to a running server',
      { cause, retryable: true },
    );
  }
}

/**
 * The destination answered but refused: authentication failed, the user may not log in, or
 * lacks a privilege. Retrying cannot help; fix the credentials or grants.
 */
export class DestinationAuthError extends HaulError {
  constructor(destination: string, where: string, cause: unknown, hint: string) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    super('DestinationAuth', `destination ${destination} at ${where} refused access: ${inner}. ${hint}`, { cause, retryable: false });
  }
}

/**
 * The destination is reachable but configured wrongly (e.g. the database does not exist,
 * credentials are malformed). Retrying cannot help; fix the configuration.
 */
export class DestinationConfigError extends HaulError {
  constructor(destination: string, where: string, cause: unknown, hint: string) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    super('DestinationConfig', `destination ${destination} at ${where} is misconfigured: ${inner}. ${hint}`, { cause, retryable: false });
  }
}

/** A table asked of `pipeline.dataset()` that the destination does not have. */
export class UnknownTableError extends HaulError {
  constructor(readonly table: string, readonly datasetName: string, known: readonly string[]) {
    super(
      'UnknownTable',
      `table "${table}" does not exist in dataset "${datasetName}"; tables there: ${known.length ? known.join(', ') : '(none: nothing was loaded yet)'}`,
    );
  }
}

export class LoadJobFailedError extends HaulError {
  constructor(readonly loadId: string, readonly jobFile: string, readonly table: string, cause: unknown) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    super('LoadJobFailed', `load ${loadId}: job ${jobFile} into table "${table}" failed: ${inner}`, { cause });
  }
}

export class PipelineNotFoundError extends HaulError {
  constructor(readonly pipelineName: string, dir: string) {
    super(
      'PipelineNotFound',
      `no pipeline "${pipelineName}" in ${dir}: run it once with pipeline({ pipelineName: "${pipelineName}", ... }) or pass the right pipelinesDir`,
    );
  }
}

/**
 * A merge table's primary key column has no value in any row of a package: it never
 * appears, or it is null in every row. Loading would merge nothing (every row appended).
 */
export class MissingPrimaryKeyError extends HaulError {
  constructor(readonly table: string, readonly column: string, readonly loadId: string) {
    super(
      'MissingPrimaryKey',
      `table "${table}" uses write disposition merge with primary key column "${column}", but no row of load ${loadId} has a value for it ` +
        `(the column never appears, or it is null in every row), so nothing could be merged. Yield "${column}" in every item, or fix primaryKey on the resource or in run()`,
    );
  }
}

/** dlt's UnboundColumnException: a column hinted not nullable (or a key) that no row gave a value. */
export class UnboundColumnError extends HaulError {
  constructor(readonly table: string, readonly column: string, readonly loadId: string, what: string) {
    super(
      'UnboundColumn',
      `table "${table}": column "${column}" is ${what}, but no row of load ${loadId} has a value for it (the column never appears, or it is null in every row). ` +
        `Yield "${column}" in the items, or remove the hint (primaryKey, mergeKey or columns) on the resource or in run()`,
    );
  }
}

export class SchemaConflictError extends HaulError {
  constructor(readonly table: string, readonly column: string, why: string) {
    super('SchemaConflict', `table "${table}", column "${column}": ${why}`);
  }
}

/**
 * Another run of the pipeline holds it: a Temporal workflow of the same id, or another
 * process holding the working dir's lock. `holder` says who, `advice` what to do.
 */
export class PipelineAlreadyRunningError extends HaulError {
  constructor(readonly pipelineName: string, holder: string, advice: string, readonly runId?: string) {
    super('PipelineAlreadyRunning', `pipeline "${pipelineName}" already has a run in progress (${holder}); ${advice}`);
  }
}

/**
 * A REST API request failed for good: a status that is not retried (4xx), or retries ran
 * out (429/5xx, connection errors, timeouts). `url` has credentials and query values
 * stripped; `status` is undefined when no answer came.
 */
export class RestApiError extends HaulError {
  constructor(
    readonly resource: string,
    readonly method: string,
    readonly url: string,
    readonly status: number | undefined,
    what: string,
    advice: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super('RestApiError', `resource "${resource}": ${method} ${url} ${what}; ${advice}`, options);
  }
}

/** The database a source reads from cannot be reached (refused, timed out, DNS). Retrying later may work. */
export class SourceUnreachableError extends HaulError {
  constructor(readonly where: string, cause: unknown) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    super(
      'SourceUnreachable',
      `cannot connect to the source database at ${where}: ${inner}. Check that the server runs and that host and port in sources.sql_database.credentials are right`,
      { cause, retryable: true },
    );
  }
}

/**
 * A source needs a driver package that haul leaves to the projects that use it (better-sqlite3
 * builds a native module, which most projects never need). Installing it is the fix.
 */
export class SourceDriverMissingError extends HaulError {
  constructor(readonly where: string, readonly driver: string, range: string, cause: unknown) {
    super('SourceDriverMissing', `reading ${where} needs the ${driver} package, which haul does not install for every project: run "npm install ${driver}@${range}" in your project and run again`, { cause, retryable: false });
  }
}

/** The source database refused the login or a privilege. Retrying cannot help. */
export class SourceAuthError extends HaulError {
  constructor(readonly where: string, username: string, cause: unknown) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    super(
      'SourceAuth',
      `the source database at ${where} refused access for user "${username}": ${inner}. Check the user and its password in sources.sql_database.credentials (e.g. SOURCES__SQL_DATABASE__CREDENTIALS__PASSWORD) and its grants`,
      { cause, retryable: false },
    );
  }
}

/** A table (or schema, or database file) asked for does not exist in the source database. */
export class SourceTableNotFoundError extends HaulError {
  constructor(readonly where: string, readonly table: string, known: string[]) {
    const list = known.length ? known.slice(0, 20).join(', ') + (known.length > 20 ? ', ...' : '') : 'none';
    super(
      'SourceTableNotFound',
      `the source database at ${where} has no table "${table}" (tables there: ${list}); fix tableNames/table or the schema, or pass includeViews: true for a view`,
    );
  }
}

/** The filesystem source's bucket (folder) does not exist. */
export class SourceBucketNotFoundError extends HaulError {
  constructor(readonly bucket: string) {
    super('SourceBucketNotFound', `the filesystem source's bucket ${bucket} does not exist or is not a folder; fix bucketUrl (or sources.filesystem.bucket_url) or create the folder`);
  }
}

/** A file listed by the filesystem source could not be read or parsed. */
export class SourceFileUnreadableError extends HaulError {
  constructor(readonly file: string, reason: string, advice = 'check that the file exists, is readable and is in the format of the reader') {
    super('SourceFileUnreadable', `cannot read ${file}: ${reason}; ${advice}`);
  }
}

/**
 * Data broke a schema contract set to `freeze` (dlt's DataValidationError): a new table, a
 * new column, or a value needing a variant column, or an item that fails its resource's
 * zod model. Nothing of the package loads; state and earlier data stay as they were.
 * `item` is the offending item as JSON, already truncated (redacted where text leaves haul).
 */
export class DataValidationError extends HaulError {
  constructor(
    readonly schemaName: string,
    readonly table: string,
    readonly column: string | undefined,
    readonly entity: 'tables' | 'columns' | 'dataType',
    readonly mode: string,
    readonly item: string,
    why: string,
  ) {
    super(
      'DataValidation',
      `schema "${schemaName}", table "${table}"${column ? `, column "${column}"` : ''}: contract on ${entity} is ${mode}: ${why}; offending item: ${item}. ` +
        `Nothing of it was loaded. Fix the data, or relax the contract (schemaContract: { ${entity}: 'evolve' | 'discard_row' | 'discard_value' }) and run again`,
    );
  }
}

/**
 * A null in a column that may not hold one (a primary or merge key, or `nullable: false`),
 * found in normalize before any table is created, as dlt finds it. The package is discarded.
 */
export class NullValueError extends HaulError {
  constructor(readonly schemaName: string, readonly table: string, readonly column: string, readonly item: string) {
    super(
      'NullValue',
      `schema "${schemaName}", table "${table}": column "${column}" is not nullable (a primary key, merge key or nullable: false) but an item has null there: ${item}. ` +
        'Nothing of it was loaded. Give every item a value for it, or drop the item (resource.addFilter), and run again',
    );
  }
}

/**
 * A resource's `parentTableName` names a table the schema does not have (dlt's
 * ParentTableNotFoundException): the parent must be loaded before, or in the same extract.
 */
export class ParentTableNotFoundError extends HaulError {
  constructor(readonly schemaName: string, readonly table: string, readonly parentTable: string, known: string[]) {
    super(
      'ParentTableNotFound',
      `table "${table}" names parent table "${parentTable}", which schema "${schemaName}" does not have (its tables: ${known.join(', ') || 'none'}); ` +
        'extract the parent resource first or in the same run, or fix parentTableName',
    );
  }
}
