import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { redactError } from '../config/redact.js';
import type { DestinationClient } from '../destinations/types.js';
import { readSchemaFile, writeSchemaFile } from '../schema/io.js';
import { Schema } from '../schema/schema.js';
import type { WorkingDir } from '../storage/working-dir.js';

/** A query handle on the pipeline's dataset. */
export interface SqlClient {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** The schema a source starts with: from `importSchemaPath` when it holds one of that name, else empty. */
export async function initialSchema(name: string, importSchemaPath: string | undefined): Promise<Schema> {
  if (importSchemaPath) {
    for (const ext of ['.schema.yaml', '.schema.yml', '.schema.json', '.yaml', '.yml', '.json']) {
      const p = join(importSchemaPath, name + ext);
      if (existsSync(p)) {
        const s = await readSchemaFile(p);
        s.name = name;
        s.bumpVersion();
        return s;
      }
    }
  }
  return new Schema(name);
}

/** Writes every committed schema as YAML into `exportSchemaPath` (after a load). */
export async function exportSchemas(wd: WorkingDir, exportSchemaPath: string | undefined): Promise<void> {
  if (!exportSchemaPath) return;
  await mkdir(exportSchemaPath, { recursive: true });
  for (const name of wd.schemaNames()) {
    const s = wd.readSchema(name);
    if (s) await writeSchemaFile(join(exportSchemaPath, `${name}.schema.yaml`), s);
  }
}

/** A query handle that opens the client on first use; errors are redacted. */
export function lazySqlClient(client: DestinationClient): SqlClient {
  let opened: Promise<void> | undefined;
  return {
    query: async <T,>(sql: string, params?: unknown[]) => {
      try {
        opened ??= client.open();
        await opened;
        return await client.query<T>(sql, params);
      } catch (e) {
        throw redactError(e);
      }
    },
    close: async () => {
      if (opened) await client.close();
    },
  };
}
