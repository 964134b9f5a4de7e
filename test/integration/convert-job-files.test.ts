/**
 * The parquet/csv converter normalize uses (src/storage/job-formats.ts) converts two files at
 * once: every job is converted, each into its own file with its own rows, and a file DuckDB
 * cannot read fails the call only after the other conversion in flight has finished, leaving
 * no temp folder behind.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ColumnSchema } from '../../src/schema/types.js';
import { convertJobFiles } from '../../src/storage/job-formats.js';

const columns: Record<string, ColumnSchema[]> = {
  users: [
    { name: 'id', dataType: 'bigint', nullable: true },
    { name: 'name', dataType: 'text', nullable: true },
  ],
  users__items: [
    { name: 'sku', dataType: 'text', nullable: true },
    { name: 'qty', dataType: 'bigint', nullable: true },
  ],
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function jobDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'haul-convert-test-'));
  dirs.push(dir);
  return dir;
}

/** Rows per users job: enough that two conversions overlap. */
const ROWS = 50_000;

/** Job `n` of `table` holds rows whose first column says which file they came from. */
function writeJobs(dir: string, files: number): void {
  for (let n = 0; n < files; n++) {
    const lines: string[] = [];
    for (let r = 0; r < ROWS; r++) {
      lines.push(JSON.stringify({ id: n * ROWS + r, name: `file ${n}` }));
    }
    writeFileSync(join(dir, `users.f${String(n).padStart(3, '0')}.0.jsonl`), lines.join('\n') + '\n');
    writeFileSync(join(dir, `users__items.f${String(n).padStart(3, '0')}.0.jsonl`), `{"sku":"file ${n}","qty":${n}}\n`);
  }
}

async function readBack(path: string, format: 'parquet' | 'csv'): Promise<Array<Record<string, unknown>>> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const from = format === 'parquet' ? `read_parquet('${path}')` : `read_csv('${path}', header = true, all_varchar = true)`;
    return (await c.runAndReadAll(`SELECT * FROM ${from}`)).getRowObjectsJS() as Array<Record<string, unknown>>;
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const leftoverTempDirs = () => readdirSync(tmpdir()).filter((f) => f.startsWith('haul-convert-') && !f.startsWith('haul-convert-test-'));

describe('convertJobFiles', () => {
  for (const format of ['parquet', 'csv'] as const) {
    it(`converts every job of several tables to ${format}, each file with its own rows`, async () => {
      const dir = jobDir();
      writeJobs(dir, 7);
      const before = leftoverTempDirs();
      const written = await convertJobFiles(dir, format, (t) => columns[t]!);
      expect(written).toHaveLength(14);
      // in the folder's order, one for each job, and no JSONL left
      expect(written).toEqual(
        readdirSync(dir)
          .filter((f) => f.endsWith(`.${format}`))
          .sort(),
      );
      expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
      for (let n = 0; n < 7; n++) {
        const id = `f${String(n).padStart(3, '0')}`;
        const users = await readBack(join(dir, `users.${id}.0.${format}`), format);
        expect(users).toHaveLength(ROWS);
        expect(new Set(users.map((u) => u['name']))).toEqual(new Set([`file ${n}`]));
        expect(users.map((u) => Number(u['id']))).toEqual(Array.from({ length: ROWS }, (_, r) => n * ROWS + r));
        const items = await readBack(join(dir, `users__items.${id}.0.${format}`), format);
        expect(items.map((i) => [i['sku'], Number(i['qty'])])).toEqual([[`file ${n}`, n]]);
      }
      expect(leftoverTempDirs()).toEqual(before);
    });
  }

  it('fails on a file DuckDB cannot read, after the conversion in flight finished, with no temp folder left', async () => {
    const dir = jobDir();
    writeJobs(dir, 4);
    // not a bigint: read_json with the table's column types refuses it
    writeFileSync(join(dir, 'users.f001.0.jsonl'), '{"id":"not a number","name":"bad"}\n');
    const before = leftoverTempDirs();
    await expect(convertJobFiles(dir, 'parquet', (t) => columns[t]!)).rejects.toThrow(/not a number|convert|Conversion/i);
    expect(leftoverTempDirs()).toEqual(before);
    // the bad file is untouched; every file is either still JSONL or fully converted
    expect(existsSync(join(dir, 'users.f001.0.jsonl'))).toBe(true);
    for (const f of readdirSync(dir)) expect(f).toMatch(/\.(jsonl|parquet)$/);
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.parquet'))) {
      expect(existsSync(join(dir, f.replace(/\.parquet$/, '.jsonl')))).toBe(false);
      expect((await readBack(join(dir, f), 'parquet')).length).toBeGreaterThan(0);
    }
  });
});
