/**
 * The parts of the PostgreSQL client that need the pg driver. connection.ts loads this module
 * with its first connection.
 */
import pg from 'pg';
import type { PostgresCredentials } from './credentials.js';

export { pg };
export { from as copyFrom } from 'pg-copy-streams';

// ------------------------------------------------------------------ value conversion

const PG_INT8 = 20;
const PG_DATE = 1082;
const PG_TIMESTAMP = 1114;

function parseInt8(v: string): number | bigint {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : BigInt(v);
}

/** `timestamp without time zone` holds UTC wall time (haul writes UTC): read it as UTC. */
function parseTimestampUtc(v: string): Date | string {
  if (v === 'infinity' || v === '-infinity') return v;
  const d = new Date(`${v.replace(' ', 'T')}Z`);
  return Number.isNaN(d.getTime()) ? v : d;
}

/**
 * Row values returned by `query()`, the shapes every SQL destination returns (see
 * destinations/README.md): bigint as `number` when safe, else `bigint`; numeric as an exact
 * string; timestamps as Date; date 'YYYY-MM-DD' and time 'HH:MM:SS[.ffffff]' strings; json
 * and jsonb parsed; bytea a Buffer.
 */
export const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format !== 'binary') {
      if (oid === PG_INT8) return parseInt8;
      if (oid === PG_DATE) return (v: string) => v;
      if (oid === PG_TIMESTAMP) return parseTimestampUtc;
    }
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  },
} as pg.CustomTypesConfig;

/**
 * The server's DETAIL / HINT / CONTEXT (e.g. `COPY users, line 3, column n: "x"`) added to
 * the message once, so haul's errors carry them (they name rows and columns, not secrets).
 */
export function withServerDetails(err: unknown): void {
  if (!(err instanceof pg.DatabaseError) || (err as { haulDetailed?: boolean }).haulDetailed) return;
  const extra = [err.detail, err.hint && `hint: ${err.hint}`, err.where].filter((x): x is string => !!x);
  if (extra.length > 0) err.message += ` (${extra.join('; ')})`;
  (err as { haulDetailed?: boolean }).haulDetailed = true;
}

/** pg's TLS options for libpq's sslmode. */
export function sslOption(mode: PostgresCredentials['sslmode']): pg.ClientConfig['ssl'] {
  switch (mode) {
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
    case 'verify-full':
      return { rejectUnauthorized: true };
    default:
      return false;
  }
}
