/**
 * A broken working dir gives advice that works: a corrupt state.json or schema names the
 * file and the two ways out, and `restoreFromDestination` really restores state (the
 * incremental cursor) and schemas from the destination. attach() refuses to open a new,
 * empty DuckDB file elsewhere, and secrets in destination options never reach state.json.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attach, CorruptStateError, duckdb, incremental, pipeline, resource, secretValue } from '../../src/index.js';
import { count, tempDir } from '../helpers.js';

const dir = tempDir();
const pipelinesDir = join(dir, 'pipelines');

function events(lastId: number) {
  return resource(
    function* events(ctx) {
      const from = Number(ctx.incremental!.startValue ?? 0);
      for (let id = 1; id <= lastId; id++) if (id > from) yield { id };
    },
    { name: 'events', incremental: incremental('id', { initialValue: 0 }) },
  );
}

describe('a broken working dir', () => {
  it('a corrupt state.json names the file and the way out; restoreFromDestination restores state and schemas', async () => {
    const path = join(dir, 'recover.duckdb');
    const open = (extra = {}) => pipeline({ pipelineName: 'recover', pipelinesDir, destination: duckdb({ path }), datasetName: 'rec', ...extra });
    await open().run(events(3));
    const statePath = join(pipelinesDir, 'recover', 'state.json');
    writeFileSync(statePath, '{ not json');

    let err: unknown;
    try {
      open();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CorruptStateError);
    expect((err as Error).message).toContain(`pipeline "recover": ${statePath} is broken`);
    expect((err as Error).message).toContain('"haul pipeline recover sync --yes"');
    expect((err as Error).message).toContain('restoreFromDestination: true');

    // The advice works: the state (incremental cursor 3) comes back from the destination.
    const p = open({ restoreFromDestination: true });
    const info = await p.run(events(5));
    expect(info.rowCounts.events).toBe(2); // ids 4 and 5 only: the cursor was restored
    expect(await count(p, 'events')).toBe(5);
    expect(readdirSync(join(pipelinesDir, 'recover')).some((f) => f.startsWith('state.json.corrupt-'))).toBe(true);
  });

  it('a state row haul cannot read (neither JSON nor a whole dlt state) is a typed error that says what to do', async () => {
    const path = join(dir, 'dlt_state.duckdb');
    const open = (name: string, datasetName = 'shared') => pipeline({ pipelineName: name, pipelinesDir: join(dir, `p_${name}_${datasetName}`), destination: duckdb({ path }), datasetName });
    const first = open('from_dlt');
    await first.run(events(1));
    // the start of what dlt writes (base64 of zlib-compressed JSON), cut short, with a newer version
    const c = first.sqlClient();
    await c.query(`UPDATE _dlt_pipeline_state SET state = 'eNp9j81qwz', version = 99`);
    await c.close();
    const err = (await open('from_dlt').run(events(2)).catch((e: unknown) => e)) as Error & { retryable?: boolean };
    expect(err.message).toContain(`holds a _dlt_pipeline_state row for pipeline "from_dlt" that haul cannot read (it is neither JSON nor dlt's compressed state)`);
    expect(err.message).toContain('give this pipeline another datasetName');
    expect(err.retryable).toBe(false);
    // the advice works
    const info = await open('from_dlt', 'own').run(events(2));
    expect(info.rowCounts.events).toBe(2);
  });

  it('attach() can restore a pipeline whose schema file is broken', async () => {
    const path = join(dir, 'schemafix.duckdb');
    const p = pipeline({ pipelineName: 'schemafix', pipelinesDir, destination: duckdb({ path }), datasetName: 'sf' });
    await p.run(events(2));
    const schemaFile = join(pipelinesDir, 'schemafix', 'schemas', 'schemafix.schema.json');
    expect(existsSync(schemaFile)).toBe(true);
    writeFileSync(schemaFile, '[]garbage');
    const again = attach({ pipelineName: 'schemafix', pipelinesDir, destination: duckdb({ path }), datasetName: 'sf', restoreFromDestination: true });
    await again.run(events(4));
    expect(await count(again, 'events')).toBe(4);
    expect(Object.keys(again.getSchema('schemafix')!.tables)).toContain('events');
  });

  it('attach() from another directory refuses to create an empty default DuckDB file', async () => {
    const home = join(dir, 'ranhere');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(home);
    mkdirSync(elsewhere);
    const cwd = process.cwd();
    try {
      process.chdir(home);
      await pipeline({ pipelineName: 'homebound', pipelinesDir }).run([{ id: 1 }], { tableName: 't' });
      process.chdir(elsewhere);
      expect(() => attach({ pipelineName: 'homebound', pipelinesDir })).toThrow(/loaded into duckdb file .*elsewhere\/homebound\.duckdb, which does not exist; attach from the directory it ran in/);
      expect(existsSync(join(elsewhere, 'homebound.duckdb'))).toBe(false);
      process.chdir(home);
      expect(attach({ pipelineName: 'homebound', pipelinesDir }).pipelineName).toBe('homebound');
    } finally {
      process.chdir(cwd);
    }
  });

  it('a garbage trace.json is reported as broken, not as "no trace yet"', async () => {
    const p = pipeline({ pipelineName: 'badtrace', pipelinesDir, destination: duckdb({ path: join(dir, 'badtrace.duckdb') }) });
    await p.run([{ id: 1 }], { tableName: 't' });
    writeFileSync(join(p.workingDir, 'trace.json'), 'garbage');
    const again = attach({ pipelineName: 'badtrace', pipelinesDir });
    expect(() => again.lastTrace).toThrow(/badtrace[/]trace\.json is broken \(not valid JSON.*\); delete it, the next run writes a new one/);
  });

  it('a destination option holding a secret is not stored in state.json', async () => {
    const token = secretValue('tok-3f9a8b7c6d5e');
    const path = join(dir, `db-${token}.duckdb`);
    const p = pipeline({ pipelineName: 'secretpath', pipelinesDir, destination: duckdb({ path }), datasetName: 'sp' });
    await p.run([{ id: 1 }], { tableName: 't' });
    expect(readFileSync(join(pipelinesDir, 'secretpath', 'state.json'), 'utf8')).not.toContain('tok-3f9a8b7c6d5e');
    expect(await count(p, 't')).toBe(1);
  });
});
