import { createHash } from 'node:crypto';
import {
  SCHEMA_ENGINE_VERSION,
  type ColumnSchema,
  type SchemaSettings,
  type StoredSchema,
  type TableSchema,
  type WriteDisposition,
} from './types.js';
import { isSystemTable } from './system.js';

const DEFAULT_SETTINGS: SchemaSettings = { detectIsoTimestamps: true };

/**
 * A mutable schema: tables, columns and hints. Normalize evolves it; load migrates the
 * destination to it. `version` bumps whenever the content hash changes.
 */
export class Schema {
  name: string;
  version = 0;
  versionHash = '';
  previousHashes: string[] = [];
  settings: SchemaSettings;
  tables: Record<string, TableSchema> = {};

  constructor(name: string, settings: Partial<SchemaSettings> = {}) {
    this.name = name;
    this.settings = { ...DEFAULT_SETTINGS, ...settings };
    this.bumpVersion();
  }

  static fromStored(s: StoredSchema): Schema {
    const schema = new Schema(s.name, s.settings);
    schema.tables = structuredClone(s.tables);
    schema.version = s.version;
    schema.versionHash = s.versionHash;
    schema.previousHashes = [...s.previousHashes];
    return schema;
  }

  toStored(): StoredSchema {
    return {
      name: this.name,
      version: this.version,
      versionHash: this.versionHash,
      previousHashes: [...this.previousHashes],
      engineVersion: SCHEMA_ENGINE_VERSION,
      settings: { ...this.settings },
      tables: structuredClone(this.tables),
    };
  }

  clone(): Schema {
    return Schema.fromStored(this.toStored());
  }

  /** Content hash over settings and tables (not the version counters). */
  contentHash(): string {
    const h = createHash('sha256');
    h.update(stableStringify({ settings: this.settings, tables: this.tables }));
    return h.digest('base64url').slice(0, 44);
  }

  /** Recomputes the hash; if content changed, bumps the version. Returns true on change. */
  bumpVersion(): boolean {
    const hash = this.contentHash();
    if (hash === this.versionHash) return false;
    if (this.versionHash) this.previousHashes = [this.versionHash, ...this.previousHashes].slice(0, 10);
    this.versionHash = hash;
    this.version += 1;
    return true;
  }

  getTable(name: string): TableSchema | undefined {
    return this.tables[name];
  }

  /** Creates the table if missing; returns it. */
  ensureTable(name: string, init: Omit<Partial<TableSchema>, 'name' | 'columns'> = {}): TableSchema {
    let t = this.tables[name];
    if (!t) {
      t = { name, columns: {}, ...init };
      this.tables[name] = t;
    }
    return t;
  }

  addColumn(table: string, col: ColumnSchema): void {
    const t = this.tables[table];
    if (!t) throw new Error(`table ${table} not in schema ${this.name}`);
    t.columns[col.name] = col;
  }

  /** Tables holding user data (not `_dlt_*` system tables). */
  dataTableNames(): string[] {
    return Object.keys(this.tables).filter((n) => !isSystemTable(n));
  }

  rootOf(table: string): TableSchema {
    let t = this.tables[table];
    if (!t) throw new Error(`table ${table} not in schema ${this.name}`);
    while (t.parent) {
      const p = this.tables[t.parent];
      if (!p) break;
      t = p;
    }
    return t;
  }

  /** The write disposition that governs a table (child tables follow their root). */
  writeDispositionOf(table: string): WriteDisposition {
    return this.rootOf(table).writeDisposition ?? 'append';
  }

  /** The table and all its descendants, parents before children. */
  tableChain(root: string): TableSchema[] {
    const out: TableSchema[] = [];
    const visit = (name: string) => {
      const t = this.tables[name];
      if (!t) return;
      out.push(t);
      for (const child of Object.values(this.tables)) if (child.parent === name) visit(child.name);
    };
    visit(root);
    return out;
  }

  /** Root tables that belong to the given resources. */
  tablesOfResources(resources: string[]): TableSchema[] {
    const set = new Set(resources);
    return Object.values(this.tables).filter((t) => !t.parent && t.resource && set.has(t.resource));
  }

  dropTables(names: string[]): void {
    for (const n of names) delete this.tables[n];
  }
}

/** JSON with sorted keys, so equal content always hashes equally. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`).join(',')}}`;
}
