/**
 * PostgreSQL credentials as dlt resolves them (env connection string, env fields,
 * pipeline-scoped sections, .dlt/secrets.toml + config.toml), never stored or shown; and
 * the typed errors when the server cannot be reached or refuses us, with the package kept
 * pending for the next run.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { resolvePostgresCredentials } from '../../src/destinations/postgres/index.js';
import { HaulError } from '../../src/errors.js';
import { attach, pipeline, postgres } from '../../src/index.js';
import { tempDir } from '../helpers.js';
import { PG_DATABASE, PG_HOST, PG_PORT, PG_URL, PG_USER, dropPgSchemas, pgDatasetName, withPg } from '../postgres-env.js';

const dir = tempDir('haul-pg-creds-');
const pipelinesDir = join(dir, 'pipelines');
const datasets: string[] = [];
const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});
afterAll(async () => {
  await dropPgSchemas(...datasets);
});

function dataset(prefix: string): string {
  const d = pgDatasetName(prefix);
  datasets.push(d);
  return d;
}

/** Every file under a pipeline's working dir, as text. */
function workingDirText(root: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(root);
  return out.join('\n');
}

async function failure(fn: () => Promise<unknown>): Promise<HaulError> {
  const err = await Promise.resolve().then(fn).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HaulError);
  return err as HaulError;
}

/** A URL of the test server with a password (trust auth ignores it; it must never show up). */
function urlWith(password: string, changes: { port?: number; database?: string; username?: string } = {}): string {
  const u = new URL(PG_URL);
  u.password = password;
  if (changes.port !== undefined) u.port = String(changes.port);
  if (changes.database !== undefined) u.pathname = `/${changes.database}`;
  if (changes.username !== undefined) u.username = changes.username;
  return u.toString();
}

