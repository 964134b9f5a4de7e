import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesystem, incremental, resource, source, transformer } from '../../src/index.js';
import { count, query, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir();

const shop = source(function shop(n: number, fail = false) {
  return [
    resource(
      function* orders() {
        for (let i = 1; i <= n; i++) yield { id: i, ts: i, lines: [{ q: i }] };
        if (fail) throw new Error('api went away');
      },
      { incremental: incremental('ts', { initialValue: 0 }) },
    ),
    resource(function* users() {
      yield { id: 1, tag: `v${n}` };
    }),
  ];
});

async function tables(p: ReturnType<typeof testPipeline>): Promise<string[]> {
  const rows = await query<{ table_name: string }>(
    p,
    `SELECT table_name FROM information_schema.tables WHERE table_schema = '${p.datasetName}' AND table_name NOT LIKE '\\_dlt%' ESCAPE '\\' AND table_name NOT LIKE '\\_haul%' ESCAPE '\\' ORDER BY 1`,
  );
  return rows.map((r) => r.table_name);
}

describe('refresh modes', () => {
  it('drop_sources drops every table and the state of the source, then loads fresh', async () => {
    const p = testPipeline(dir, 'rs');
    await p.run(shop(3));
    await p.run([{ extra: 1 }], { tableName: 'stray', schema: 'shop' });
    await p.run(shop(2).withResources('users'), { refresh: 'drop_sources' });
    expect(await tables(p)).toEqual(['users']);
    expect(p.state.sources.shop?.resources?.orders).toBeUndefined();
  });

  it('drop_resources drops only the selected resources tables and state', async () => {
    const p = testPipeline(dir, 'rr');
    await p.run(shop(3));
    await p.run(shop(5).withResources('orders'), { refresh: 'drop_resources' });
    expect(await tables(p)).toEqual(['orders', 'orders__lines', 'users']);
    expect(await count(p, 'orders')).toBe(5); // state reset: everything again
    expect(await count(p, 'users')).toBe(1);
  });

  it('drop_data truncates and resets incremental state, keeping the schema', async () => {
    const p = testPipeline(dir, 'rd');
    await p.run(shop(3));
    await p.run(shop(2), { refresh: 'drop_data' });
    expect(await count(p, 'orders')).toBe(2);
    expect(await count(p, 'orders__lines')).toBe(2);
    expect(await count(p, 'users')).toBe(1);
  });

  it("drop_data resets the resource's whole state, its own keys too (dlt's reset_resource_state)", async () => {
    const p = testPipeline(dir, 'rdk');
    const counted = () =>
      resource(function* ticks(ctx) {
        const st = ctx.state as { runs?: number };
        st.runs = (st.runs ?? 0) + 1;
        yield { run: st.runs };
      });
    await p.run(counted());
    await p.run(counted());
    await p.run(counted(), { refresh: 'drop_data' });
    expect(await query(p, 'SELECT run FROM ticks')).toEqual([{ run: 1 }]);
  });

  it("refreshing a transformer resets the parent it reads too, as dlt's refresh, so the transformer loads again", async () => {
    const p = testPipeline(dir, 'rt');
    const make = () => {
      const users = resource(
        function* users() {
          for (let id = 1; id <= 3; id++) yield { id };
        },
        { incremental: incremental('id', { initialValue: 0 }) },
      );
      const details = transformer(function* details(u: { id: number }) {
        yield { id: u.id, detail: `d${u.id}` };
      }, { dataFrom: users });
      return source(function users_src() {
        return [users, details];
      })();
    };
    await p.run(make());
    await p.run(make().withResources('details'), { refresh: 'drop_resources' });
    expect(await count(p, 'details')).toBe(3);
  });

  it.each(['duckdb', 'filesystem'])('a dropped resource loaded again is the newest stored schema, so a restore has its tables (%s)', async (dest) => {
    const name = `rv_${dest}`;
    const make = () => testPipeline(dir, name, dest === 'filesystem' ? { destination: filesystem({ bucketUrl: join(dir, `${name}_bucket`) }) } : {});
    const p = make();
    await p.run(shop(2));
    await p.dropResources(['orders']);
    expect(p.defaultSchema!.getTable('orders')).toBeUndefined();
    await p.run(shop(2).withResources('orders'));
    expect(p.defaultSchema!.getTable('orders')).toBeDefined();
    // the schema now equals the first one: it must still be stored as the newest version
    rmSync(join(dir, 'pipelines', name), { recursive: true, force: true });
    const restored = make();
    await restored.syncDestination();
    expect(restored.defaultSchema!.getTable('orders')).toBeDefined();
    expect(restored.defaultSchema!.getTable('orders__lines')).toBeDefined();
  });

  it('does not touch the destination when extract fails', async () => {
    const p = testPipeline(dir, 'rf');
    await p.run(shop(3));
    await expect(p.run(shop(3, true), { refresh: 'drop_sources' })).rejects.toThrow(/api went away/);
    expect(await count(p, 'orders')).toBe(3);
    expect(await count(p, 'users')).toBe(1);
    expect(p.hasPendingData).toBe(false);
    expect(p.state.sources.shop!.resources!.orders!.incremental!.ts!.last_value).toBe(3);
  });
});
