/**
 * DuckDB in a process whose time zone is not UTC. DuckDB's icu starts each instance in the
 * process's TZ; haul works in UTC as dlt does: csv job files carry `+00` timestamps
 * (src/storage/job-formats.ts), and the DuckDB destination and the filesystem destination's
 * SQL side set `TimeZone` to dlt's `session_timezone`, `'UTC'` unless the user names another
 * or `null` (src/destinations/duckdb/user-config.ts). This file sets TZ before any DuckDB
 * instance exists in its process (DuckDB reads it once), and checks that it took.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { duckdb, filesystem, pipeline, type DuckDBOptions } from '../../src/index.js';
import { DestinationConfigError, InvalidOptionsError } from '../../src/errors.js';
import type { ColumnSchema } from '../../src/schema/types.js';
import { convertJobFiles } from '../../src/storage/job-formats.js';
import { failureCause, query, tempDir } from '../helpers.js';

process.env['TZ'] = 'Asia/Tokyo';

const dir = tempDir('haul-test-tz-');

afterEach(() => {
  delete process.env.DESTINATION__DUCKDB__CREDENTIALS__SESSION_TIMEZONE;
});

/** The time zone a DuckDB instance of this process starts in. */
async function duckdbDefaultTimeZone(): Promise<string> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    return String((await c.runAndReadAll("SELECT current_setting('TimeZone')")).getRows()[0]![0]);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

it('runs in a process whose DuckDB starts in Tokyo (else this file proves nothing)', async () => {
  expect(await duckdbDefaultTimeZone()).toBe('Asia/Tokyo');
});

describe('csv job files', () => {
  const columns: ColumnSchema[] = [
    { name: 'id', dataType: 'bigint', nullable: true },
    { name: 'at', dataType: 'timestamp', nullable: true },
    { name: 'local_at', dataType: 'timestamp', timezone: false, nullable: true },
    { name: 'day', dataType: 'date', nullable: true },
  ];

  it('write timestamps in UTC, the same text as under TZ=UTC', async () => {
    const jobs = join(dir, 'jobs');
    mkdirSync(jobs);
    writeFileSync(
      join(jobs, 't.f001.0.jsonl'),
      '{"id":1,"at":"2024-05-06T07:08:09.123Z","local_at":"2024-05-06T07:08:09.123","day":"2024-05-06"}\n' +
        '{"id":2,"at":"2024-12-31T23:30:00Z","local_at":null,"day":null}\n',
    );
    expect(await convertJobFiles(jobs, 'csv', () => columns)).toEqual(['t.f001.0.csv']);
    expect(readFileSync(join(jobs, 't.f001.0.csv'), 'utf8')).toBe(
      'id,at,local_at,day\n' + '1,2024-05-06 07:08:09.123+00,2024-05-06 07:08:09.123,2024-05-06\n' + '2,2024-12-31 23:30:00+00,,\n',
    );
  });
});

describe("the DuckDB destination's session time zone (dlt's session_timezone)", () => {
  const rows = [{ id: 1, at: new Date('2024-12-31T23:30:00Z') }];

  function duckPipeline(name: string, options: DuckDBOptions = {}) {
    return pipeline({ pipelineName: name, pipelinesDir: join(dir, 'pipelines'), destination: duckdb({ path: join(dir, `${name}.duckdb`), ...options }), datasetName: 'tz_data' });
  }

  /** The session's time zone, and the loaded timestamp as DuckDB writes it as text and truncates it to a day. */
  async function seen(p: ReturnType<typeof duckPipeline>) {
    const [r] = await query<{ tz: string; at: string; day: string }>(
      p,
      `SELECT current_setting('TimeZone') AS tz, "at"::VARCHAR AS "at", date_trunc('day', "at")::VARCHAR AS "day" FROM t`,
    );
    return r;
  }

  it('is UTC by default, as in dlt: text and day boundaries in UTC', async () => {
    const p = duckPipeline('tz_default');
    await p.run(rows, { tableName: 't' });
    expect(await seen(p)).toEqual({ tz: 'UTC', at: '2024-12-31 23:30:00+00', day: '2024-12-31 00:00:00+00' });
    // dataset() streams on connections of its own
    expect(await p.dataset().query(`SELECT current_setting('TimeZone') AS tz`)).toEqual([{ tz: 'UTC' }]);
  });

  it('takes another zone from code or config, and null keeps the process\'s', async () => {
    const lima = duckPipeline('tz_lima', { sessionTimezone: 'America/Lima' });
    await lima.run(rows, { tableName: 't' });
    expect(await seen(lima)).toEqual({ tz: 'America/Lima', at: '2024-12-31 18:30:00-05', day: '2024-12-31 00:00:00-05' });

    process.env.DESTINATION__DUCKDB__CREDENTIALS__SESSION_TIMEZONE = 'Europe/Berlin';
    const berlin = duckPipeline('tz_berlin');
    await berlin.run(rows, { tableName: 't' });
    expect(await seen(berlin)).toEqual({ tz: 'Europe/Berlin', at: '2025-01-01 00:30:00+01', day: '2025-01-01 00:00:00+01' });
    // code wins over config
    const own = duckPipeline('tz_own', { sessionTimezone: null });
    await own.run(rows, { tableName: 't' });
    expect(await seen(own)).toEqual({ tz: 'Asia/Tokyo', at: '2025-01-01 08:30:00+09', day: '2025-01-01 00:00:00+09' });
  });

  it('a zone DuckDB does not know fails the load with advice that works, the package kept', async () => {
    const bad = duckPipeline('tz_bad', { sessionTimezone: 'Mars/Olympus_Mons' });
    await bad.extract(rows, { tableName: 't' });
    await bad.normalize();
    const err = await failureCause(bad.load());
    expect(err).toBeInstanceOf(DestinationConfigError);
    expect((err as Error).message).toMatch(/`sessionTimezone` "Mars\/Olympus_Mons".*duckdb\(\{ sessionTimezone \}\).*session_timezone under \[destination\.duckdb\.credentials\]/);
    // as the advice says: fix the zone and load again
    const fixed = duckPipeline('tz_bad', { sessionTimezone: 'UTC' });
    expect((await fixed.load()).loadPackages).toHaveLength(1);
    expect(await seen(fixed)).toEqual({ tz: 'UTC', at: '2024-12-31 23:30:00+00', day: '2024-12-31 00:00:00+00' });
  });

  it('refuses a zone that is not a name when the destination is made', () => {
    expect(() => duckdb({ sessionTimezone: '' })).toThrow(InvalidOptionsError);
    expect(() => duckdb({ sessionTimezone: 9 as unknown as string })).toThrow(/sessionTimezone.*time zone name/);
  });
});

it("the filesystem destination's SQL side reads in UTC too", async () => {
  const p = pipeline({ pipelineName: 'tz_fs', pipelinesDir: join(dir, 'pipelines'), destination: filesystem({ bucketUrl: join(dir, 'bucket') }), datasetName: 'tz_data' });
  await p.run([{ id: 1, at: new Date('2024-12-31T23:30:00Z') }], { tableName: 't' });
  expect(await p.dataset().query(`SELECT current_setting('TimeZone') AS tz, "at"::VARCHAR AS "at" FROM t`)).toEqual([{ tz: 'UTC', at: '2024-12-31 23:30:00+00' }]);
});
