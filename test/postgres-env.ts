/**
 * The real PostgreSQL server the tests use (127.0.0.1:5432, database `test`, user
 * `postgres`, trust auth; HAUL_TEST_POSTGRES_URL points elsewhere). Every test works in
 * schemas of its own, named by `pgDatasetName()`, and drops them.
 */
import pg from 'pg';

export const PG_URL = process.env.HAUL_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const url = new URL(PG_URL);
export const PG_HOST = url.hostname;
export const PG_PORT = Number(url.port || 5432);
export const PG_DATABASE = url.pathname.slice(1);
export const PG_USER = decodeURIComponent(url.username);

let counter = 0;
/** A dataset (schema) name no other test or test run uses. */
export function pgDatasetName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${++counter}`;
}

/** Runs `fn` with an admin connection of its own. */
export async function withPg<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Drops these schemas (and their `_staging` siblings) if they exist. */
export async function dropPgSchemas(...names: string[]): Promise<void> {
  await withPg(async (c) => {
    for (const n of names) {
      for (const s of [n, `${n}_staging`]) await c.query(`DROP SCHEMA IF EXISTS "${s.replaceAll('"', '""')}" CASCADE`);
    }
  });
}
