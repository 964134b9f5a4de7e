/**
 * dlt's resource helpers: addMap / addFilter / addYieldMap / addLimit / applyHints and
 * transformers (dataFrom, pipeTo), asserted on the rows that land in DuckDB.
 */
import { describe, expect, it } from 'vitest';
import { incremental, InvalidOptionsError, resource, source, transformer } from '../../src/index.js';
import { query, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir('haul-resource-helpers-');

describe('item steps', () => {
  it('map, filter and yieldMap run per item, pages included, in the order added', async () => {
    const p = testPipeline(dir, 'steps');
    const r = resource(
      function* numbers() {
        yield [{ n: 1 }, { n: 2 }, { n: 3 }]; // a page
        yield { n: 4 };
      },
    )
      .addFilter((x) => x.n !== 2)
      .addMap((x) => ({ ...x, sq: x.n * x.n }))
      .addYieldMap((x) => (x.n === 4 ? [x, { ...x, copy: true }] : [x]));
    await p.run(r);
    const rows = await query<{ n: number; sq: number; copy: boolean | null }>(p, 'SELECT n::INT AS n, sq::INT AS sq, copy FROM numbers ORDER BY n, copy NULLS FIRST');
    expect(rows).toEqual([
      { n: 1, sq: 1, copy: null },
      { n: 3, sq: 9, copy: null },
      { n: 4, sq: 16, copy: null },
      { n: 4, sq: 16, copy: true },
    ]);
  });

  it("steps run before the incremental cursor, as dlt's: a map may derive the cursor field", async () => {
    const p = testPipeline(dir, 'steps_incr');
    const make = (upto: number) =>
      resource(
        function* events() {
          for (let i = 1; i <= upto; i++) yield { id: i, raw: `${i * 10}` };
        },
        { incremental: incremental('at') },
      ).addMap(({ id, raw }) => ({ id, at: Number(raw) }));
    await p.run(make(3));
    await p.run(make(5));
    expect(await query(p, 'SELECT id::INT AS id FROM events ORDER BY id')).toEqual([1, 2, 3, 4, 5].map((id) => ({ id })));
    expect(p.state.sources.steps_incr!.resources!.events!.incremental!.at!.last_value).toBe(50);
  });

  it("tableName as a function routes each item to its table (dlt's dynamic table names): every table gets the resource's hints", async () => {
    const p = testPipeline(dir, 'dyn_tables');
    const events = (n: number) =>
      source(function zoo() {
        return resource(
          function* events() {
            for (let i = 1; i <= n; i++) yield { id: i, kind: i % 2 ? 'Cat' : 'Dog', tags: [`t${i}`], ts: i };
          },
          { tableName: (e) => `${String(e.kind)}s`, primaryKey: 'id', writeDisposition: 'merge', incremental: incremental('ts', { initialValue: 0 }) },
        );
      })();
    await p.run(events(5));
    await p.run(events(7)); // 6 and 7 are new; the cursor spans both tables
    expect(await query(p, 'SELECT id::INT AS id FROM cats ORDER BY id')).toEqual([1, 3, 5, 7].map((id) => ({ id })));
    expect(await query(p, 'SELECT id::INT AS id FROM dogs ORDER BY id')).toEqual([2, 4, 6].map((id) => ({ id })));
    expect(await query(p, 'SELECT count(*)::INT AS n FROM dogs__tags')).toEqual([{ n: 3 }]);
    const schema = p.defaultSchema!;
    for (const t of ['cats', 'dogs']) expect(schema.getTable(t)).toMatchObject({ resource: 'events', writeDisposition: 'merge' });
    expect(schema.getTable('cats')!.columns.id!.primaryKey).toBe(true);
    expect(schema.getTable('events')).toBeUndefined();
    // a refresh of the resource drops every table it made
    await p.run(events(2).withResources('events'), { refresh: 'drop_resources' });
    expect(await query(p, 'SELECT id::INT AS id FROM cats')).toEqual([{ id: 1 }]);
    expect(await query(p, 'SELECT id::INT AS id FROM dogs')).toEqual([{ id: 2 }]);
    // a function that names no table is a typed error naming the resource
    const bad = resource([{ id: 1 }], { name: 'bad', tableName: () => '' });
    await expect(p.run(bad)).rejects.toThrow(/resource "bad" tableName.*must return a table name/);
    expect(() => resource([], { name: 'x', tableName: () => 't', parentTableName: 'p' })).toThrow(InvalidOptionsError);
  });

  it("a generator object read once already is a typed error on the next run, as dlt's SourceExhausted (not an empty load)", async () => {
    const p = testPipeline(dir, 'gen_once');
    const gen = (function* events() {
      yield { id: 1 };
    })();
    await p.run(gen, { tableName: 'once' });
    await expect(p.run(gen, { tableName: 'once' })).rejects.toThrow(/generator object that was read already.*pass the generator function/);
    expect(await query(p, 'SELECT count(*)::INT AS n FROM once')).toEqual([{ n: 1 }]);
  });

  it("a generator yielded as an item is unwound one level, as dlt's (not one empty row)", async () => {
    const p = testPipeline(dir, 'nested_gen');
    await p.run(
      resource(function* nested() {
        yield (function* inner() {
          yield { id: 1 };
          yield { id: 2 };
        })();
        yield { id: 3 };
      }),
    );
    expect(await query(p, 'SELECT id::INT AS id FROM nested ORDER BY 1')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it("addLimit counts only yields the incremental kept, as dlt's limit sits behind it", async () => {
    const p = testPipeline(dir, 'limit_incr');
    let pulled = 0;
    const pages = resource(
      function* ticks() {
        for (let ts = 1; ts <= 6; ts++) {
          pulled++;
          yield [{ id: ts, ts }];
        }
      },
      { incremental: incremental('ts', { initialValue: 3 }) },
    ).addLimit(2);
    await p.run(pages);
    // ts 1 and 2 are before the start: not counted; 3 and 4 are the two yields kept
    expect(await query(p, 'SELECT id::INT AS id FROM ticks ORDER BY id')).toEqual([{ id: 3 }, { id: 4 }]);
    expect(pulled).toBe(4);
    expect(p.state.sources.limit_incr!.resources!.ticks!.incremental!.ts!.last_value).toBe(4);
  });

  it('addLimit counts yields (a page once) and stops the generator; maxTimeMs stops a slow one', async () => {
    const p = testPipeline(dir, 'limits');
    let produced = 0;
    const pages = resource(function* pages() {
      for (let i = 0; i < 100; i++) {
        produced++;
        yield [{ page: i, k: 'a' }, { page: i, k: 'b' }];
      }
    }).addLimit(3);
    await p.run(pages);
    expect(await query(p, 'SELECT count(*)::INT AS n, max(page)::INT AS last FROM pages')).toEqual([{ n: 6, last: 2 }]);
    expect(produced).toBe(3);

    const slow = resource(async function* slow() {
      for (let i = 0; i < 1000; i++) {
        await new Promise((r) => setTimeout(r, 20));
        yield { i };
      }
    }).addLimit({ maxTimeMs: 150 });
    await p.run(slow);
    const [{ n }] = await query<{ n: number }>(p, 'SELECT count(*)::INT AS n FROM slow');
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(1000);
  });

  it('applyHints changes table, disposition, keys and incremental in place', async () => {
    const p = testPipeline(dir, 'hints');
    const rows = [{ id: 1, v: 'a', at: 1 }, { id: 1, v: 'b', at: 2 }];
    const r = resource(rows, { name: 'raw' });
    expect(r.applyHints({ tableName: 'items', writeDisposition: 'merge', primaryKey: 'id', incremental: incremental('at') })).toBe(r);
    await p.run(r);
    expect(await query(p, 'SELECT id::INT AS id, v FROM items')).toEqual([{ id: 1, v: 'b' }]);
    expect(() => r.applyHints({ writeDisposition: 'upsert' as never })).toThrow(InvalidOptionsError);
  });
});

describe('transformers', () => {
  const users = () =>
    resource(
      function* users() {
        yield [{ id: 1, name: 'ann' }, { id: 2, name: 'bob' }];
        yield { id: 3, name: 'cy' };
      },
      { primaryKey: 'id' },
    );

  it('feed on their parent\'s yields into a table of their own, parent and child both selected', async () => {
    const p = testPipeline(dir, 'transform');
    const shop = source(function shop() {
      const u = users();
      const details = transformer(
        async function* details(page: Array<{ id: number }> | { id: number }) {
          for (const user of Array.isArray(page) ? page : [page]) yield { user_id: user.id, score: user.id * 10 };
        },
        { dataFrom: u },
      );
      return [u, details];
    });
    await p.run(shop());
    expect(await query(p, 'SELECT id::INT AS id, name FROM users ORDER BY id')).toEqual([
      { id: 1, name: 'ann' },
      { id: 2, name: 'bob' },
      { id: 3, name: 'cy' },
    ]);
    expect(await query(p, 'SELECT user_id::INT AS user_id, score::INT AS score FROM details ORDER BY user_id')).toEqual([
      { user_id: 1, score: 10 },
      { user_id: 2, score: 20 },
      { user_id: 3, score: 30 },
    ]);
  });

  it('pipeTo binds a transformer; the parent\'s incremental filters what it sees across runs', async () => {
    const p = testPipeline(dir, 'transform_incr');
    let feed = [{ id: 1, at: 1 }, { id: 2, at: 2 }];
    const seen: number[] = [];
    const make = () => {
      const parent = resource(() => feed, { name: 'orders', incremental: incremental('at'), selected: false });
      const lines = transformer((order: { id: number }) => {
        seen.push(order.id);
        return { order_id: order.id };
      }, { name: 'order_lines' });
      return parent.pipeTo(lines);
    };
    await p.run(make());
    feed = [...feed, { id: 3, at: 3 }];
    await p.run(make());
    expect(seen).toEqual([1, 2, 3]);
    expect(await query(p, 'SELECT order_id::INT AS id FROM order_lines ORDER BY 1')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(p.state.sources.transform_incr!.resources!.orders!.incremental!.at!.last_value).toBe(3);
  });

  it.each(['parent first', 'transformer first'])(
    "a parent with a cursor and its transformer, both selected (%s): both load the same new items, as dlt's",
    async (order) => {
      const p = testPipeline(dir, `transform_both_${order.split(' ')[0]}`);
      let feed = [10, 20, 30].map((ts) => ({ id: ts, ts }));
      let opened = 0;
      const make = () =>
        source(function both() {
          const users = resource(
            function* users(ctx) {
              opened++;
              const st = ctx.state as { runs?: number };
              st.runs = (st.runs ?? 0) + 1;
              yield* feed;
            },
            { incremental: incremental('ts', { initialValue: 15 }) },
          );
          const details = transformer((u: { id: number }) => ({ user_id: u.id }), { name: 'details' });
          return order === 'parent first' ? [users, users.pipeTo(details)] : [users.pipeTo(details), users];
        })();
      await p.run(make());
      feed = [...feed, { id: 40, ts: 40 }];
      await p.run(make());
      const ids = (sql: string) => query(p, sql).then((r) => r.map((x) => Object.values(x)[0]));
      expect(await ids('SELECT id::INT FROM users ORDER BY 1')).toEqual([20, 30, 40]);
      expect(await ids('SELECT user_id::INT FROM details ORDER BY 1')).toEqual([20, 30, 40]);
      const st = p.state.sources.both!.resources!.users!;
      expect(st.incremental!.ts!.last_value).toBe(40);
      // the parent's own pass keeps its state; the transformer's pass of it changes nothing
      expect((st as { runs?: number }).runs).toBe(2);
      expect(opened).toBe(4);
    },
  );

  it("withResources(): what is done to the copy's parent reaches its transformer (dlt's idiom of hinting the parent after selecting)", async () => {
    const p = testPipeline(dir, 'transform_select');
    const src = source(function sel() {
      const users = resource([{ id: 1, ts: 1 }, { id: 2, ts: 2 }], { name: 'users' });
      return [users, users.pipeTo(transformer((u: { id: number; mapped?: boolean }) => ({ id: u.id, mapped: u.mapped === true }), { name: 'details' }))];
    });
    const s = src().withResources('details');
    s.resources.users!.addMap((u) => ({ ...(u as object), mapped: true })).applyHints({ incremental: incremental('ts', { initialValue: 2 }) });
    await p.run(s);
    expect(await query(p, 'SELECT id::INT AS id, mapped FROM details ORDER BY 1')).toEqual([{ id: 2, mapped: true }]);
  });

  it('transformers chain (r | t1 | t2): each reads the one before it', async () => {
    const p = testPipeline(dir, 'transform_chain');
    const users = resource([{ id: 1 }, { id: 2 }], { name: 'users' });
    const orders = transformer((u: { id: number }) => [{ user_id: u.id, order: u.id * 10 }], { name: 'orders' });
    const lines = transformer((o: { order: number }) => ({ order: o.order, line: 1 }), { name: 'lines' });
    await p.run(users.pipeTo(orders).pipeTo(lines));
    expect(await query(p, 'SELECT "order"::INT AS o FROM lines ORDER BY 1')).toEqual([{ o: 10 }, { o: 20 }]);
  });

  it('a transformer without a parent is a typed error and loads nothing', async () => {
    const p = testPipeline(dir, 'transform_unbound');
    const lonely = transformer((x: unknown) => x, { name: 'lonely' });
    await expect(p.run(lonely)).rejects.toSatisfy((e: unknown) => e instanceof Error && /transformer "lonely": has no parent/.test(e.message));
    expect(p.hasPendingData).toBe(false);
  });
});
