import { DestinationAuthError, DestinationConfigError, DestinationUnreachableError, HaulError } from '../../errors.js';

/*
 * What a driver error means for a load. SQLSTATE classes (PostgreSQL, appendix A):
 *   08 connection exception, 57P01-03 server shutting down / starting  -> unreachable (retry)
 *   28 invalid authorization (wrong password, unknown role, NOLOGIN), 42501 insufficient
 *      privilege                                                         -> auth (do not retry)
 *   3D000 the database does not exist                                   -> config (do not retry)
 *   40001 serialization failure, 40P01 deadlock, 55P03 lock not available, 53 insufficient
 *      resources, 57014 statement cancelled (timeout)                    -> transient (retry the job)
 * Everything else is an error of the SQL or the data: the job fails.
 */

const TRANSIENT_CODES = new Set(['40001', '40P01', '55P03', '57014', '53000', '53100', '53200', '53300', '53400']);
const NODE_CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);
const CONNECTION_MESSAGES = [/Connection terminated/i, /connection timeout/i, /timeout expired/i, /not queryable/i, /Client was closed/i, /server closed the connection/i];

function codeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** The connection itself failed or went away (trying again later may work). */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof HaulError) return false;
  const code = codeOf(err);
  if (code !== undefined && (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || NODE_CONNECTION_CODES.has(code))) return true;
  const msg = err instanceof Error ? err.message : String(err);
  return CONNECTION_MESSAGES.some((re) => re.test(msg));
}

export function isTransientPgError(err: unknown): boolean {
  const code = codeOf(err);
  return (code !== undefined && TRANSIENT_CODES.has(code)) || isConnectionError(err);
}

/**
 * A typed haul error for failures that are about the destination rather than the SQL or
 * the data (connection, authentication, missing database, privileges); undefined otherwise.
 * Messages name the place (`host:port/database`) and the user, never the password.
 */
export function classifyPgError(err: unknown, where: string, username: string): HaulError | undefined {
  if (err instanceof HaulError) return err;
  const code = codeOf(err);
  if (code?.startsWith('28')) {
    return new DestinationAuthError('postgres', where, err, `Check the user "${username}" and its password in destination.postgres.credentials (e.g. DESTINATION__POSTGRES__CREDENTIALS__PASSWORD)`);
  }
  if (code === '42501') {
    return new DestinationAuthError('postgres', where, err, `Grant the user "${username}" the privileges it needs (CREATE on the database for new datasets, or use a dataset it owns)`);
  }
  if (code === '3D000') {
    return new DestinationConfigError('postgres', where, err, 'Create the database or fix `database` in destination.postgres.credentials');
  }
  if (isConnectionError(err)) return new DestinationUnreachableError('postgres', where, err);
  return undefined;
}
