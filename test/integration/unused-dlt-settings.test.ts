/**
 * dlt settings haul does not use are not dropped silently: a pipeline says once which are
 * set and what to do instead, whether they come from the environment or .dlt/config.toml.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, testPipeline } from '../helpers.js';

const warnings: string[] = [];
const onWarning = (w: Error & { code?: string }) => {
  if (w.code === 'HAUL_UNUSED_DLT_SETTING') warnings.push(w.message);
};

afterEach(() => {
  delete process.env.NORMALIZE__WORKERS;
  process.off('warning', onWarning);
});

describe('dlt settings haul does not use', () => {
  it('are named once each, with what to do instead; a run still loads', async () => {
    const dir = tempDir();
    const cwd = process.cwd();
    mkdirSync(join(dir, '.dlt'));
    writeFileSync(join(dir, '.dlt', 'config.toml'), '[schema]\nnaming = "direct"\n');
    process.env.NORMALIZE__WORKERS = '3';
    process.on('warning', onWarning);
    process.chdir(dir);
    try {
      const p = testPipeline(dir, 'unused_settings');
      testPipeline(dir, 'unused_settings_again');
      await p.run([{ CamelCase: 1 }], { tableName: 'T' });
      await new Promise((r) => setImmediate(r));
      expect(warnings).toEqual([
        `dlt's setting schema.naming (env SCHEMA__NAMING) is set, but haul does not use it: haul names tables and columns with dlt's default snake_case only`,
        "dlt's setting normalize.workers (env NORMALIZE__WORKERS) is set, but haul does not use it: pass { workers } to normalize() in code",
      ]);
      expect(p.defaultSchema?.tables.t?.columns.camel_case).toBeDefined();
    } finally {
      process.chdir(cwd);
    }
  });
});
