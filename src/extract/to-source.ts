import { InvalidOptionsError, MissingTableNameError } from '../errors.js';
import { Resource, Source, isIterable, isResource, isSource, resource, withCopiedParents, type ResourceOptions } from './resource.js';

/** Anything `run()` / `extract()` accept. */
export type Extractable =
  | Source
  | ((...args: never[]) => Source)
  | Resource
  | Resource[]
  | unknown[]
  | Iterable<unknown>
  | AsyncIterable<unknown>
  | ((...args: never[]) => Iterable<unknown> | AsyncIterable<unknown>);

export interface ToSourceHints extends Omit<ResourceOptions, 'name' | 'incremental' | 'selected' | 'tableName'> {
  /** run()'s table name (a string, as dlt's `table_name`; a resource may name its tables by a function). */
  tableName?: string;
  /** Source/schema name for data that is not a source. */
  sourceName: string;
}

/**
 * Turns what the user passed into a Source. Hints given to run() apply to every selected
 * resource (tableName only when there is exactly one: with more it is an error).
 */
export function toSource(data: Extractable, hints: ToSourceHints): Source {
  const { sourceName, ...h } = hints;
  let src: Source;
  if (isSource(data)) src = data;
  else if (typeof data === 'function' && typeof (data as { sourceName?: unknown }).sourceName === 'string') src = (data as () => Source)();
  else if (isResource(data)) src = new Source(sourceName, { [data.name]: data });
  else if (Array.isArray(data) && data.length > 0 && data.every(isResource)) {
    src = new Source(sourceName, Object.fromEntries((data as Resource[]).map((r) => [r.name, r])));
  } else if (typeof data === 'function') {
    const name = h.tableName ?? data.name;
    if (!name) throw new MissingTableNameError();
    const r = resource(data as () => Iterable<unknown>, { name });
    src = new Source(sourceName, { [r.name]: r });
  } else if (isIterable(data)) {
    if (!h.tableName) throw new MissingTableNameError();
    const r = resource(data, { name: h.tableName });
    src = new Source(sourceName, { [r.name]: r });
  } else if (typeof (data as { then?: unknown } | null)?.then === 'function') {
    // sqlDatabase()/sqlTable() reflect tables first, so they return Promises
    throw new InvalidOptionsError('data', 'run()/extract() got a Promise: await it first, e.g. `p.run(await sqlTable({ ... }))`');
  } else {
    throw new MissingTableNameError();
  }
  const override: Partial<ResourceOptions> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) (override as Record<string, unknown>)[k] = v;
  if (Object.keys(override).length === 0) return src;
  const selected = src.selectedResources;
  if (override.tableName && selected.length !== 1) {
    // dlt would load every resource into that one table: rarely what is meant, so ask instead
    throw new InvalidOptionsError(
      'tableName',
      `"${override.tableName}" names one table, but ${selected.length} resources are selected (${selected.map((r) => r.name).join(', ')}); ` +
        'select one with source.withResources(name), or give each resource its own tableName',
    );
  }
  const resources: Record<string, Resource> = {};
  for (const [n, r] of Object.entries(src.resources)) resources[n] = r.selected ? r.withHints(override) : r;
  return new Source(src.name, withCopiedParents(src.resources, resources), src.schemaName, src.schemaContract, src.maxTableNesting, src.declared);
}
