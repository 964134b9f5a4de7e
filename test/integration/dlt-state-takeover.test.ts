/**
 * A dlt pipeline moves over: the state dlt stored in `_dlt_pipeline_state` (zlib, base64,
 * typed JSON) is taken over when haul's working dir has none, so incremental cursors and
 * resource state go on from where dlt stopped.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { incremental, resource, resourceState, source } from '../../src/index.js';
import { query, tempDir, testPipeline } from '../helpers.js';

// What dlt 1.31 stored for pipeline "mv2" after loading two events (cursor `at`, datetimes),
// with `resource_state()['note'] = 'from dlt'`, read from its _dlt_pipeline_state table.
const DLT_STATE =
  'eNqNUdtOAjEQ/RXTV1bYLSuSTXwwRmNEDSaoqDFNXQrUdLulna4KIfFv/Dx/wekigvHFZtLLmTMzZzoLwhxwEKwS1slSkyyJ1pDQE6m3PGlEXD4VBWeaF8KR7IEUFSWPETHSCBW4wUGyGo7ISIy5V8C2gjY+DtwJWIPGlk+CrcMcSM0BazJ4M8E9UtDcgl3TlA4mFjX8pq+yaa8UNvGtm025m2KO59dOfnndavRb/WrYPT56md+73m18Pren5mSfdudXNk5uZrQaTg4wrSu9zUOTi1oxHlhug4lKaKhvUudWFPjiKjw5rEAJkitWceVDA5/vHzSm6W6coA3iOKutUe9YTHEHf7mdwE1o1g6sZkLb6V7nJ8RrOfOibm41ioFJ07x3cTc+9GdhJjhDC/8TsFxGRJcQeGNbFjv43Yjh+gI1J7Ov';

describe("dlt's stored state", () => {
  it('is taken over: cursors and resource state go on from where dlt stopped; the next state is haul\'s', async () => {
    const dir = tempDir();
    const p = testPipeline(dir, 'mv2');
    await p.run([{ x: 1 }], { tableName: 'seed' });
    // the dataset now holds dlt's state row, newer than anything haul wrote
    const c = p.sqlClient();
    try {
      await c.query(`UPDATE _dlt_pipeline_state SET state = $1, version = 5`, [DLT_STATE]);
    } finally {
      await c.close();
    }
    rmSync(join(dir, 'pipelines', 'mv2'), { recursive: true });

    const notes: unknown[] = [];
    const mv2 = source(function mv2() {
      return resource(
        function* events() {
          notes.push(resourceState().note);
          yield { id: 1, at: '2024-05-01T12:00:00Z' };
          yield { id: 3, at: '2024-07-01T00:00:00Z' };
        },
        { incremental: incremental('at', { initialValue: '2024-01-01T00:00:00Z' }) },
      );
    });
    const again = testPipeline(dir, 'mv2');
    await again.run(mv2());
    expect(notes).toEqual(['from dlt']);
    // dlt's cursor stood at 2024-06-01T12:30:00.123456: the May event is older and stays out
    expect(await query(again, 'SELECT id FROM events ORDER BY id')).toEqual([{ id: 3 }]);
    const inc = again.state.sources.mv2!.resources!.events!.incremental!.at!;
    expect(inc.start_value).toBe('2024-06-01T12:30:00.123456+00:00');
    expect(new Date(String(inc.last_value)).toISOString()).toBe('2024-07-01T00:00:00.000Z');
  });
});
