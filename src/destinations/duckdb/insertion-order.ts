import type { SqlExecutor } from '../sql/dialect.js';

/**
 * DuckDB's `preserve_insertion_order` is a setting of the whole instance, not of one
 * connection. An append over many files loads faster and in much less memory without it
 * (docs/performance.md), but a merge's staging table must keep file order: its rowids
 * decide which duplicate of a key wins. Inserts that change the setting or rely on it take
 * turns in this process, and each sets what it needs before it runs; appends of different
 * tables may run at once (concurrent-appends.ts).
 */
/**
 * Inserts that need the same setting run together; one that needs the other waits until
 * they are done (and those after it wait for it: first come, first served).
 */
let mode: boolean | undefined;
let holders = 0;
const waiting: Array<{ preserve: boolean; go: () => void }> = [];

function acquire(preserve: boolean): Promise<void> {
  if (holders === 0 || (mode === preserve && waiting.length === 0)) {
    mode = preserve;
    holders++;
    return Promise.resolve();
  }
  return new Promise((go) => waiting.push({ preserve, go }));
}

function release(): void {
  holders--;
  if (holders > 0 || waiting.length === 0) return;
  // the next waiter, and every waiter right behind it that needs the same setting
  mode = waiting[0]!.preserve;
  while (waiting.length > 0 && waiting[0]!.preserve === mode) {
    holders++;
    waiting.shift()!.go();
  }
}

async function withOrder<T>(tx: SqlExecutor, preserve: boolean, fn: () => Promise<T>): Promise<T> {
  await acquire(preserve);
  try {
    await tx.execute(`SET preserve_insertion_order = ${preserve}`);
    return await fn();
  } finally {
    // Back to DuckDB's default for the user's own queries, by the last of a group. In a
    // transaction the failed insert aborted, SET fails too: the insert's error is the one
    // to report, and the next ordered insert sets the order it needs anyway.
    if (!preserve && holders === 1) await tx.execute('SET preserve_insertion_order = true').catch(() => undefined);
    release();
  }
}

/** Runs an insert whose rows must land in file order (a merge's staging, a single job). */
export function inInsertionOrder<T>(tx: SqlExecutor, fn: () => Promise<T>): Promise<T> {
  return withOrder(tx, true, fn);
}

/** Runs an append whose rows may land in any order. */
export function inAnyOrder<T>(tx: SqlExecutor, fn: () => Promise<T>): Promise<T> {
  return withOrder(tx, false, fn);
}
