import { readFile, writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import { Schema } from './schema.js';
import type { StoredSchema } from './types.js';
import { SchemaFileError } from '../errors.js';

/** Reads a schema from `.json`, `.yaml` or `.yml`. */
export async function readSchemaFile(path: string): Promise<Schema> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SchemaFileError(path, `cannot read schema file: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = path.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
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
  const text = path.endsWith('.json') ? JSON.stringify(stored, null, 2) : YAML.stringify(stored);
  await writeFile(path, text);
}

export function schemaToYaml(schema: Schema): string {
  return YAML.stringify(schema.toStored());
}