describe('postgres credentials', () => {
  it('resolves from code, env connection string and env fields, pipeline-scoped first', () => {
    const base = { pipelineName: 'creds_unit' };
    expect(resolvePostgresCredentials({ explicit: 'postgresql://u%40x:p%2Fw@db.example:6543/warehouse?sslmode=require&connect_timeout=7' })).toEqual({
      host: 'db.example', port: 6543, database: 'warehouse', username: 'u@x', password: 'p/w', sslmode: 'require', connectTimeout: 7,
    });
    process.env.DESTINATION__POSTGRES__CREDENTIALS = 'postgresql://loader@envhost/envdb';
    process.env.DESTINATION__POSTGRES__CREDENTIALS__PASSWORD = 'field-password-1';
    expect(resolvePostgresCredentials(base)).toMatchObject({ host: 'envhost', port: 5432, database: 'envdb', username: 'loader', password: 'field-password-1', connectTimeout: 15 });
    // as dlt: the connection string found at the credentials key is used whole; a field
    // found on its own (even pipeline-scoped) only fills what it leaves out
    process.env.CREDS_UNIT__DESTINATION__POSTGRES__CREDENTIALS__DATABASE = 'scoped_db';
    process.env.DESTINATION__POSTGRES__CREDENTIALS__DATABASE = 'field_db';
    expect(resolvePostgresCredentials(base).database).toBe('envdb');
    // a pipeline-scoped connection string beats the unscoped one
    process.env.CREDS_UNIT__DESTINATION__POSTGRES__CREDENTIALS = 'postgresql://loader@scopedhost/scopeddb';
    expect(resolvePostgresCredentials(base)).toMatchObject({ host: 'scopedhost', database: 'scopeddb', password: 'field-password-1' });
    expect(resolvePostgresCredentials({ pipelineName: 'other' }).database).toBe('envdb');
    delete process.env.CREDS_UNIT__DESTINATION__POSTGRES__CREDENTIALS;
    // code wins over config, field by field
    expect(resolvePostgresCredentials({ ...base, explicit: { host: 'codehost' } })).toMatchObject({ host: 'codehost', database: 'envdb', password: 'field-password-1' });
    // without a connection string the fields are the credentials, pipeline-scoped first
    delete process.env.DESTINATION__POSTGRES__CREDENTIALS;
    expect(resolvePostgresCredentials({ ...base, explicit: { host: 'codehost', username: 'u' } }).database).toBe('scoped_db');
    delete process.env.CREDS_UNIT__DESTINATION__POSTGRES__CREDENTIALS__DATABASE;
    delete process.env.DESTINATION__POSTGRES__CREDENTIALS__DATABASE;
    const missing = (() => {
      try {
        resolvePostgresCredentials(base);
      } catch (e) {
        return e as HaulError;
      }
    })();
    expect(missing?.code).toBe('ConfigValueMissing');
    expect(missing?.message).toContain('DESTINATION__POSTGRES__CREDENTIALS__HOST');
    // every missing field at once, with the pipeline-scoped names
    expect(missing?.message).toContain('missing: host, database, username');
    expect(missing?.message).toContain('CREDS_UNIT__DESTINATION__POSTGRES__CREDENTIALS__USERNAME');
    expect(missing?.message).not.toContain('field-password-1');
    // a malformed connection string is refused without repeating it
    const bad = (() => {
      try {
        resolvePostgresCredentials({ explicit: 'mysql://root:hunter2-secret@h/db' });
      } catch (e) {
        return e as HaulError;
      }
    })();
    expect(bad?.code).toBe('InvalidOptions');
    expect(bad?.message).not.toContain('hunter2-secret');
  });

  it('env connection string: loads, and the password is in no state, schema, trace, load info or error', async () => {
    const PASSWORD = 'pg-env-Secret-71';
    process.env.DESTINATION__POSTGRES__CREDENTIALS = urlWith(PASSWORD);
    const ds = dataset('hc_env');
    const p = pipeline({ pipelineName: 'hc_env', pipelinesDir, destination: 'postgres', datasetName: ds });
    const info = await p.run([{ id: 1, name: 'a' }], { tableName: 'users' });
    expect(info.toString()).toContain(`${PG_HOST}:${PG_PORT}/${PG_DATABASE}`);
    expect(info.toString()).not.toContain(PASSWORD);
    expect(p.destination.options).toEqual({});
    const rows = await withPg((c) => c.query(`SELECT id, name FROM "${ds}".users`));
    expect(rows.rows).toEqual([{ id: '1', name: 'a' }]);

    // a failing run with the same password in the connection string
    process.env.DESTINATION__POSTGRES__CREDENTIALS = urlWith(PASSWORD, { port: 1 });
    const err = await failure(() => p.run([{ id: 2 }], { tableName: 'users' }));
    expect(err.message).toContain(`${PG_HOST}:1/${PG_DATABASE}`);
    expect(err.retryable).toBe(true);
    expect(err.message).not.toContain(PASSWORD);

    const stored = workingDirText(p.workingDir);
    expect(stored).toContain('"destination_name": "postgres"');
    expect(stored).not.toContain(PASSWORD);
    expect(stored).not.toContain('postgresql://');
    expect(existsSync(join(p.workingDir, 'trace.json'))).toBe(true);
  });

  it('fields under CREDENTIALS__ (sections dropped, as dlt finds them) load into the server they name', async () => {
    process.env.CREDENTIALS__HOST = PG_HOST;
    process.env.CREDENTIALS__PORT = String(PG_PORT);
    process.env.CREDENTIALS__DATABASE = PG_DATABASE;
    process.env.CREDENTIALS__USERNAME = PG_USER;
    process.env.DESTINATION__CREDENTIALS__PASSWORD = 'short-names-Secret-5';
    const ds = dataset('hc_short');
    const p = pipeline({ pipelineName: 'hc_short', pipelinesDir, destination: 'postgres', datasetName: ds });
    const info = await p.run([{ id: 1, name: 'a' }], { tableName: 'users' });
    expect(info.toString()).toContain(`${PG_HOST}:${PG_PORT}/${PG_DATABASE}`);
    const rows = await withPg((c) => c.query(`SELECT id, name FROM "${ds}".users`));
    expect(rows.rows).toEqual([{ id: '1', name: 'a' }]);
    expect(workingDirText(p.workingDir)).not.toContain('short-names-Secret-5');
  });

  it('credentials given in code stay in the process: state.json keeps only createIndexes', async () => {
    const PASSWORD = 'code-Secret-pw-9';
    const ds = dataset('hc_code');
    const p = pipeline({ pipelineName: 'hc_code', pipelinesDir, destination: postgres({ credentials: urlWith(PASSWORD), createIndexes: false }), datasetName: ds });
    await p.run([{ id: 1 }], { tableName: 'events' });
    expect(p.destination.options).toEqual({ createIndexes: false });
    expect(JSON.parse(readFileSync(join(p.workingDir, 'state.json'), 'utf8'))._local.destination_options).toEqual({ createIndexes: false });
    expect(workingDirText(p.workingDir)).not.toContain(PASSWORD);
    // rebuilt from the stored options, the destination must find credentials in config again
    const err = await failure(() => attach({ pipelineName: 'hc_code', pipelinesDir }).run([{ id: 2 }], { tableName: 'events' }));
    expect(err.message).toContain('DESTINATION__POSTGRES__CREDENTIALS');
    const unique = await withPg((c) => c.query("SELECT count(*)::int AS n FROM information_schema.table_constraints WHERE table_schema = $1 AND constraint_type = 'UNIQUE'", [ds]));
    expect(unique.rows).toEqual([{ n: 0 }]);
  });

  it('.dlt/secrets.toml holds the password, .dlt/config.toml the rest; the stored state names only the destination', async () => {
    const PASSWORD = 'toml-Secret-pw-3';
    const project = join(dir, 'project');
    mkdirSync(join(project, '.dlt'), { recursive: true });
    writeFileSync(join(project, '.dlt', 'secrets.toml'), `[destination.postgres.credentials]\npassword = "${PASSWORD}"\n`);
    writeFileSync(
      join(project, '.dlt', 'config.toml'),
      `[destination.postgres.credentials]\nhost = "${PG_HOST}"\nport = ${PG_PORT}\ndatabase = "${PG_DATABASE}"\nusername = "${PG_USER}"\n`,
    );
    process.env.DLT_PROJECT_DIR = project;
    expect(resolvePostgresCredentials({ pipelineName: 'hc_toml' })).toMatchObject({ host: PG_HOST, database: PG_DATABASE, username: PG_USER, password: PASSWORD });

    const ds = dataset('hc_toml');
    const p = pipeline({ pipelineName: 'hc_toml', pipelinesDir, destination: postgres(), datasetName: ds });
    await p.run([{ id: 1 }], { tableName: 'events' });
    const again = attach({ pipelineName: 'hc_toml', pipelinesDir });
    expect(again.destination.destinationName).toBe('postgres');
    await again.run([{ id: 2 }], { tableName: 'events' });
    const n = await withPg((c) => c.query(`SELECT count(*)::int AS n FROM "${ds}".events`));
    expect(n.rows).toEqual([{ n: 2 }]);
    const state = readFileSync(join(p.workingDir, 'state.json'), 'utf8');
    expect(JSON.parse(state)._local.destination_options).toEqual({});
    expect(workingDirText(p.workingDir)).not.toContain(PASSWORD);
  });

  it('an unreachable server fails the load retryably and the package stays for the next run', async () => {
    const ds = dataset('hc_down');
    process.env.DESTINATION__POSTGRES__CREDENTIALS = urlWith('x', { port: 1 });
    const p = pipeline({ pipelineName: 'hc_down', pipelinesDir, destination: 'postgres', datasetName: ds });
    await p.extract([{ id: 1 }, { id: 2 }], { tableName: 'events' });
    await p.normalize();
    const err = await failure(() => p.load());
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/cannot open destination postgres at 127\.0\.0\.1:1\/|ECONNREFUSED/);
    expect(p.hasPendingData).toBe(true);

    process.env.DESTINATION__POSTGRES__CREDENTIALS = PG_URL;
    const info = await p.run();
    expect(info.loadPackages).toHaveLength(1);
    expect(p.hasPendingData).toBe(false);
    const n = await withPg((c) => c.query(`SELECT count(*)::int AS n FROM "${ds}".events`));
    expect(n.rows).toEqual([{ n: 2 }]);
  });

  it('a missing database, an unknown user and a missing privilege fail non-retryably, naming the place', async () => {
    const ds = dataset('hc_refused');
    const run = (url: string) => {
      process.env.DESTINATION__POSTGRES__CREDENTIALS = url;
      const p = pipeline({ pipelineName: 'hc_refused', pipelinesDir, destination: 'postgres', datasetName: ds });
      return failure(() => p.run([{ id: 1 }], { tableName: 'events' }));
    };
    const noDb = await run(urlWith('pw-Never-Shown', { database: 'haul_no_such_db' }));
    expect(noDb.retryable).toBe(false);
    expect(noDb.message).toContain(`${PG_HOST}:${PG_PORT}/haul_no_such_db`);
    expect(noDb.message).toMatch(/does not exist/);
    expect((noDb.cause as HaulError).code).toBe('DestinationConfig');

    const noUser = await run(urlWith('pw-Never-Shown', { username: 'haul_no_such_role' }));
    expect(noUser.retryable).toBe(false);
    expect((noUser.cause as HaulError).code).toBe('DestinationAuth');
    expect(noUser.message).toContain('haul_no_such_role');

    // a role that may log in but not create schemas in the database
    const role = `haul_noprivs_${process.pid}`;
    await withPg((c) => c.query(`CREATE ROLE ${role} LOGIN`));
    try {
      const denied = await run(urlWith('pw-Never-Shown', { username: role }));
      expect(denied.retryable).toBe(false);
      expect((denied.cause as HaulError).code).toBe('DestinationAuth');
      expect(denied.message).toMatch(/permission denied/);
      expect(denied.message).toContain(`${PG_HOST}:${PG_PORT}/${PG_DATABASE}`);
      for (const e of [noDb, noUser, denied]) expect(e.message).not.toContain('pw-Never-Shown');
    } finally {
      await withPg((c) => c.query(`DROP ROLE IF EXISTS ${role}`));
    }
  });
});
