/**
 * One resource's endpoint with `resourceDefaults` merged in, its parent found and its
 * incremental settings pulled out of `params` / `endpoint.incremental`.
 */
import { InvalidOptionsError } from '../../errors.js';
import type { IncrementalOptions } from '../../extract/incremental.js';
import type { EndpointConfig, RestApiConfig, RestResourceConfig } from './config.js';
import { referencedParents } from './resolve.js';

export interface IncrementalSpec {
  cursorPath: string;
  options: IncrementalOptions;
  /** Query parameter the start value goes in, if any. */
  startParam?: string;
  endParam?: string;
  convert?: (value: unknown) => unknown;
}

export interface ResourceSpec {
  name: string;
  config: RestResourceConfig;
  endpoint: EndpointConfig & { path: string };
  parent?: string;
  incremental?: IncrementalSpec;
}

function asEndpoint(e: RestResourceConfig['endpoint']): EndpointConfig {
  if (e === undefined) return {};
  return typeof e === 'string' ? { path: e } : e;
}

/** The resources of the config with defaults applied, parents checked (exist, no cycles). */
export function resourceSpecs(config: RestApiConfig): Map<string, ResourceSpec> {
  const defaults = config.resourceDefaults ?? {};
  const specs = new Map<string, ResourceSpec>();
  for (const raw of config.resources) {
    const r: RestResourceConfig = typeof raw === 'string' ? { name: raw } : raw;
    if (specs.has(r.name)) throw new InvalidOptionsError('rest_api config', `two resources are named "${r.name}"`);
    const d = asEndpoint(defaults.endpoint);
    const own = asEndpoint(r.endpoint);
    const endpoint = {
      ...d,
      ...own,
      path: own.path ?? (typeof r.endpoint === 'string' ? r.endpoint : r.name),
      params: { ...d.params, ...own.params },
      headers: { ...d.headers, ...own.headers },
    };
    bindPathParams(r.name, endpoint);
    if (isSingleEntityPath(endpoint.path)) {
      // dlt's guess for `users/{id}`: the answer is one object, not a page of a list
      endpoint.dataSelector ??= '$';
      endpoint.paginator ??= 'single_page';
    }
    const { endpoint: _e, ...defaultHints } = defaults;
    void _e;
    const merged: RestResourceConfig = { ...defaultHints, ...r, endpoint };
    const parents = referencedParents([endpoint.path, endpoint.params, endpoint.json, endpoint.headers]);
    for (const v of Object.values(endpoint.params)) if (v && typeof v === 'object' && v.type === 'resolve') parents.push(v.resource);
    const unique = [...new Set(parents)];
    if (unique.length > 1) throw new InvalidOptionsError(`resource "${r.name}"`, `its endpoint refers to several parents (${unique.join(', ')}); a resource may depend on one parent only`);
    specs.set(r.name, { name: r.name, config: merged, endpoint, parent: unique[0], incremental: incrementalOf(r.name, endpoint) });
  }
  for (const s of specs.values()) {
    if (s.parent !== undefined && !specs.has(s.parent)) {
      throw new InvalidOptionsError(`resource "${s.name}"`, `its endpoint refers to resource "${s.parent}", which is not in the config (has: ${[...specs.keys()].join(', ')})`);
    }
    const seen = new Set<string>([s.name]);
    for (let p = s.parent; p !== undefined; p = specs.get(p)!.parent) {
      if (seen.has(p)) throw new InvalidOptionsError(`resource "${s.name}"`, `its parents form a cycle (${[...seen, p].join(' -> ')})`);
      seen.add(p);
    }
    if (s.config.includeFromParent?.length && s.parent === undefined) {
      throw new InvalidOptionsError(`resource "${s.name}"`, 'includeFromParent needs a parent: refer to one with {resources.<parent>.<field>} in the endpoint');
    }
  }
  return specs;
}

/**
 * Binds a path's `{name}` placeholders to `params`, as dlt does: a plain param's value goes
 * into the path, a `{ type: 'resolve', resource, field }` param (dlt's older form of a parent
 * reference) becomes `{resources.<resource>.<field>}`; both leave the query. A `{name}` with
 * no param, or a resolve param the path does not name, is an error, as in dlt (a parent
 * value in the query is written `{resources.<parent>.<field>}` in params).
 */
function bindPathParams(resource: string, endpoint: EndpointConfig & { path: string }): void {
  const params = endpoint.params ?? {};
  endpoint.path = endpoint.path.replace(/\{([^{}.\s]+)\}/g, (_m, name: string) => {
    if (!(name in params)) {
      throw new InvalidOptionsError(`resource "${resource}"`, `its path "${endpoint.path}" needs a param "${name}", which endpoint.params does not have`);
    }
    const v = params[name];
    delete params[name];
    if (v !== null && typeof v === 'object') {
      if (v.type !== 'resolve') throw new InvalidOptionsError(`resource "${resource}"`, `its path binds param "${name}" of type "${v.type}"; a path binds only plain and resolve params`);
      return `{resources.${v.resource}.${v.field}}`;
    }
    return String(v);
  });
  for (const [name, v] of Object.entries(params)) {
    if (v !== null && typeof v === 'object' && v.type === 'resolve') {
      throw new InvalidOptionsError(`resource "${resource}"`, `its resolve param "${name}" is not in the path "${endpoint.path}"; put {${name}} in the path, or send the parent's value in the query as "{resources.${v.resource}.${v.field}}"`);
    }
  }
}

/** A path whose last segment holds a placeholder (`users/{id}`, `issues/{resources.issues.number}`), as dlt's single_entity_path. */
export function isSingleEntityPath(path: string): boolean {
  const last = path.replace(/\/+$/, '').split('/').pop() ?? '';
  return /\{[a-zA-Z0-9.\-_]+\}/.test(last);
}

function incrementalOf(name: string, endpoint: EndpointConfig): IncrementalSpec | undefined {
  const found: IncrementalSpec[] = [];
  for (const [param, v] of Object.entries(endpoint.params ?? {})) {
    if (v && typeof v === 'object' && v.type === 'incremental') {
      const { type: _t, cursorPath, convert, ...options } = v;
      void _t;
      found.push({ cursorPath, options, startParam: param, convert });
    }
  }
  if (endpoint.incremental) {
    const { cursorPath, convert, startParam, endParam, ...options } = endpoint.incremental;
    found.push({ cursorPath, options, startParam, endParam, convert });
  }
  if (found.length > 1) throw new InvalidOptionsError(`resource "${name}"`, 'it has more than one incremental; keep one (in params or in endpoint.incremental)');
  return found[0];
}
