import type { Resource, Source } from './resource.js';
import { normalizeTableName } from '../schema/naming.js';
import type { Schema } from '../schema/schema.js';
import type { RefreshPlan } from '../storage/package-state.js';
import type { PipelineState } from '../state/state.js';

export type RefreshMode = RefreshPlan['mode'];
export const REFRESH_MODES: readonly RefreshMode[] = ['drop_sources', 'drop_resources', 'drop_data'];

/**
 * Plans a refresh like dlt: changes schema and state in memory now (so extract starts
 * fresh) and returns what the destination must drop or truncate. The destination is only
 * touched when the package loads, i.e. after extract and normalize succeeded.
 *
 * - drop_sources: every table of the source's schema and the whole source state.
 * - drop_resources: the tables and state of the resources being extracted.
 * - drop_data: truncate those resources' tables and reset their whole state (cursors and
 *   their own keys); the schema stays.
 * "Those resources" are the selected ones and the parents their transformers read, as dlt's.
 */
export function planRefresh(mode: RefreshMode, source: Source, schema: Schema, state: PipelineState, maxIdentifierLength?: number): RefreshPlan {
  // As dlt's refresh (source.resources.extracted): the selected resources and the parents their
  // transformers read, whose cursors would otherwise hold back what the transformers see.
  const selected = withParents(source.selectedResources);
  const rootsOf = (names: string[]) => {
    const roots = new Set(schema.tablesOfResources(names).map((t) => t.name));
    for (const r of selected) if (names.includes(r.name)) roots.add(normalizeTableName(r.tableName, maxIdentifierLength));
    return [...roots];
  };
  const chainOf = (roots: string[]) => roots.flatMap((r) => schema.tableChain(r).map((t) => t.name));

  if (mode === 'drop_sources') {
    const tables = schema.dataTableNames().filter((n) => n !== '_dlt_pipeline_state');
    schema.dropTables(tables);
    delete state.sources[source.name];
    return { mode, dropTables: tables, truncateTables: [] };
  }
  const names = selected.map((r) => r.name);
  const tables = chainOf(rootsOf(names));
  if (mode === 'drop_resources') {
    schema.dropTables(tables);
    const resources = state.sources[source.name]?.resources;
    if (resources) for (const n of names) delete resources[n];
    return { mode, dropTables: tables, truncateTables: [] };
  }
  // the whole resource state, as dlt's reset_resource_state: cursors and the resource's own keys
  const resources = state.sources[source.name]?.resources;
  if (resources) for (const n of names) delete resources[n];
  return { mode, dropTables: [], truncateTables: tables };
}

/** The resources and, for transformers, the resources they read from (each once). */
function withParents(resources: readonly Resource[]): Resource[] {
  const out: Resource[] = [];
  const add = (r: Resource) => {
    if (out.includes(r)) return;
    out.push(r);
    if (r.pipe.parent) add(r.pipe.parent);
  };
  resources.forEach(add);
  return out;
}
