import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { config, secrets, redact, redactDeep, registerSecret, loadSecretFiles, ConfigValueMissingError, ConfigValueInvalidError, ConfigValueNotSecretError } from '../../src/config/index.js';
import { redactError } from '../../src/config/redact.js';
import { HaulError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

/** A project and a global `.dlt` folder with the given files. */
function dirs(files: { project?: Record<string, string>; global?: Record<string, string> }) {
  const root = tempDir('haul-config-');
  const projectDir = join(root, 'project', '.dlt');
  const globalDir = join(root, 'home', '.dlt');
  mkdirSync(projectDir, { recursive: true });
  mkdirSync(globalDir, { recursive: true });
  for (const [f, text] of Object.entries(files.project ?? {})) writeFileSync(join(projectDir, f), text);
  for (const [f, text] of Object.entries(files.global ?? {})) writeFileSync(join(globalDir, f), text);
  return { projectDir, globalDir };
}

describe('config and secrets resolution', () => {
  it('explicit > env > project secrets.toml > global secrets.toml > project config.toml > global config.toml', () => {
    const path = 'sources.github.page_size';
    const toml = (n: number) => `[sources.github]\npage_size = ${n}\n`;
    const all = { project: { 'secrets.toml': toml(3), 'config.toml': toml(5) }, global: { 'secrets.toml': toml(4), 'config.toml': toml(6) } };
    const num = z.number();
    const d = dirs(all);
    const env = { SOURCES__GITHUB__PAGE_SIZE: '2' };
    expect(config.get(path, num, { ...d, env, explicit: 1 })).toBe(1);
    expect(config.get(path, num, { ...d, env })).toBe(2);
    expect(config.where(path, num, { ...d, env })?.origin).toBe('env SOURCES__GITHUB__PAGE_SIZE');
    expect(config.get(path, num, { ...d, env: {} })).toBe(3);
    expect(config.get(path, num, { ...dirs({ ...all, project: { 'config.toml': toml(5) } }), env: {} })).toBe(4);
    expect(config.get(path, num, { ...dirs({ project: { 'config.toml': toml(5) }, global: { 'config.toml': toml(6) } }), env: {} })).toBe(5);
    expect(config.get(path, num, { ...dirs({ global: { 'config.toml': toml(6) } }), env: {} })).toBe(6);
  });

  it('pipeline-scoped sections first, then dlt section paths with sections dropped from the end', () => {
    const d = dirs({
      project: {
        'secrets.toml': '[gh_pipe.sources.github]\naccess_token = "scoped-token"\n[sources.github]\naccess_token = "plain-token"\n[sources]\napi_key = "sources-level-key"\n',
      },
    });
    expect(secrets.get('sources.github.access_token', undefined, { ...d, env: {}, pipelineName: 'gh_pipe' })).toBe('scoped-token');
    expect(secrets.get('sources.github.access_token', undefined, { ...d, env: {}, pipelineName: 'other' })).toBe('plain-token');
    expect(secrets.get('sources.github.access_token', undefined, { ...d, env: {} })).toBe('plain-token');
    // sources.github.api_key -> sources.api_key
    expect(secrets.get('sources.github.api_key', undefined, { ...d, env: {} })).toBe('sources-level-key');
    // Env names: pipeline-scoped first.
    const env = { GH_PIPE__SOURCES__GITHUB__ACCESS_TOKEN: 'env-scoped', SOURCES__GITHUB__ACCESS_TOKEN: 'env-plain' };
    expect(secrets.get('sources.github.access_token', undefined, { ...d, env, pipelineName: 'gh_pipe' })).toBe('env-scoped');
    expect(secrets.get('sources.github.access_token', undefined, { ...d, env })).toBe('env-plain');
    // as dlt: a pipeline-scoped value in a file beats an unscoped one in the environment
    const plainEnv = { SOURCES__GITHUB__ACCESS_TOKEN: 'env-plain' };
    expect(secrets.get('sources.github.access_token', undefined, { ...d, env: plainEnv, pipelineName: 'gh_pipe' })).toBe('scoped-token');
    expect(secrets.get('sources.github.access_token', undefined, { ...d, env: plainEnv, pipelineName: 'other' })).toBe('env-plain');
  });

  it('a TOML number read as text is its text, as dlt coerces it (an api key written without quotes)', () => {
    const d = dirs({ project: { 'secrets.toml': '[sources.x]\napi_key = 12345678901\n' } });
    expect(secrets.get('sources.x.api_key', undefined, { ...d, env: {} })).toBe('12345678901');
  });

  it('secrets are never read from config.toml (like dlt)', () => {
    const d = dirs({ project: { 'config.toml': '[sources.github]\naccess_token = "in-config"\n' } });
    expect(config.get('sources.github.access_token', undefined, { ...d, env: {} })).toBe('in-config');
    // as dlt's ValueNotSecretException: an error naming where it is and where it goes, without the value
    const read = () => secrets.getOptional('sources.github.access_token', undefined, { ...d, env: {} });
    expect(read).toThrow(ConfigValueNotSecretError);
    expect(read).toThrow(/config\.toml \[sources\.github\] access_token is in config\.toml, which cannot hold secrets.*move it to \.dlt\/secrets\.toml or the environment \(SOURCES__GITHUB__ACCESS_TOKEN\)/);
    expect(read).not.toThrow(/in-config/);
    // found elsewhere first, it is used
    expect(secrets.get('sources.github.access_token', undefined, { ...d, env: { SOURCES__GITHUB__ACCESS_TOKEN: 'from-env' } })).toBe('from-env');
  });

  it('a missing value names every place that was looked at', () => {
    const d = dirs({ project: { 'secrets.toml': '[sources.other]\nx = "y"\n' } });
    let err: unknown;
    try {
      secrets.get('sources.github.access_token', undefined, { ...d, env: {}, pipelineName: 'gh' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigValueMissingError);
    const msg = (err as Error).message;
    expect(msg).toContain('missing secret value sources.github.access_token');
    expect(msg).toContain('explicit argument');
    for (const name of ['GH__SOURCES__GITHUB__ACCESS_TOKEN', 'SOURCES__GITHUB__ACCESS_TOKEN', 'SOURCES__ACCESS_TOKEN', 'ACCESS_TOKEN']) expect(msg).toContain(name);
    expect(msg).toContain(join(d.projectDir, 'secrets.toml'));
    expect(msg).toContain(`${join(d.globalDir, 'secrets.toml')} (not found)`);
    expect(msg).toContain('[gh.sources.github] access_token');
    expect(msg).toContain('[sources.github] access_token');
    expect(msg).toContain('config.toml is not read for secrets');
    expect(config.get('sources.github.page_size', z.number(), { ...d, env: {}, default: 50 })).toBe(50);
    // config values list config.toml too
    expect(() => config.get('sources.github.page_size', z.number(), { ...d, env: {} })).toThrow(/config\.toml \(not found\)/);
  });

  it('typed values: env text is parsed for numbers, booleans and objects; a bad value names its origin', () => {
    const d = dirs({});
    const env = { SOURCES__X__N: '25', SOURCES__X__FLAG: 'true', SOURCES__X__OBJ: '{"a":1}', SOURCES__X__BAD: 'many' };
    expect(config.get('sources.x.n', z.number().int(), { ...d, env })).toBe(25);
    expect(config.get('sources.x.flag', z.boolean(), { ...d, env })).toBe(true);
    expect(config.get('sources.x.obj', z.object({ a: z.number() }), { ...d, env })).toEqual({ a: 1 });
    expect(() => config.get('sources.x.bad', z.number(), { ...d, env })).toThrow(ConfigValueInvalidError);
    expect(() => config.get('sources.x.bad', z.number(), { ...d, env })).toThrow(/sources\.x\.bad from env SOURCES__X__BAD is invalid/);
    // a table or list in env that is not JSON: the error says how to write it
    expect(() => config.get('sources.x.bad', z.record(z.string(), z.number()), { ...d, env })).toThrow(/is written as JSON: \{"name": "value"\}/);
    expect(() => config.get('sources.x.bad', z.array(z.string()), { ...d, env })).toThrow(/is written as JSON/);
    expect(() => config.get('sources.x.bad', z.number(), { ...d, env })).not.toThrow(/is written as JSON/);
  });

  it('credentials objects resolve field by field across providers', () => {
    const d = dirs({ project: { 'config.toml': '[destination.postgres.credentials]\nhost = "db.local"\nusername = "loader"\n' } });
    const creds = z.object({ host: z.string(), username: z.string(), password: z.string(), port: z.number().default(5432) });
    const env = { DESTINATION__POSTGRES__CREDENTIALS__PASSWORD: 'pw-from-env-1234' };
    expect(config.get('destination.postgres.credentials', creds, { ...d, env })).toEqual({ host: 'db.local', username: 'loader', password: 'pw-from-env-1234', port: 5432 });
  });

  it("a credentials field is also found under the object's key with sections dropped, as in dlt (CREDENTIALS__HOST)", () => {
    const d = dirs({});
    const creds = z.object({ host: z.string(), database: z.string(), port: z.number().default(5432) });
    const path = 'destination.postgres.credentials';
    // dlt 1.31 resolves each of these the same way (bench/.venv-dlt, a postgres pipeline 'credp')
    expect(config.get(path, creds, { ...d, env: { CREDENTIALS__HOST: 'h1', CREDENTIALS__DATABASE: 'd1' } })).toEqual({ host: 'h1', database: 'd1', port: 5432 });
    expect(config.get(path, creds, { ...d, env: { DESTINATION__CREDENTIALS__HOST: 'h2', DESTINATION__CREDENTIALS__DATABASE: 'd2' } })).toEqual({ host: 'h2', database: 'd2', port: 5432 });
    // the longer path wins; a pipeline-scoped one wins over both
    expect(config.get(path, creds, { ...d, env: { CREDENTIALS__HOST: 'h1', DESTINATION__POSTGRES__CREDENTIALS__HOST: 'h4', CREDENTIALS__DATABASE: 'd1' } }).host).toBe('h4');
    const scoped = { CREDP__CREDENTIALS__HOST: 'h5', DESTINATION__POSTGRES__CREDENTIALS__HOST: 'h4', CREDENTIALS__DATABASE: 'd1' };
    expect(config.get(path, creds, { ...d, env: scoped, pipelineName: 'credp' }).host).toBe('h5');
    expect(config.where(path, creds, { ...d, env: scoped, pipelineName: 'credp' })?.origin).toBe('env CREDP__CREDENTIALS__HOST, env CREDENTIALS__DATABASE');
    // the object's key is kept: a field directly under the destination's section is not a credentials field (dlt neither)
    expect(() => config.get(path, creds, { ...d, env: { DESTINATION__POSTGRES__HOST: 'h3', DESTINATION__POSTGRES__DATABASE: 'd3' } })).toThrow(ConfigValueMissingError);
  });

  it('a broken TOML file is an error that names the file', () => {
    const d = dirs({ project: { 'secrets.toml': '[sources\nx = 1' } });
    expect(() => secrets.get('sources.x', undefined, { ...d, env: {} })).toThrow(/secrets\.toml is not valid TOML/);
  });
});

describe('redaction', () => {
  it('known secrets, URL passwords and key=value pairs become ***', () => {
    const d = dirs({ project: { 'secrets.toml': '[sources.api]\ntoken = "tok-SECRET-9876"\n' } });
    expect(secrets.get('sources.api.token', undefined, { ...d, env: {} })).toBe('tok-SECRET-9876');
    expect(redact('calling with tok-SECRET-9876 now')).toBe('calling with *** now');
    expect(redact(JSON.stringify({ x: 'a "tok-SECRET-9876"' }))).not.toContain('tok-SECRET-9876');
    expect(redact('postgresql://loader:hunter22@db:5432/x')).toBe('postgresql://***:***@db:5432/x');
    expect(redact('password=abc123 other=1')).toBe('password=*** other=1');
    expect(redact('{"access_token": "abcdef"}')).toBe('{"access_token": "***"}');
    // fields that only say where stay readable (dlt's config fields); the password does not
    const pg = dirs({ project: { 'secrets.toml': '[destination.postgres.credentials]\nhost = "db-host-readable"\ndatabase = "analytics_db"\nusername = "loader_user"\npassword = "pw-SECRET-5555"\n' } });
    loadSecretFiles(pg);
    expect(redact('db-host-readable analytics_db loader_user pw-SECRET-5555')).toBe('db-host-readable analytics_db loader_user ***');
    registerSecret('quote"d\\secret');
    expect(redact(JSON.stringify({ v: 'quote"d\\secret' }))).toBe('{"v":"***"}');
  });

  it('redactDeep hides the values of secret-named keys at any depth, even unknown ones', () => {
    const when = new Date('2024-05-01T00:00:00Z');
    const input = {
      user: 'loader',
      db_password: 'plain-words-nobody-registered',
      credentials: { API_KEY: 'ak-unregistered-1', apiKey: 'ak-unregistered-2', access_token: 'at-unregistered', private_key: 'pk-unregistered' },
      hooks: [{ name: 'slack', secret: 'sk-unregistered' }, 'text with password=inline-one'],
      token: '',
      when,
      rows: 5,
    };
    const out = redactDeep(input);
    expect(out).toEqual({
      user: 'loader',
      db_password: '***',
      credentials: { API_KEY: '***', apiKey: '***', access_token: '***', private_key: '***' },
      hooks: [{ name: 'slack', secret: '***' }, 'text with password=***'],
      token: '',
      when,
      rows: 5,
    });
    expect(out.when).toBeInstanceOf(Date);
    // a copy: the input keeps its values
    expect(input.db_password).toBe('plain-words-nobody-registered');
    expect(input.credentials.API_KEY).toBe('ak-unregistered-1');
  });

  it('redactError takes known secrets out of an error and its causes before it leaves haul', () => {
    registerSecret('s3cr3t-value-42');
    const cause = new Error('driver said: password s3cr3t-value-42 rejected');
    const e = new HaulError('Test', 'request failed for key s3cr3t-value-42', { cause });
    expect(redactError(e)).toBe(e);
    expect(e.message).toBe('request failed for key ***');
    expect(e.stack).not.toContain('s3cr3t-value-42');
    expect(cause.message).toBe('driver said: password *** rejected');
  });
});
