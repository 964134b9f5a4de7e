/**
 * One database connection, opened on first use and shared by the calls that raced to open
 * it, with every call run after the earlier ones finished (a driver connection runs one
 * statement, one transaction at a time). The SQL clients of DuckDB and PostgreSQL build on it.
 */
export class SerialConnection<C> {
  private current: C | undefined;
  private opening: Promise<C> | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly connect: () => Promise<C>) {}

  /** The connection, opening it when there is none. */
  get(): Promise<C> {
    if (this.current !== undefined) return Promise.resolve(this.current);
    this.opening ??= this.connect().then(
      (c) => {
        this.current = c;
        this.opening = undefined;
        return c;
      },
      (err: unknown) => {
        this.opening = undefined;
        throw err;
      },
    );
    return this.opening;
  }

  /** The open connection, if any (opens nothing). */
  peek(): C | undefined {
    return this.current;
  }

  /** Forgets the connection (it broke) and returns it, so the caller can end it; the next call opens a new one. */
  drop(only?: C): C | undefined {
    const c = this.current;
    if (only !== undefined && c !== only) return undefined;
    this.current = undefined;
    return c;
  }

  /** Runs `fn` after every earlier call finished. */
  serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** After the queued calls: hands the connection (also one still opening) to `end` and forgets it. */
  close(end: (c: C) => Promise<void>): Promise<void> {
    return this.serialize(async () => {
      const c = this.current ?? (this.opening ? await this.opening.catch(() => undefined) : undefined);
      this.current = undefined;
      if (c !== undefined) await end(c);
    });
  }
}
