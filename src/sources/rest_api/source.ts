/**
 * `restApiSource(config)`: dlt's declarative REST API source. Each configured resource
 * becomes a haul resource that pages through its endpoint; a resource whose endpoint refers
 * to `{resources.<parent>.<field>}` makes one request (with its pages) per parent item.
 * The source only produces resources: packages, destinations and Temporal are not its
 * business.
 */
import { z } from 'zod';
import { config as configValues, registerSecret } from '../../config/index.js';
import { InvalidOptionsError } from '../../errors.js';
import { sourceStateAtStart } from '../../extract/context.js';
import { Incremental } from '../../extract/incremental.js';
import { resource, Source, type Resource } from '../../extract/resource.js';
import type { ResourceState } from '../../state/state.js';
import { buildAuth } from './credentials.js';
import { RestClient, type RetryOptions } from './client.js';
import { parseRestApiConfig, type PaginatorConfig, type RestApiConfig } from './config.js';
import { resourceSpecs, type ResourceSpec } from './endpoints.js';
import { makePaginator } from './paginators/factory.js';
import { applySteps } from './processing.js';
import { fill, fillDeep, parentFields, type PlaceholderValues } from './resolve.js';
import { readField } from './jsonpath.js';
import type { RequestSpec } from './types.js';

const SECRET_HEADER = /auth|token|key|secret|cookie|session|password/i;

/** The incremental values a request is built with. */
interface RunIncremental {
  startValue: unknown;
  endValue: unknown;
}

