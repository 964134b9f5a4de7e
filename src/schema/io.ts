import { readFile, writeFile } from 'node:fs/promises';
import type YAMLModule from 'yaml';
import { Schema } from './schema.js';
import type { StoredSchema } from './types.js';
import { SchemaFileError } from '../errors.js';

/** The yaml library loads when a schema file is read or written, not with haul. */
async function yaml(): Promise<typeof YAMLModule> {
  return (await import('yaml')).default;
}

/** Reads a schema from `.json`, `.yaml` or `.yml`. */
export async function readSchemaFile(path: string): Promise<Schema> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SchemaFileError(path, `cannot read schema file: ${(e as Error).message}`);
  }
  let doc: unknown;
  const YAML = path.endsWith('.json') ? undefined : await yaml();
  try {
    doc = YAML ? YAML.parse(text) : JSON.parse(text);
  } catch (e) {
    throw new SchemaFileError(path, `schema file is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || typeof (doc as StoredSchema).name !== 'string' || typeof (doc as StoredSchema).tables !== 'object') {
    throw new SchemaFileError(path, 'schema file must have a `name` and `tables`');
  }
  const s = doc as StoredSchema;
  return Schema.fromStored({
    ...s,
    version: s.version ?? 1,
    versionHash: s.versionHash ?? '',
    previousHashes: s.previousHashes ?? [],
    engineVersion: s.engineVersion ?? 1,
    settings: { ...s.settings, detectIsoTimestamps: s.settings?.detectIsoTimestamps ?? true },
  });
}

export async function writeSchemaFile(path: string, schema: Schema): Promise<void> {
  const stored = schema.toStored();
  const text = path.endsWith('.json') ? JSON.stringify(stored, null, 2) : (await yaml()).stringify(stored);
  await writeFile(path, text);
}

export async function schemaToYaml(schema: Schema): Promise<string> {
  return (await yaml()).stringify(schema.toStored());
}
