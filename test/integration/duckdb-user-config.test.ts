/**
 * The user's DuckDB settings, pragmas and extensions (dlt's global_config, local_config,
 * pragmas and extensions; src/destinations/duckdb/user-config.ts): applied to the database
 * haul loads into, read from .dlt/config.toml and env under what code gives, and a setting
 * DuckDB refuses fails the load with advice that works, the package kept.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { duckdb, pipeline, type DuckDBOptions } from '../../src/index.js';
import { DestinationConfigError } from '../../src/errors.js';
import { count, failureCause, query, tempDir } from '../helpers.js';

const dir = tempDir();
// unique names with a long shared text: DuckDB stores them with FSST unless it is disabled
const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i, name: `customer ${i} of the north-western sales region` }));

function duckPipeline(name: string, options: DuckDBOptions = {}, destination = duckdb({ path: join(dir, `${name}.duckdb`), ...options })) {
  return pipeline({ pipelineName: name, pipelinesDir: join(dir, 'pipelines'), destination, datasetName: `${name}_data` });
}

/** The compression methods DuckDB stored `name` of `users` with. */
async function nameCompressions(p: ReturnType<typeof duckPipeline>): Promise<string[]> {
  const found = await query<{ c: string }>(p, `SELECT DISTINCT compression AS c FROM pragma_storage_info('users') WHERE column_name = 'name' AND segment_type = 'VARCHAR'`);
  return found.map((r) => r.c).sort();
}

afterEach(() => {
  delete process.env.DLT_PROJECT_DIR;
  delete process.env.DESTINATION__DUCKDB__CREDENTIALS__LOCAL_CONFIG;
});

describe('DuckDB settings from duckdb({ globalConfig, localConfig, pragmas, extensions })', () => {
  it('loads with the global settings: the names are stored without FSST when it is disabled', async () => {
    const plain = duckPipeline('plain');
    await plain.run(rows(20_000), { tableName: 'users' });
    const noFsst = duckPipeline('no_fsst', { globalConfig: { disabled_compression_methods: 'fsst', threads: 1 } });
    await noFsst.run(rows(20_000), { tableName: 'users' });

    expect(await count(noFsst, 'users')).toBe(20_000);
    expect(await nameCompressions(plain)).toContain('FSST');
    expect(await nameCompressions(noFsst)).not.toContain('FSST');
    const [settings] = await query<{ t: unknown; d: string }>(noFsst, `SELECT current_setting('threads') AS t, current_setting('disabled_compression_methods') AS d`);
    expect(Number(settings!.t)).toBe(1);
    expect(settings!.d.toLowerCase()).toBe('fsst');
  });

  it("gives freed memory back at haul's threshold unless the global settings name another", async () => {
    const flush = async (p: ReturnType<typeof duckPipeline>) =>
      (await query<{ f: string }>(p, `SELECT current_setting('allocator_bulk_deallocation_flush_threshold') AS f`))[0]!.f;
    const plain = duckPipeline('flush_default');
    await plain.run(rows(10), { tableName: 'users' });
    const own = duckPipeline('flush_own', { globalConfig: { allocator_bulk_deallocation_flush_threshold: '64MB' } });
    await own.run(rows(10), { tableName: 'users' });
    // DuckDB prints 32MB as 30.5 MiB; its own default is 512.0 MiB
    expect(await flush(plain)).toBe('30.5 MiB');
    expect(await flush(own)).toBe('61.0 MiB');
  });

  it('runs the pragmas and sets the session settings on each connection haul opens', async () => {
    const p = duckPipeline('session', { localConfig: { TimeZone: 'Asia/Tokyo' }, pragmas: ['disable_progress_bar'], extensions: ['icu'] });
    await p.run(rows(10), { tableName: 'users' });
    const [s] = await query<{ tz: string; bar: string }>(p, `SELECT current_setting('TimeZone') AS tz, current_setting('enable_progress_bar')::VARCHAR AS bar`);
    expect(s).toEqual({ tz: 'Asia/Tokyo', bar: 'false' });
    // dataset() streams on connections of its own
    const back = await p.dataset().query<{ tz: string }>(`SELECT current_setting('TimeZone') AS tz`);
    expect(back).toEqual([{ tz: 'Asia/Tokyo' }]);
  });

  it('reads them from .dlt/config.toml and env; a setting given in code wins', async () => {
    const project = join(dir, 'project');
    mkdirSync(join(project, '.dlt'), { recursive: true });
    writeFileSync(
      join(project, '.dlt', 'config.toml'),
      ['[destination.duckdb.credentials]', 'pragmas = ["disable_progress_bar"]', '[destination.duckdb.credentials.global_config]', 'threads = 1', 'disabled_compression_methods = "fsst"', ''].join('\n'),
    );
    process.env.DLT_PROJECT_DIR = project;
    process.env.DESTINATION__DUCKDB__CREDENTIALS__LOCAL_CONFIG = JSON.stringify({ TimeZone: 'America/Lima' });
    const p = duckPipeline('configured', { globalConfig: { disabled_compression_methods: 'fsst,dictionary' } });
    await p.run(rows(20_000), { tableName: 'users' });

    const [s] = await query<{ t: unknown; d: string; tz: string; bar: string }>(
      p,
      `SELECT current_setting('threads') AS t, current_setting('disabled_compression_methods') AS d, current_setting('TimeZone') AS tz, current_setting('enable_progress_bar')::VARCHAR AS bar`,
    );
    // DuckDB prints the methods its own way ('Dictionary,FSST')
    expect({ ...s, t: Number(s!.t), d: s!.d.toLowerCase().split(',').sort() }).toEqual({ t: 1, d: ['dictionary', 'fsst'], tz: 'America/Lima', bar: 'false' });
    expect(await nameCompressions(p)).not.toContain('FSST');
  });

  it('a setting DuckDB refuses fails the load, names it, and keeps the package for the next run', async () => {
    const name = 'refused';
    const path = join(dir, `${name}.duckdb`);
    const bad = duckPipeline(name, {}, duckdb({ path, globalConfig: { threads: 'many' } }));
    await bad.extract(rows(100), { tableName: 'users' });
    await bad.normalize();
    const err = await failureCause(bad.load());
    expect(err).toBeInstanceOf(DestinationConfigError);
    expect(String((err as Error).message)).toMatch(/`globalConfig\.threads`.*duckdb\(\{ globalConfig \}\).*global_config under \[destination\.duckdb\.credentials\]/);
    expect(String((err as Error).message)).toContain("Could not convert string 'many'");

    // as the advice says: fix the setting and run again
    const fixed = duckPipeline(name, {}, duckdb({ path, globalConfig: { threads: 1 } }));
    const info = await fixed.load();
    expect(info.loadPackages).toHaveLength(1);
    expect(await count(fixed, 'users')).toBe(100);
  });
});