/** Builds the source; the config is checked and secrets are resolved now, requests are made when it runs. */
export function restApiSource(config: RestApiConfig): Source {
  const cfg = parseRestApiConfig(config);
  const sourceName = cfg.name ?? 'rest_api';
  const { baseUrl, headers, auth, paginator: clientPaginator, ...retry } = cfg.client;
  const client = new RestClient({ baseUrl, headers, auth: buildAuth(auth, sourceName), ...runtimeRetry(), ...retry });
  const specs = resourceSpecs(cfg);
  // Credentials put straight into headers (`Authorization`, `X-Api-Key`, ...) are secrets too.
  for (const h of [headers, ...[...specs.values()].map((s) => s.endpoint.headers)]) {
    for (const [k, v] of Object.entries(h ?? {})) if (SECRET_HEADER.test(k)) registerSecret(v.replace(/^(Bearer|Basic|Token)\s+/i, ''));
  }

  // Parents are requested again for their children (haul extracts one resource at a time).
  // A child must see the parent items of this run, so parent cursors are read from the
  // state as this load's extract began, before the parent committed (also after a resume).
  const stateAtRunStart = (): Record<string, ResourceState> => structuredClone((sourceStateAtStart().resources ?? {}) as Record<string, ResourceState>);

  function request(spec: ResourceSpec, values: PlaceholderValues, inc: RunIncremental | undefined): RequestSpec {
    const e = spec.endpoint;
    const params: Record<string, string> = {};
    const convert = spec.incremental?.convert ?? ((v: unknown) => v);
    for (const [k, v] of Object.entries(e.params ?? {})) {
      if (v === null || v === undefined) continue;
      if (typeof v === 'object') {
        if (v.type === 'resolve') params[k] = String(readParentField(spec, values, v.field));
        else if (inc?.startValue !== undefined && inc.startValue !== null) params[k] = String(convert(inc.startValue));
        continue;
      }
      params[k] = fill(String(v), values);
    }
    const ei = spec.incremental;
    if (ei && inc) {
      if (ei.startParam && !(ei.startParam in (e.params ?? {})) && inc.startValue != null) params[ei.startParam] = String(convert(inc.startValue));
      if (ei.endParam && inc.endValue != null) params[ei.endParam] = String(convert(inc.endValue));
    }
    const hdrs = Object.fromEntries(Object.entries(e.headers ?? {}).map(([k, v]) => [k, fill(v, values)]));
    return client.request(fill(e.path, values), { method: e.method ?? 'GET', params, headers: hdrs, json: e.json === undefined ? undefined : fillDeep(e.json, values) });
  }

  /**
   * Pages of a resource's items (processing steps applied); `inc` is the cursor of this run.
   * A top-level resource offers a checkpoint after each page whose paginator can say where
   * the next one is (`{ page: position }`), and starts at that page when resumed. A child of
   * a top-level parent with a configured paginator offers `{ parent, item, page? }`: the
   * position of the parent's page, the index of the parent item in it, and its own position
   * under that item (see childToken).
   */
  async function* pagesOf(spec: ResourceSpec, inc: RunIncremental | undefined, states: Record<string, ResourceState>, resumable?: Resumable): AsyncGenerator<unknown[]> {
    const convert = spec.incremental?.convert ?? ((v: unknown) => v);
    const incValues = inc && { start_value: inc.startValue == null ? inc.startValue : convert(inc.startValue), end_value: inc.endValue == null ? inc.endValue : convert(inc.endValue) };
    const paginatorConfig: PaginatorConfig | undefined = spec.endpoint.paginator ?? clientPaginator;
    const fetchAll = async function* (values: PlaceholderValues, extra?: Record<string, unknown>, at?: Resumable): AsyncGenerator<unknown[]> {
      const resumeFrom = pageToken(at?.resumeFrom);
      const paginator = makePaginator(paginatorConfig);
      // A position only the paginator that made it understands; a detected one cannot take it.
      if (resumeFrom !== undefined && !paginator) throw new InvalidOptionsError(`resource "${spec.name}"`, 'has a checkpoint but no configured paginator to resume it with (did the config change between attempts?); run the pipeline again to start a new load');
      // Where the page being yielded was requested from (null: the first page).
      let pos: unknown = resumeFrom ?? null;
      for await (const page of client.paginate(spec.name, request(spec, values, inc), {
        paginator,
        dataSelector: spec.endpoint.dataSelector,
        responseActions: spec.endpoint.responseActions,
        resumeFrom,
      })) {
        const items = extra ? page.items.map((it) => (it !== null && typeof it === 'object' && !Array.isArray(it) ? { ...it, ...extra } : it)) : page.items;
        if (at?.track) at.track.at = pos;
        yield applySteps(items, spec.config.processingSteps);
        pos = page.next ?? null;
        // Back here, the engine has written the page: the items so far end at `next`.
        // Only a configured paginator can be put back at a position (a detected one is made from an answer).
        if (paginator && page.next !== null && page.next !== undefined) at?.checkpoint?.({ page: page.next });
      }
    };
    if (spec.parent === undefined) {
      yield* fetchAll({ resource: spec.name, incremental: incValues }, undefined, resumable);
      return;
    }
    const parent = specs.get(spec.parent)!;
    const parentInc = parentIncremental(parent, states);
    const include = spec.config.includeFromParent ?? [];
    // The parent's pages can be asked for again only with a configured paginator, and only a
    // top-level parent's position is one position.
    const canResume = parent.parent === undefined && (parent.endpoint.paginator ?? clientPaginator) !== undefined;
    const start = childToken(resumable?.resumeFrom);
    if (start && !canResume) throw new InvalidOptionsError(`resource "${spec.name}"`, `has a checkpoint inside its parent "${parent.name}", whose pages cannot be requested again (did the config change between attempts?); run the pipeline again to start a new load`);
    const parentAt: Resumable = { resumeFrom: start?.parent == null ? undefined : { page: start.parent }, track: { at: null } };
    const offer = (token: ChildToken) => (canResume ? resumable?.checkpoint?.(token) : undefined);
    let skip = start?.item ?? 0;
    let childFrom = start?.page;
    for await (const parentItems of pagesOf(parent, parentInc && { startValue: parentInc.startValue, endValue: parentInc.endValue }, states, canResume ? parentAt : undefined)) {
      const parentPage = parentAt.track!.at;
      for (let i = skip; i < parentItems.length; i++) {
        const item = parentItems[i];
        if (parentInc && !parentInc.accept(item)) continue;
        const values: PlaceholderValues = { resource: spec.name, parent: { name: parent.name, item }, incremental: incValues };
        const at: Resumable = {
          resumeFrom: i === skip && childFrom !== undefined ? { page: childFrom } : undefined,
          checkpoint: (t) => offer({ parent: parentPage, item: i, page: pageToken(t) }),
        };
        yield* fetchAll(values, include.length ? parentFields(parent.name, item, include, spec.name) : undefined, at);
        offer({ parent: parentPage, item: i + 1 });
      }
      skip = 0;
      childFrom = undefined;
    }
  }

  const resources: Record<string, Resource> = {};
  for (const spec of specs.values()) {
    const c = spec.config;
    const inc = spec.incremental && new Incremental(spec.incremental.cursorPath, spec.incremental.options);
    resources[spec.name] = resource(
      async function* restResource(ctx) {
        const states = stateAtRunStart();
        const run = ctx.incremental ? { startValue: ctx.incremental.startValue, endValue: ctx.incremental.endValue } : undefined;
        yield* pagesOf(spec, run, states, { resumeFrom: ctx.resumeFrom, checkpoint: ctx.checkpoint });
      },
      {
        name: spec.name,
        tableName: c.tableName,
        writeDisposition: c.writeDisposition,
        primaryKey: c.primaryKey,
        mergeKey: c.mergeKey,
        columns: c.columns,
        maxTableNesting: c.maxTableNesting,
        selected: c.selected,
        parallelized: c.parallelized,
        incremental: inc,
      },
    );
  }
  return new Source(sourceName, resources, sourceName, undefined, undefined, true);

  /** A parent's cursor as it was at the start of this run, to give its children the same parent items. */
  function parentIncremental(parent: ResourceSpec, states: Record<string, ResourceState>): Incremental | undefined {
    if (!parent.incremental) return undefined;
    const inc = new Incremental(parent.incremental.cursorPath, parent.incremental.options);
    inc.bind(parent.name, structuredClone(states[parent.name] ?? {}), parent.config.primaryKey);
    return inc;
  }
}

