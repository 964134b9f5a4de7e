import { describe, expect, it } from 'vitest';
import { HaulError, resource, resourceState, source, sourceState } from '../../src/index.js';
import { paged } from '../fixtures/temporal-sources.js';
import { query, tempDir, testPipeline } from '../helpers.js';

const dir = tempDir();

async function pages(p: ReturnType<typeof testPipeline>): Promise<number[]> {
  const rows = await query<{ page: bigint | number }>(p, 'SELECT page FROM pages ORDER BY page');
  return rows.map((r) => Number(r.page));
}

describe("sourceState() in a source's body (dlt's source_state() in a source function)", () => {
  it('reads the state the last load committed, so a source can pick up where it stopped', async () => {
    const p = testPipeline(dir, 'body_state');
    await p.run(paged(3));
    await p.run(paged(3));
    expect(await pages(p)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(p.state.sources.paged).toMatchObject({ nextPage: 7 });
  });

  it("is a copy: the body's changes are discarded, and a resource sees the pipeline's state", async () => {
    const p = testPipeline(dir, 'body_copy');
    await p.run([{ a: 1 }], { tableName: 'seed' });
    const seen: unknown[] = [];
    const touchy = source(function touchy() {
      sourceState().fromBody = true;
      return resource(function* items() {
        seen.push(sourceState().fromBody);
        sourceState().fromResource = true;
        yield { id: 1 };
      });
    });
    await p.run(touchy());
    expect(seen).toEqual([undefined]);
    expect(p.state.sources.touchy).toMatchObject({ fromResource: true });
    expect(p.state.sources.touchy).not.toHaveProperty('fromBody');
  });

  it('answers the active pipeline: the last one created or activated', async () => {
    const a = testPipeline(dir, 'body_active_a');
    await a.run(paged(2));
    const b = testPipeline(dir, 'body_active_b');
    await b.run(paged(1));
    // b was created last: its state (next page 2) makes the source
    await b.run(paged(1));
    expect(await pages(b)).toEqual([1, 2]);
    a.activate();
    await a.run(paged(2));
    expect(await pages(a)).toEqual([1, 2, 3, 4]);
    // no active pipeline: the body sees an empty state
    a.deactivate();
    let fromBody: unknown = 'unset';
    source(function peek() {
      fromBody = sourceState();
      return resource([{ x: 1 }], { name: 'x' });
    })();
    expect(fromBody).toEqual({});
  });

  it('resourceState() in a body names what to use instead', () => {
    const bad = source(function bad() {
      resourceState();
      return resource([{ x: 1 }], { name: 'x' });
    });
    expect(() => bad()).toThrow(HaulError);
    expect(() => bad()).toThrow(/resourceState\(\) can only be called inside a resource; a source's body can read sourceState\(\)/);
  });
});
