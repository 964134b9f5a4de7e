import type { SqlExecutor } from '../sql/dialect.js';

/**
 * DuckDB's `preserve_insertion_order` is a setting of the whole instance, not of one
 * connection. An append over many files loads faster and in much less memory without it
 * (docs/performance.md), but a merge's staging table must keep file order: its rowids
 * decide which duplicate of a key wins. Inserts that change the setting or rely on it take
 * turns in this process, and each sets what it needs before it runs.
 */
let turn: Promise<unknown> = Promise.resolve();

function inTurn<T>(fn: () => Promise<T>): Promise<T> {
  const run = turn.then(fn, fn);
  turn = run.catch(() => undefined);
  return run;
}

async function withOrder<T>(tx: SqlExecutor, preserve: boolean, fn: () => Promise<T>): Promise<T> {
  return inTurn(async () => {
    await tx.execute(`SET preserve_insertion_order = ${preserve}`);
    try {
      return await fn();
    } finally {
      // Back to DuckDB's default for the user's own queries. In a transaction the failed
      // insert aborted, SET fails too: the insert's error is the one to report, and the
      // next ordered insert sets the order it needs anyway.
      if (!preserve) await tx.execute('SET preserve_insertion_order = true').catch(() => undefined);
    }
  });
}

/** Runs an insert whose rows must land in file order (a merge's staging, a single job). */
export function inInsertionOrder<T>(tx: SqlExecutor, fn: () => Promise<T>): Promise<T> {
  return withOrder(tx, true, fn);
}

/** Runs an append whose rows may land in any order. */
export function inAnyOrder<T>(tx: SqlExecutor, fn: () => Promise<T>): Promise<T> {
  return withOrder(tx, false, fn);
}
