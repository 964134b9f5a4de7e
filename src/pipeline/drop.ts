/**
 * `dlt pipeline <name> drop` for haul: takes resources out of a pipeline — their tables
 * (with child tables) from the schema and the destination, and their state — by writing
 * a package that carries the new schema, the new state and a refresh plan dropping those
 * tables. The Pipeline facade (`dropResources`) then normalizes and loads it, so the drop
 * reaches the destination the way every change does: the tables are dropped, the new
 * schema goes to `_dlt_version` and the new state to `_dlt_pipeline_state` in one load,
 * and the working dir commits only after `_dlt_loads` has it. Durable runners can call
 * `planDropResources` as their own step (idempotent for a given load id).
 */
import { HaulError, InvalidOptionsError } from '../errors.js';
import { normalizeTableName } from '../schema/naming.js';
import { ensureStateTable } from '../extract/extract.js';
import type { Schema } from '../schema/schema.js';
import type { PackageState } from '../storage/package-state.js';
import { newLoadId } from '../storage/job-name.js';
import type { LoadInfo } from '../load/load-info.js';
import { writeStateRowJob } from '../extract/state-row.js';
import { bumpStateVersion, type PipelineState, type SourceState } from '../state/state.js';
import type { WorkingDir } from '../storage/working-dir.js';

export interface DropResourcesOptions {
  /** Every resource of the schema: their tables and state (dlt's `--drop-all`; the source's own state keys stay). */
  dropAll?: boolean;
  /**
   * Paths in the source state to remove, relative to `state.sources[<schema>]`, e.g.
   * `last_page` or `resources.users.incremental`; `*` matches any key, `$.` may lead.
   */
  statePaths?: string[];
  /** Reset the resources' state only; keep their tables (dlt's `--state-only`). */
  stateOnly?: boolean;
  /** The schema (= source) to drop from; default: the pipeline's default schema. */
  schemaName?: string;
  /** Only tell what would be dropped; nothing changes. */
  dryRun?: boolean;
  /** Load id of the drop package (durable runners: the same id makes a retry a no-op). */
  loadId?: string;
}

export interface DropResourcesInfo {
  schemaName: string;
  /** Resources whose tables and state are dropped. */
  resources: string[];
  /** Tables dropped at the destination and from the schema (roots, then child tables). */
  tables: string[];
  /** State paths removed, e.g. `sources.shop.resources.users`. */
  statePaths: string[];
  /** The drop package (absent when nothing was to drop, and on a dry run). */
  loadId?: string;
  dryRun: boolean;
  /** The load that applied the drop (set by Pipeline.dropResources). */
  loadInfo?: LoadInfo;
}

export interface DropContext {
  wd: WorkingDir;
  pipelineName: string;
  datasetName: string;
}

/** Plans the drop and (unless dryRun) writes its extracted package. Refuses while packages are pending. */
export function planDropResources(ctx: DropContext, resources: string[], opts: DropResourcesOptions = {}): DropResourcesInfo {
  const { wd, pipelineName } = ctx;
  wd.storage.recover();
  const done = opts.loadId ? wd.storage.findStage(opts.loadId) : undefined;
  if (opts.loadId && done) {
    const pkg = wd.packageState(done, opts.loadId);
    return { schemaName: pkg.schemaName, resources, tables: pkg.refresh?.dropTables ?? [], statePaths: [], loadId: opts.loadId, dryRun: false };
  }
  const pending = wd.pendingPackages();
  if (pending.length) {
    throw new HaulError(
      'PendingPackages',
      `pipeline "${pipelineName}" has ${pending.length} pending load package(s) (${pending.map((p) => p.loadId).join(', ')}); ` +
        'load them first (run the pipeline again) or discard them (dropPendingPackages(), `haul pipeline ' + pipelineName + ' drop-pending-packages`)',
    );
  }
  const state = structuredClone(wd.readState(pipelineName, ctx.datasetName));
  const schemaName = opts.schemaName ?? state.default_schema_name ?? wd.schemaNames()[0];
  const schema = schemaName ? wd.readSchema(schemaName) : undefined;
  if (!schemaName || !schema) {
    throw new HaulError('NothingToDrop', opts.schemaName ? `pipeline "${pipelineName}" has no schema "${opts.schemaName}" (has: ${wd.schemaNames().join(', ') || 'none'})` : `pipeline "${pipelineName}" has not loaded anything yet: nothing to drop`);
  }
  const plan = computeDrop(schema, state, resources, opts);
  const info: DropResourcesInfo = { schemaName, resources: plan.resources, tables: plan.tables, statePaths: plan.statePaths, dryRun: opts.dryRun === true };
  if (opts.dryRun || (plan.tables.length === 0 && plan.statePaths.length === 0)) return info;
  info.loadId = writeDropPackage(ctx, schema, state, plan.tables, opts.loadId ?? newLoadId());
  return info;
}

/** Resource names from the schema's root tables and the source state (system tables excluded). */
function knownResources(schema: Schema, source: SourceState | undefined): string[] {
  const names = new Set<string>();
  for (const t of Object.values(schema.tables)) if (!t.parent && t.resource && !t.resource.startsWith('_dlt_')) names.add(t.resource);
  for (const r of Object.keys(source?.resources ?? {})) names.add(r);
  return [...names].sort();
}

