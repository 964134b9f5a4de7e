import { afterEach, describe, expect, it } from 'vitest';
import { redact } from '../../src/config/index.js';
import { duckdb } from '../../src/destinations/duckdb/index.js';
import { withConfiguredUserConfig } from '../../src/destinations/duckdb/user-config.js';
import { resolveDestination } from '../../src/destinations/registry.js';
import { InvalidOptionsError } from '../../src/errors.js';

describe('duckdb({ globalConfig, localConfig, pragmas, extensions })', () => {
  it('keeps them in the stored options, and the destination rebuilt from those has them too', () => {
    const options = { globalConfig: { threads: 2, preserve_insertion_order: false }, localConfig: { TimeZone: 'UTC' }, pragmas: ['disable_progress_bar'], extensions: ['icu'] };
    const stored = duckdb({ path: '/data/x.duckdb', ...options }).options;
    expect(stored).toEqual({ path: '/data/x.duckdb', ...options });
    // what state.json and a workflow input carry
    expect(resolveDestination('duckdb', JSON.parse(JSON.stringify(stored)) as Record<string, unknown>).options).toEqual(stored);
  });

  it('refuses what it cannot apply, saying what to do', () => {
    const refused = (options: Parameters<typeof duckdb>[0], message: RegExp) => {
      expect(() => duckdb(options)).toThrow(InvalidOptionsError);
      expect(() => duckdb(options)).toThrow(message);
    };
    refused({ globalConfig: { 'threads; DROP TABLE x': 1 } }, /"threads; DROP TABLE x" is not a DuckDB setting name/);
    refused({ globalConfig: { memory_limit: '1GB' } }, /haul sets DuckDB's memory_limit itself; use duckdb\(\{ memoryLimit: '1GB' \}\)/);
    refused({ localConfig: { Max_Memory: '1GB' } }, /use duckdb\(\{ memoryLimit/);
    refused({ globalConfig: { threads: [1] as unknown as number } }, /`globalConfig.threads` must be a string, number or boolean/);
    refused({ localConfig: ['TimeZone'] as unknown as Record<string, string> }, /`localConfig` must be an object of DuckDB settings/);
    refused({ pragmas: ["enable_profiling = 'json'"] }, /is not a pragma name \(a pragma that takes a value is a setting: put it in localConfig\)/);
    refused({ extensions: ['../evil'] }, /"..\/evil" is not an extension name/);
    refused({ pragmas: 'disable_progress_bar' as unknown as string[] }, /`pragmas` must be a list of names/);
  });

  it('refuses a secret-looking setting in code, which would be stored, and says where it belongs', () => {
    expect(() => duckdb({ globalConfig: { s3_secret_access_key: 'abc123secret' } })).toThrow(
      /`globalConfig.s3_secret_access_key` looks like a secret.*\.dlt\/secrets\.toml under \[destination\.duckdb\.credentials\.global_config\].*DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG/,
    );
  });

  describe('from config', () => {
    const ENV = 'DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG';
    afterEach(() => {
      delete process.env[ENV];
    });

    it('takes a secret-looking setting from config and redacts its value from then on', () => {
      const value = 'sk-duck-7f3a9c1e5b';
      process.env[ENV] = JSON.stringify({ s3_secret_access_key: value, threads: 2 });
      const merged = withConfiguredUserConfig({ globalConfig: { threads: 1 } }, 'p');
      expect(merged.globalConfig).toEqual({ s3_secret_access_key: value, threads: 1 });
      expect(redact(`Could not convert string '${value}' to INT64`)).not.toContain(value);
    });
  });
});
