import { describe, expect, it } from 'vitest';
import { count, editNormalizedJob, query, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir();

describe('valid data DuckDB could not take', () => {
  it("a single 50 MB string value loads (read_json's 16 MB line limit is raised for that package only)", async () => {
    const p = testPipeline(dir, 'big_value');
    const big = 'ab'.repeat(25 * 1024 * 1024) + 'end';
    await p.run([{ id: 1, body: big }, { id: 2, body: 'small' }], { tableName: 'docs' });
    const rows = await query<{ id: number; n: number; tail: string }>(p, 'SELECT id, length(body) AS n, right(body, 5) AS tail FROM docs ORDER BY id');
    expect(rows.map((r) => ({ ...r, n: Number(r.n) }))).toEqual([
      { id: 1, n: big.length, tail: 'abend' },
      { id: 2, n: 5, tail: 'small' },
    ]);
    // The next package holds ordinary rows again and loads as before.
    await p.run([{ id: 3, body: 'x' }], { tableName: 'docs' });
    expect(await count(p, 'docs')).toBe(3);
  });

  it('a row of 10,000 columns loads, and the next instance has the configured memory limit', async () => {
    const p = testPipeline(dir, 'wide');
    const row = (id: number) => {
      const r: Record<string, number> = { id };
      for (let i = 0; i < 10_000; i++) r[`c${i}`] = i * id;
      return r;
    };
    await p.run([row(1), row(2)], { tableName: 'wide' });
    const cols = await query<{ n: number }>(p, `SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = 'wide_data' AND table_name = 'wide'`);
    expect(Number(cols[0]!.n)).toBe(10_001 + 2); // id, c0..c9999, _dlt_load_id, _dlt_id
    const sums = await query<{ a: number; b: number }>(p, 'SELECT sum(c9999) AS a, sum(c1) AS b FROM wide');
    expect(sums.map((r) => ({ a: Number(r.a), b: Number(r.b) }))).toEqual([{ a: 9999 * 3, b: 3 }]);
    const limit = await query<{ l: string }>(p, `SELECT current_setting('memory_limit') AS l`);
    expect(limit[0]!.l).toBe('122.0 MiB');
  });

  it('a wide job that fails reports its own error, not the aborted transaction', async () => {
    const p = testPipeline(dir, 'wide_bad');
    const row = (id: number) => {
      const r: Record<string, number> = { id };
      for (let i = 0; i < 2_500; i++) r[`c${i}`] = i;
      return r;
    };
    await p.run([row(1)], { tableName: 'wide' });
    const ex = await p.extract([row(2)], { tableName: 'wide' });
    await p.normalize();
    // a value DuckDB cannot cast, in a job of a table wide enough to load with a raised memory limit
    const { job } = editNormalizedJob(p, ex.loadId, 'wide', (text) => text.replace('"c7":7,', '"c7":"seven",'));
    const info = await p.load({ raiseOnFailedJobs: false });
    expect(info.failedJobs.map((j) => j.job)).toEqual([job]);
    expect(info.failedJobs[0]!.message).toMatch(/seven/);
    expect(info.failedJobs[0]!.message).not.toMatch(/transaction is aborted/i);
    expect(await count(p, 'wide')).toBe(1);
  });
});
