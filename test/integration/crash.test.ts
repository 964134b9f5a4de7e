import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attach } from '../../src/index.js';
import { count, query, runFixture, tempDir } from '../helpers.js';

/*
 * Kill the process (SIGKILL) at each fault point, run again, and check every row is there
 * exactly once, the incremental state is right and no package is left behind.
 */
const FAULTS = [
  'extract:after-resource',
  'extract:before-commit',
  'normalize:mid',
  'normalize:before-commit',
  'normalize:after-commit',
  'load:after-commit',
  'load:before-complete',
  'load:after-complete',
];

describe('crash safety (SIGKILL at fault points)', () => {
  for (const fault of FAULTS) {
    it(`recovers after a kill at ${fault}`, async () => {
      const dir = tempDir();
      const first = runFixture('crash-runner.ts', [dir, '1']);
      expect(first.status, first.stderr).toBe(0);

      // Second batch dies at the fault point.
      const killed = runFixture('crash-runner.ts', [dir, '2'], { HAUL_FAULT: fault });
      expect(killed.signal, `${fault}: ${killed.stdout}${killed.stderr}`).toBe('SIGKILL');

      // The next run finishes the pending package and loads batch 3.
      const again = runFixture('crash-runner.ts', [dir, '3']);
      expect(again.status, again.stderr).toBe(0);

      const p = attach({ pipelineName: 'crash', pipelinesDir: join(dir, 'pipelines') });
      expect(await count(p, 'events')).toBe(300);
      const dup = await query(p, 'SELECT id FROM events GROUP BY id HAVING count(*) > 1');
      expect(dup).toEqual([]);
      expect(await count(p, 'events__tags')).toBe(600);
      expect(await count(p, 'customers')).toBe(20);
      expect(await count(p, 'customers__addresses')).toBe(40);
      const towns = await query<{ city: string }>(p, "SELECT DISTINCT city FROM customers__addresses WHERE city LIKE 'town%'");
      expect(towns.map((r) => r.city)).toEqual(['town3']);
      const inc = p.state.sources.shop!.resources!.events!.incremental!.ts!;
      expect(inc.last_value).toBe(300);
      expect(p.hasPendingData).toBe(false);
      expect(readdirSync(join(dir, 'pipelines', 'crash', 'normalize', 'extracted'))).toEqual([]);
      expect(readdirSync(join(dir, 'pipelines', 'crash', 'load', 'normalized'))).toEqual([]);
      const loads = await query<{ n: unknown }>(p, 'SELECT count(*) AS n FROM _dlt_loads WHERE status = 0');
      // A kill during extract loses that package entirely (nothing committed); otherwise it completes.
      expect(Number(loads[0]!.n)).toBe(fault.startsWith('extract') ? 2 : 3);
      const markers = await query<{ n: unknown }>(p, 'SELECT count(*) AS n FROM _haul_jobs');
      expect(Number(markers[0]!.n)).toBe(0);
      expect(existsSync(join(dir, 'crash.duckdb'))).toBe(true);
    });
  }
});