/** `name` or `re:<regex>` (as in dlt) against the known resources. */
function selectResources(patterns: string[], known: string[], schemaName: string): string[] {
  const out = new Set<string>();
  for (const p of patterns) {
    if (p.startsWith('re:')) {
      let re: RegExp;
      try {
        re = new RegExp(p.slice(3));
      } catch (e) {
        throw new InvalidOptionsError('drop', `bad pattern ${JSON.stringify(p)}: ${(e as Error).message}`);
      }
      for (const k of known) if (re.test(k)) out.add(k);
    } else if (known.includes(p)) {
      out.add(p);
    } else {
      throw new InvalidOptionsError('drop', `resource "${p}" is not in schema "${schemaName}" (resources: ${known.join(', ') || 'none'})`);
    }
  }
  return [...out];
}

/**
 * What a drop changes, applied to `schema` and `state` in place: tables of the resources
 * (unless stateOnly), the resources' state, and the given state paths.
 */
export function computeDrop(schema: Schema, state: PipelineState, patterns: string[], opts: DropResourcesOptions = {}): { resources: string[]; tables: string[]; statePaths: string[] } {
  const sourceName = schema.name; // dlt keeps a source's state under its schema's name
  const source = state.sources[sourceName];
  const known = knownResources(schema, source);
  if (!opts.dropAll && patterns.length === 0 && !opts.statePaths?.length) {
    throw new InvalidOptionsError('drop', `name the resources to drop, or pass dropAll / statePaths (resources: ${known.join(', ') || 'none'})`);
  }
  const resources = opts.dropAll ? known : selectResources(patterns, known, schema.name);
  const roots = schema.tablesOfResources(resources).map((t) => t.name);
  const tables = opts.stateOnly ? [] : roots.flatMap((r) => schema.tableChain(r).map((t) => t.name));
  schema.dropTables(tables);

  const statePaths: string[] = [];
  if (source) {
    // dropAll: every resource's state, as dlt's --drop-all; the source's own keys stay (statePaths reach them)
    const stateOf = opts.dropAll ? Object.keys(source.resources ?? {}) : resources;
    for (const r of stateOf) {
      if (source.resources && r in source.resources) {
        delete source.resources[r];
        statePaths.push(`sources.${sourceName}.resources.${r}`);
      }
    }
    for (const p of opts.statePaths ?? []) for (const removed of deletePath(source, p)) statePaths.push(`sources.${sourceName}.${removed}`);
  }
  return { resources, tables, statePaths };
}

/** Deletes the keys a path matches (`a.b`, `a.*.c`, `$.a`); returns the removed paths. */
function deletePath(root: Record<string, unknown>, path: string): string[] {
  const segs = path.replace(/^\$\.?/, '').split('.').filter((s) => s.length > 0);
  if (segs.length === 0) throw new InvalidOptionsError('drop', `state path ${JSON.stringify(path)} is empty`);
  const removed: string[] = [];
  const walk = (obj: Record<string, unknown>, i: number, at: string[]) => {
    const seg = segs[i]!;
    const keys = seg === '*' ? Object.keys(obj) : seg in obj ? [seg] : [];
    for (const k of keys) {
      if (i === segs.length - 1) {
        delete obj[k];
        removed.push([...at, k].join('.'));
      } else {
        const next = obj[k];
        if (next && typeof next === 'object' && !Array.isArray(next)) walk(next as Record<string, unknown>, i + 1, [...at, k]);
      }
    }
  };
  walk(root, 0, []);
  return removed;
}

/** An extracted package that carries the new schema and state and drops `tables` when it loads. */
function writeDropPackage(ctx: DropContext, schema: Schema, state: PipelineState, tables: string[], loadId: string): string {
  const { wd } = ctx;
  bumpStateVersion(state);
  ensureStateTable(schema);
  schema.bumpVersion();
  const pkgBuilder = wd.storage.beginPackage('extracted', loadId);
  try {
    writeStateRowJob(pkgBuilder.newJobsDir, schema, state, ctx.pipelineName);
    const pkg: PackageState = {
      loadId,
      createdAt: new Date().toISOString(),
      schemaName: schema.name,
      sourceName: schema.name,
      pipelineState: state,
      chainRoots: [],
      itemCounts: {},
      refresh: { mode: 'drop_resources', dropTables: tables, truncateTables: [] },
    };
    pkgBuilder.writeSchema(schema);
    pkgBuilder.writeState(pkg);
    pkgBuilder.commit();
  } catch (e) {
    pkgBuilder.abort();
    throw e;
  }
  return loadId;
}

export interface DropPlan {
  loadId?: string;
  droppedTables: string[];
  resetResources: string[];
}

/**
 * The drop workflow's planning step: `planDropResources` with tables accepted as a way to
 * name their resources. Idempotent for a given load id.
 */
export function planDrop(ctx: DropContext, opts: { loadId: string; resources?: string[]; tables?: string[]; stateOnly?: boolean }): DropPlan {
  const { wd } = ctx;
  const resources = new Set(opts.resources ?? []);
  if (opts.tables?.length) {
    const state = wd.readState(ctx.pipelineName, ctx.datasetName);
    const schemaName = state.default_schema_name ?? wd.schemaNames()[0];
    const schema = schemaName ? wd.readSchema(schemaName) : undefined;
    for (const t of opts.tables) {
      const n = schema?.getTable(t) ? t : normalizeTableName(t); // a shortened name as it is
      if (!schema?.getTable(n)) throw new InvalidOptionsError('drop', `table "${t}" is not in schema "${schemaName ?? '(none)'}"`);
      const res = schema.rootOf(n).resource;
      if (res) resources.add(res);
    }
  }
  const info = planDropResources(ctx, [...resources], { stateOnly: opts.stateOnly, loadId: opts.loadId });
  return { loadId: info.loadId, droppedTables: info.tables, resetResources: info.resources };
}
