/**
 * Paths users have: folders with spaces, quotes and the characters DuckDB reads as globs
 * (`[`, `{`, `*`) in the working dir and the database path load and merge as any other; a
 * database path with `?`, whose write-ahead log DuckDB looks for elsewhere, is refused with
 * advice that works, the package kept.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { duckdb, pipeline } from '../../src/index.js';
import { DestinationConfigError } from '../../src/errors.js';
import { count, failureCause, tempDir } from '../helpers.js';

const dir = tempDir();
const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i, name: `row ${i}`, items: [{ sku: `s${i}` }, { sku: `t${i}` }] }));

function odd(name: string, dbPath: string) {
  return pipeline({ pipelineName: name, pipelinesDir: join(dir, "it's a [working] {dir}*"), destination: duckdb({ path: dbPath }), datasetName: `${name}_data` });
}

describe('DuckDB database and working-dir paths', () => {
  it("load and merge with spaces, quotes, brackets, braces and '*' in them", async () => {
    const folder = join(dir, "data [2024] {eu}*'s");
    mkdirSync(folder, { recursive: true });
    const p = odd('odd_paths', join(folder, "db's [main].duckdb"));
    await p.run(rows(500), { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id', loaderFileFormat: 'parquet' });
    await p.run(rows(600), { tableName: 'users', writeDisposition: 'merge', primaryKey: 'id' });
    expect(await count(p, 'users')).toBe(600);
    expect(await count(p, 'users__items')).toBe(1200);
  });

  it("refuse a database path with '?' before writing, and load the kept package at the path the advice gives", async () => {
    const folder = join(dir, 'what?');
    mkdirSync(folder, { recursive: true });
    const bad = odd('question', join(folder, 'q.duckdb'));
    await bad.extract(rows(10), { tableName: 'users' });
    await bad.normalize();
    const err = await failureCause(bad.load());
    expect(err).toBeInstanceOf(DestinationConfigError);
    expect((err as Error).message).toContain(join(folder, 'q.duckdb'));
    expect((err as Error).message).toMatch(/without '\?': duckdb\(\{ path \}\)/);
    // as the advice says: another path, and the package loads there
    const fixed = odd('question', join(dir, 'q.duckdb'));
    expect((await fixed.load()).loadPackages).toHaveLength(1);
    expect(await count(fixed, 'users')).toBe(10);
  });
});
