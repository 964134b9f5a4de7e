/**
 * Driver errors at connect time -> haul's typed source errors. Messages name the database
 * (`postgres host:port/db`), never the password; the driver's own text is kept as the cause.
 */
import { HaulError, SourceAuthError, SourceUnreachableError } from '../../errors.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'PROTOCOL_CONNECTION_LOST']);
/** MySQL/MariaDB: access denied (1045, 1044, 1698), unknown database (1049). */
const MYSQL_AUTH = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR']);

function codeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** The database named in the credentials does not exist (or the file cannot be opened). */
export class SourceDatabaseNotFoundError extends HaulError {
  constructor(where: string, cause: unknown) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    super('SourceDatabaseNotFound', `the source database ${where} does not exist: ${inner}. Fix the database name (or file path) in sources.sql_database.credentials`, { cause });
  }
}

/** A typed error for a failed connection; the error itself when it is about something else. */
export function classifyConnectError(err: unknown, where: string, username: string): unknown {
  if (err instanceof HaulError) return err;
  const code = codeOf(err);
  const msg = err instanceof Error ? err.message : String(err);
  // Drivers may quote the whole connection error; keep it as the cause only after the class is known.
  if (code?.startsWith('28') || (code && MYSQL_AUTH.has(code))) return new SourceAuthError(where, username, err);
  if (code === '3D000' || code === 'ER_BAD_DB_ERROR') return new SourceDatabaseNotFoundError(where, err);
  if ((code && (NETWORK_CODES.has(code) || code.startsWith('08'))) || /timeout|terminated|connect/i.test(msg)) return new SourceUnreachableError(where, err);
  return err;
}