/** Where a resource resumes (the engine's `ctx.resumeFrom`) and how it offers checkpoints. */
interface Resumable {
  resumeFrom?: unknown;
  checkpoint?: (token: unknown) => void;
  /** Set to the position each page yielded was requested from (a child's parent records it). */
  track?: { at: unknown };
}

/**
 * A child's resume token: the position its parent's page was requested from (null: the
 * first page), the index of the parent item in that page (after the parent's processing
 * steps; the API must answer that page the same), and the child's own paginator position
 * under that item, if it stopped inside it.
 */
interface ChildToken {
  parent: unknown;
  item: number;
  page?: unknown;
}

function childToken(token: unknown): ChildToken | undefined {
  const t = token as Partial<ChildToken> | null;
  return t !== null && typeof t === 'object' && 'parent' in t && typeof t.item === 'number' ? (t as ChildToken) : undefined;
}

/** The paginator position inside a resume token this source made (`{ page }`). */
function pageToken(token: unknown): unknown {
  return token !== null && typeof token === 'object' && 'page' in token ? (token as { page: unknown }).page : undefined;
}

/** dlt's `runtime.request_*` settings (env `RUNTIME__REQUEST_TIMEOUT`, config.toml `[runtime]`); client options win. */
function runtimeRetry(): RetryOptions {
  const num = (key: string) => configValues.getOptional(`runtime.${key}`, z.coerce.number().nonnegative());
  const out: RetryOptions = {};
  const timeout = num('request_timeout');
  const attempts = num('request_max_attempts');
  const factor = num('request_backoff_factor');
  const maxDelay = num('request_max_retry_delay');
  if (timeout !== undefined) out.requestTimeout = timeout;
  if (attempts !== undefined) out.requestMaxAttempts = Math.max(1, Math.floor(attempts));
  if (factor !== undefined) out.requestBackoffFactor = factor;
  if (maxDelay !== undefined) out.requestMaxRetryDelay = maxDelay;
  return out;
}

function readParentField(spec: ResourceSpec, values: PlaceholderValues, field: string): unknown {
  const v = values.parent ? readField(values.parent.item, field) : undefined;
  if (v === undefined) {
    throw new InvalidOptionsError(`resource "${spec.name}"`, `an item of its parent "${spec.parent}" has no field "${field}" (a resolve param); check the field name`);
  }
  return v;
}
