import { describe, expect, it } from 'vitest';
import { runFixture } from '../helpers.js';

describe('drivers load on use', () => {
  it('a DuckDB run loads neither pg, mysql2, yaml, cli-progress nor the Temporal SDK', () => {
    const r = runFixture('loaded-packages.ts', []);
    expect(r.status, r.stderr).toBe(0);
    const loaded = JSON.parse(r.stdout) as string[];
    expect(loaded).toContain('@duckdb/node-api'); // the check sees what the run used
    for (const lazy of ['pg', 'pg-copy-streams', 'mysql2', 'yaml', 'cli-progress', '@temporalio/client', '@temporalio/worker']) {
      expect(loaded, lazy).not.toContain(lazy);
    }
  });
});
