/**
 * `haul init <source> <destination>`: run as the CLI in a fresh folder, then the script it
 * wrote is RUN (tsx, `haul` resolved to this checkout by tsconfig paths) and the rows that
 * land are asserted: filesystem -> DuckDB (twice: the second run reads only the new file),
 * sql_database (a PostgreSQL table the test makes) -> DuckDB, empty -> filesystem.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { dropPgSchemas, PG_URL, pgDatasetName, withPg } from '../postgres-env.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'src', 'cli', 'haul.js');
// Inside the repo (ignored by git), so tsx and the tsconfig paths resolve `haul` to this checkout.
const base = join(ROOT, '.haul-test', `init-${randomBytes(4).toString('hex')}`);
const pgSchema = pgDatasetName('haul_init_src');
afterAll(async () => {
  rmSync(base, { recursive: true, force: true });
  await dropPgSchemas(pgSchema);
});

function project(name: string): string {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../../tsconfig.json', compilerOptions: { noEmit: true }, include: ['*.ts'] }));
  return dir;
}

function env(dir: string): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _loader, ...rest } = process.env;
  void _loader;
  return { ...rest, HAUL_PIPELINES_DIR: join(dir, 'pipelines'), DLT_DATA_DIR: join(dir, 'dlt-home') };
}

function haul(dir: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: env(dir), encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function runScript(dir: string, file: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: dir, env: env(dir), encoding: 'utf8', timeout: 120_000 });
  expect(r.status, `${file} printed:\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

async function duckdbRows(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

describe('haul init', () => {
  it('--list-sources names the sources and destinations; bad arguments are usage errors', () => {
    const dir = project('list');
    const r = haul(dir, ['init', '--list-sources']);
    expect(r.status).toBe(0);
    for (const s of ['empty', 'rest_api', 'sql_database', 'filesystem']) expect(r.stdout).toContain(s);
    expect(r.stdout).toMatch(/Destinations: duckdb, postgres, filesystem/);
    const bad = haul(dir, ['init', 'nosuch', 'duckdb']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown source "nosuch".*--list-sources/);
    expect(haul(dir, ['init', 'empty', 'bigquery']).stderr).toMatch(/unknown destination "bigquery"/);
    expect(readdirSync(dir)).toEqual(['tsconfig.json']);
  });

  it('filesystem duckdb: writes script, config, secrets, .gitignore; the script loads the CSV files, then only new ones', async () => {
    const dir = project('fs');
    const r = haul(dir, ['init', 'filesystem', 'duckdb']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('npx tsx filesystem_pipeline.ts');
    expect(readFileSync(join(dir, '.dlt', 'config.toml'), 'utf8')).toMatch(/\[sources\.filesystem\]\nbucket_url = "data"/);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('.dlt/secrets.toml\n');
    // haul is this checkout (npm's "haul" is another package), tsx a dev dependency
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toMatchObject({ type: 'module', dependencies: { haul: 'file:../../..' }, devDependencies: { tsx: expect.stringMatching(/^\^4\./) } });
    expect(r.stdout).toContain('is another package');

    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'a.csv'), 'id,city\n1,"Berlin, DE"\n2,Paris\n');
    const past = new Date('2024-01-01T00:00:00Z');
    utimesSync(join(dir, 'data', 'a.csv'), past, past);
    expect(runScript(dir, 'filesystem_pipeline.ts')).toMatch(/filesystem_pipeline/);
    writeFileSync(join(dir, 'data', 'b.csv'), 'id,city\n3,Rome\n');
    runScript(dir, 'filesystem_pipeline.ts');
    const db = join(dir, 'filesystem_pipeline.duckdb');
    expect(await duckdbRows(db, 'SELECT id::INT AS id, city FROM filesystem_data.files_data ORDER BY id')).toEqual([
      { id: 1, city: 'Berlin, DE' },
      { id: 2, city: 'Paris' },
      { id: 3, city: 'Rome' },
    ]);
    expect(await duckdbRows(db, 'SELECT count(DISTINCT _dlt_load_id)::INT AS loads FROM filesystem_data.files_data')).toEqual([{ loads: 2 }]);

    // a second init keeps the script unless --force, and never drops what the user put in the toml files
    writeFileSync(join(dir, '.dlt', 'config.toml'), readFileSync(join(dir, '.dlt', 'config.toml'), 'utf8').replace('bucket_url = "data"', 'bucket_url = "mine"'));
    const again = haul(dir, ['init', 'filesystem', 'duckdb']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/filesystem_pipeline\.ts exists .*--force/);
    writeFileSync(join(dir, 'filesystem_pipeline.ts'), '// changed\n');
    expect(haul(dir, ['init', 'filesystem', 'duckdb', '--force']).status).toBe(0);
    expect(readFileSync(join(dir, 'filesystem_pipeline.ts'), 'utf8')).toContain("filesystemSource({ fileGlob: '*.csv' })");
    expect(readFileSync(join(dir, '.dlt', 'config.toml'), 'utf8')).toContain('bucket_url = "mine"');
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('.dlt/secrets.toml\n');
  });

  it('in a project that is not ESM (npm init writes "type": "commonjs") the script is a .mts file that runs; without tsx it says to install it', () => {
    const dir = project('cjs');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'cjs', version: '1.0.0', type: 'commonjs' }));
    const r = haul(dir, ['init', 'empty', 'duckdb']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('npm install -D tsx');
    expect(r.stdout).toContain('npx tsx empty_pipeline.mts');
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toEqual({ name: 'cjs', version: '1.0.0', type: 'commonjs' });
    expect(runScript(dir, 'empty_pipeline.mts')).toMatch(/empty_pipeline/);
  });

  it('sql_database duckdb: with the placeholders filled in, the script copies a PostgreSQL table', async () => {
    await withPg(async (c) => {
      await c.query(`CREATE SCHEMA "${pgSchema}"`);
      await c.query(`CREATE TABLE "${pgSchema}".customers (id integer PRIMARY KEY, name text, balance numeric(10,2), since date)`);
      await c.query(`INSERT INTO "${pgSchema}".customers VALUES (1, 'Ann', 10.50, '2024-01-02'), (2, NULL, NULL, NULL)`);
    });
    const dir = project('sql');
    expect(haul(dir, ['init', 'sql_database', 'duckdb']).status).toBe(0);
    const secrets = readFileSync(join(dir, '.dlt', 'secrets.toml'), 'utf8');
    expect(secrets).toMatch(/\[sources\.sql_database\]\ncredentials = "postgresql:\/\/loader:<password>@localhost:5432\/dlt_data" # please set me up!/);
    writeFileSync(join(dir, '.dlt', 'secrets.toml'), secrets.replace(/credentials = "[^"]*"/, `credentials = "${PG_URL}"`));
    writeFileSync(join(dir, '.dlt', 'config.toml'), readFileSync(join(dir, '.dlt', 'config.toml'), 'utf8').replace('# schema = "public"', `schema = "${pgSchema}"`));
    runScript(dir, 'sql_database_pipeline.ts');
    expect(await duckdbRows(join(dir, 'sql_database_pipeline.duckdb'), 'SELECT id::INT AS id, name, balance::VARCHAR AS balance, since::VARCHAR AS since FROM sql_database_data.customers ORDER BY id')).toEqual([
      { id: 1, name: 'Ann', balance: '10.50', since: '2024-01-02' },
      { id: 2, name: null, balance: null, since: null },
    ]);
  });

  it('every source template typechecks against the package (rest_api is not run: it calls a public API)', () => {
    const dir = project('all');
    for (const [s, d] of [['empty', 'duckdb'], ['rest_api', 'postgres'], ['sql_database', 'filesystem'], ['filesystem', 'postgres']]) expect(haul(dir, ['init', s!, d!]).status).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()).toEqual(['empty_pipeline.ts', 'filesystem_pipeline.ts', 'rest_api_pipeline.ts', 'sql_database_pipeline.ts']);
    // sections merged, none twice
    const secrets = readFileSync(join(dir, '.dlt', 'secrets.toml'), 'utf8');
    for (const section of ['[sources.rest_api]', '[sources.sql_database]', '[destination.postgres]']) expect(secrets.split(section).length, section).toBe(2);
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  it('empty filesystem: the template script loads its rows into the filesystem destination', () => {
    const dir = project('empty');
    expect(haul(dir, ['init', 'empty', 'filesystem']).status).toBe(0);
    expect(readFileSync(join(dir, '.dlt', 'config.toml'), 'utf8')).toContain('[destination.filesystem]\nbucket_url = "lake"');
    runScript(dir, 'empty_pipeline.ts');
    const tableDir = join(dir, 'lake', 'empty_data', 'my_data');
    const rows = readdirSync(tableDir)
      .flatMap((f) => readFileSync(join(tableDir, f), 'utf8').split('\n').filter(Boolean))
      .map((l) => JSON.parse(l) as { id: number; name: string });
    expect(rows.map((r) => [r.id, r.name]).sort()).toEqual([[1, 'Alice'], [2, 'Bob']]);
  });
});
