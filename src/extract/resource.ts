import { z } from 'zod';
import { InvalidOptionsError } from '../errors.js';
import { formatIssue } from '../common/zod-issues.js';
import { CONTRACT_MODES, MERGE_STRATEGIES, WRITE_DISPOSITIONS, type ColumnHint, type SchemaContract, type WriteDisposition, type WriteDispositionConfig } from '../schema/types.js';
import type { Incremental } from './incremental.js';
import { isColumnsModel, modelColumns, modelContract, type ColumnsModel } from './model.js';
import type { ItemLimit, ItemStep } from './item-steps.js';
import type { JsonLines } from './json-lines.js';
import { columnHintsSchema, columnRecord, mergeColumnHints, type ColumnHints } from './columns.js';
import { nestedHintRecords, nestedHintsSchema, type NestedHints } from './nested-hints.js';
import { runSourceBody } from './context.js';

/** Anything a resource may produce: items, pages of items, sync or async. */
export type ResourceData<T = unknown> = Iterable<T> | AsyncIterable<T>;

/** What a resource function receives; state and incremental are also reachable through `resourceState()`. */
export interface ResourceContext {
  /** This resource's state (persisted when the package loads). */
  state: Record<string, unknown>;
  /** The incremental cursor, if the resource declared one. */
  incremental?: Incremental;
  /**
   * Set when this extract continues after a checkpoint (a retried Temporal activity): the
   * token the resource last passed to `checkpoint()`. The resource must then yield exactly
   * the items after that point (e.g. start at the page after the one the token names).
   */
  resumeFrom?: unknown;
  /**
   * Offers a checkpoint: everything yielded so far is done, and `resumeFrom` = `resumeToken`
   * (small JSON: a next URL, offset or cursor; never rows or secrets) yields the rest.
   * Call it between yields. The engine commits one every N items or M seconds (the step's
   * checkpoint policy) and ignores the rest; outside a durable extract it does nothing.
   */
  checkpoint?: (resumeToken: unknown) => void;
}

export type ResourceFunction<T = unknown> = (ctx: ResourceContext) => ResourceData<T>;

/**
 * A transformer's function: called with each yield of its parent (a page as an array, or one
 * item, after the parent's incremental and steps); returns items, pages, an (async)
 * iterable of them, or a promise of one item.
 */
export type TransformerFunction<P = unknown, T = unknown> = (item: P, ctx: ResourceContext) => ResourceData<T> | T | Promise<T>;

/** The item a step sees: the elements of a yielded page one by one (a chunk of JSON lines is a page of objects). */
export type ItemOf<T> = T extends JsonLines ? Record<string, unknown> : T extends readonly (infer U)[] ? U : T;

/** Steps, limit and parent a resource carries besides its data (see item-steps.ts, transformer()). */
export interface ResourcePipe {
  steps: ItemStep[];
  limit?: ItemLimit;
  /** For a transformer: the resource whose yields feed it. */
  parent?: Resource;
  transform?: TransformerFunction;
}

export { columnHintSchema } from './columns.js';

const contractMode = z.enum(CONTRACT_MODES);
/** Validates a schema contract (shared by resource(), source() and run() options). */
export const schemaContractSchema = z.union([
  contractMode,
  z.object({ tables: contractMode.optional(), columns: contractMode.optional(), dataType: contractMode.optional() }).strict(),
]);

const timeish = z.union([z.string().min(1), z.date()]);

/** A write disposition: a shorthand or dlt's config dict (shared by resource() and run() options). */
export const writeDispositionSchema = z.union([
  z.enum(WRITE_DISPOSITIONS as [WriteDisposition, ...WriteDisposition[]]),
  z.object({ disposition: z.enum(['append', 'replace', 'skip']) }).strict(),
  z
    .object({
      disposition: z.literal('merge'),
      strategy: z.enum(MERGE_STRATEGIES).optional(),
      validityColumnNames: z.tuple([z.string().min(1), z.string().min(1)]).optional(),
      activeRecordTimestamp: timeish.nullable().optional(),
      boundaryTimestamp: timeish.nullable().optional(),
      rowVersionColumnName: z.string().min(1).optional(),
    })
    .strict(),
]);

/** A key: a column, columns, or `[]` for none (dlt's empty tuple). */
const keySchema = z.union([z.string().min(1), z.array(z.string().min(1))]);

export const resourceOptionsSchema = z
  .object({
    name: z.string().min(1).optional(),
    tableName: z.union([z.string().min(1), z.custom<TableNameFunction>((v) => typeof v === 'function', 'expected a string or a function of the item')]).optional(),
    parentTableName: z.string().min(1).optional(),
    writeDisposition: writeDispositionSchema.optional(),
    primaryKey: keySchema.optional(),
    mergeKey: keySchema.optional(),
    columns: z.union([z.custom<ColumnsModel>(isColumnsModel), columnHintsSchema]).optional(),
    maxTableNesting: z.number().int().nonnegative().optional(),
    schemaContract: schemaContractSchema.optional(),
    nestedHints: nestedHintsSchema.optional(),
    incremental: z.custom<Incremental>((v) => v === undefined || (typeof v === 'object' && v !== null && 'cursorPath' in v)).optional(),
    selected: z.boolean().optional(),
    parallelized: z.boolean().optional(),
  })
  .strict()
  .refine((o) => !(typeof o.tableName === 'function' && o.parentTableName !== undefined), {
    message: 'parentTableName needs one table: it cannot go with a tableName function',
    path: ['parentTableName'],
  });

/** dlt's dynamic table name: the table of each item, e.g. `(item) => \`${item.kind}_events\``. */
export type TableNameFunction = (item: Record<string, unknown>) => string;

export interface ResourceOptions {
  /** Resource name (default: the function's name). Also the table name unless `tableName` is given. */
  name?: string;
  /**
   * The table (default: the resource's name), or a function of each item that names its table
   * (dlt's dynamic table names: every table it names gets the resource's hints).
   */
  tableName?: string | TableNameFunction;
  /**
   * dlt's `parent_table_name`: the table becomes a child (nested table) of this table in the
   * schema, which must exist by the end of the extract. It follows its root's write
   * disposition and is loaded, replaced and dropped with it; the rows are the resource's own
   * (no `_dlt_parent_id` is made up for them).
   */
  parentTableName?: string;
  /** `'append' | 'replace' | 'merge' | 'skip'` or dlt's dict, e.g. `{ disposition: 'merge', strategy: 'scd2' }`. */
  writeDisposition?: WriteDispositionConfig;
  primaryKey?: string | string[];
  mergeKey?: string | string[];
  /**
   * Column hints by name, a list of column schemas (`[{ name, dataType, ... }]`), or a zod
   * object model (dlt's pydantic models): its fields give
   * the columns (names, types, nullability), every item is validated against it in extract,
   * and the contract defaults to `{ tables: 'evolve', columns: 'discard_value' (strict:
   * 'freeze', passthrough: 'evolve'), dataType: 'freeze' }`.
   */
  columns?: ColumnHints | ColumnsModel;
  maxTableNesting?: number;
  /**
   * dlt's `nested_hints`: column hints for the nested tables this resource makes, by their
   * path below the root table (`'items'` for `<table>__items`, `'items__parts'` a level
   * deeper), e.g. `{ items: { columns: { price: { dataType: 'double' } } } }`. The tables
   * are declared at extract, as dlt declares them; they are created at the destination once
   * rows reach them.
   */
  nestedHints?: Record<string, NestedHints>;
  /**
   * dlt's schema contract for this resource's tables: what a new table, a new column or a
   * value needing a variant column does (`evolve`, `freeze`, `discard_row`, `discard_value`).
   * Over the source's; run()'s overrides it.
   */
  schemaContract?: SchemaContract;
  incremental?: Incremental;
  /** Whether the resource is loaded when its source runs (default true). */
  selected?: boolean;
  /**
   * dlt's `parallelized=True`. A resource: extracted at the same time as the source's other
   * parallelized resources (and its sequential ones), up to the extract's `workers`. A
   * transformer: called for several parent items at once, up to `maxParallelItems` calls in
   * flight, its results written in the order they finish. Pays off for async (I/O) code; a
   * sync generator is pulled in turns with the others, never at the same time (see
   * src/extract/parallel.ts).
   */
  parallelized?: boolean;
}

export type ResourceHints = Omit<ResourceOptions, 'name' | 'incremental' | 'selected' | 'columns' | 'parallelized' | 'nestedHints'> & {
  columns?: Record<string, ColumnHint>;
  /** `nestedHints` with each table's columns in the record form. */
  nestedHints?: Record<string, { columns: Record<string, ColumnHint> }>;
  /** The column names are `__`-joined paths of a model's nested fields: each part is normalized on its own. */
  columnPaths?: boolean;
};

const RESOURCE = Symbol.for('haul.resource');
const SOURCE = Symbol.for('haul.source');

/** A named stream of items with table hints. */
export class Resource<T = unknown> {
  readonly [RESOURCE] = true;
  readonly name: string;
  hints: ResourceHints;
  incremental?: Incremental;
  selected: boolean;
  /** Extracted concurrently with other resources; a transformer: called for several parent items at once. */
  parallelized: boolean;
  /** The zod model given as `columns`: items are validated against it in extract. */
  model?: ColumnsModel;
  /** Steps, limit and parent (see addMap/addFilter/addYieldMap/addLimit, transformer()). */
  readonly pipe: ResourcePipe;

  constructor(
    private readonly data: ResourceData<T> | ResourceFunction<T>,
    options: ResourceOptions,
    pipe: ResourcePipe = { steps: [] },
  ) {
    this.pipe = { ...pipe, steps: [...pipe.steps] };
    const name = options.name;
    if (!name) throw new InvalidOptionsError('resource', 'a resource needs a name: pass { name } or use a named function');
    this.name = name;
    const { name: _n, incremental, selected, columns, parallelized, nestedHints, ...rest } = options;
    void _n;
    this.hints = { ...rest, ...(nestedHints !== undefined && { nestedHints: nestedHintRecords(nestedHints) }) };
    this.setColumns(columns, rest.schemaContract);
    this.incremental = incremental;
    this.selected = selected ?? true;
    this.parallelized = parallelized ?? false;
  }

  /**
   * `columns` in any form dlt takes, kept as the record form (a model also sets the
   * contract's defaults). `merge`: hints given later add to the columns' hints as dlt's
   * apply_hints does (an empty record or list clears them).
   */
  private setColumns(columns: ColumnHints | ColumnsModel | undefined, given: SchemaContract | undefined, merge = false): void {
    if (isColumnsModel(columns)) {
      this.model = columns;
      this.hints.columns = modelColumns(columns);
      this.hints.columnPaths = true;
      // the model's contract, under any the user gave for single entities
      this.hints.schemaContract = typeof given === 'string' ? given : { ...modelContract(columns), ...given };
    } else if (columns !== undefined) {
      const base = merge && !this.hints.columnPaths ? this.hints.columns : undefined;
      this.hints.columns = base ? mergeColumnHints(base, columnRecord(columns)) : columnRecord(columns);
      delete this.hints.columnPaths;
    }
  }

  /** The resource's table: its `tableName` string, else its name (also for a dynamic one, see tableNameOf). */
  get tableName(): string {
    const t = this.hints.tableName;
    return typeof t === 'string' ? t : this.name;
  }

  /** The function that names each item's table, when `tableName` is one. */
  get tableNameOf(): TableNameFunction | undefined {
    const t = this.hints.tableName;
    return typeof t === 'function' ? t : undefined;
  }

  /** Opens the item stream. A function resource is called once per extract. */
  open(ctx: ResourceContext): ResourceData<T> {
    if (typeof this.data === 'function') return this.data(ctx);
    if (isOneShot(this.data)) {
      // dlt's SourceExhausted: a generator object reads once; a second read would load nothing, silently
      if (opened.has(this.data)) {
        throw new InvalidOptionsError(
          `resource "${this.name}"`,
          'its data is a generator object that was read already (by an earlier run, or by a transformer reading its parent again); pass the generator function instead, e.g. resource(function* () { ... }) or resource(() => gen())',
        );
      }
      opened.add(this.data);
    }
    return this.data;
  }

  /** A copy with more or different hints. */
  withHints(hints: Partial<ResourceOptions>): Resource<T> {
    const { columns, ...rest } = hints;
    const r = new Resource(this.data, { name: this.name, ...this.hints, incremental: this.incremental, selected: this.selected, parallelized: this.parallelized, ...rest }, this.pipe);
    r.setColumns(columns, rest.schemaContract ?? this.hints.schemaContract, true);
    r.model ??= this.model;
    return r;
  }

  /** Changes this resource's hints (dlt's `apply_hints`): table name, disposition, keys, columns, incremental. */
  applyHints(hints: Omit<Partial<ResourceOptions>, 'name'>): this {
    const parsed = resourceOptionsSchema.safeParse(hints);
    if (!parsed.success) throw new InvalidOptionsError(`resource "${this.name}" hints`, parsed.error.issues.map(formatIssue).join('; '));
    const { incremental, selected, columns, parallelized, nestedHints, ...rest } = hints as Partial<ResourceOptions>;
    this.hints = { ...this.hints, ...rest, ...(nestedHints !== undefined && { nestedHints: nestedHintRecords(nestedHints) }) };
    this.setColumns(columns, rest.schemaContract, true);
    if (incremental !== undefined) this.incremental = incremental;
    if (selected !== undefined) this.selected = selected;
    if (parallelized !== undefined) this.parallelized = parallelized;
    return this;
  }

  /** Marks the resource `parallelized` (dlt's `parallelize()`). */
  parallelize(): this {
    this.parallelized = true;
    return this;
  }

  /** Transforms each item (dlt's `add_map`); an undefined or null result drops the item. */
  addMap<U>(fn: (item: ItemOf<T>) => U): Resource<U> {
    this.pipe.steps.push({ kind: 'map', fn: fn as (item: unknown) => unknown });
    return this as unknown as Resource<U>;
  }

  /** Keeps the items for which `fn` is true (dlt's `add_filter`). */
  addFilter(fn: (item: ItemOf<T>) => boolean): this {
    this.pipe.steps.push({ kind: 'filter', fn: fn as (item: unknown) => boolean });
    return this;
  }

  /** Turns each item into any number of items (dlt's `add_yield_map`). */
  addYieldMap<U>(fn: (item: ItemOf<T>) => Iterable<U>): Resource<U> {
    this.pipe.steps.push({ kind: 'yieldMap', fn: fn as (item: unknown) => Iterable<unknown> });
    return this as unknown as Resource<U>;
  }

  /** Stops the resource after `maxItems` yields (a page counts once, as in dlt) and/or `maxTimeMs`. */
  addLimit(limit: number | ItemLimit): this {
    const l = typeof limit === 'number' ? { maxItems: limit } : limit;
    for (const [k, v] of Object.entries(l)) {
      if (v !== undefined && (typeof v !== 'number' || v < 0 || !Number.isFinite(v))) throw new InvalidOptionsError(`resource "${this.name}" addLimit`, `${k} must be a non-negative number`);
    }
    this.pipe.limit = l;
    return this;
  }

  /** Feeds this resource's yields into a transformer (dlt's `resource | transformer`); returns the bound transformer. */
  pipeTo<U>(t: Resource<U>): Resource<U> {
    if (!t.pipe.transform) throw new InvalidOptionsError(`resource "${t.name}"`, 'is not a transformer: make it with transformer(fn)');
    const r = new Resource<U>(t.data, { name: t.name, ...t.hints, incremental: t.incremental, selected: t.selected, parallelized: t.parallelized }, { ...t.pipe, parent: this as Resource });
    r.model = t.model;
    return r;
  }
}

/**
 * A resource fed by another resource's yields, with its own table (dlt's `@dlt.transformer`):
 * `transformer(async function* details(page) { ... }, { dataFrom: users })`, or without
 * `dataFrom` and bound later with `users.pipeTo(details)`. The parent is read again for the
 * transformer (its own table is loaded only when it is selected too); its incremental cursor
 * filters what the transformer sees and is kept under the parent's name.
 */
export function transformer<P = unknown, T = unknown>(fn: TransformerFunction<P, T>, options: ResourceOptions & { dataFrom?: Resource } = {}): Resource<T> {
  const { dataFrom, ...rest } = options;
  const parsed = resourceOptionsSchema.safeParse(rest);
  if (!parsed.success) throw new InvalidOptionsError('transformer options', parsed.error.issues.map(formatIssue).join('; '));
  if (typeof fn !== 'function') throw new InvalidOptionsError('transformer', 'expects a function of the parent\'s item');
  const name = rest.name ?? (fn.name || undefined);
  if (dataFrom !== undefined && !isResource(dataFrom)) throw new InvalidOptionsError(`transformer "${name ?? '?'}"`, 'dataFrom must be a resource');
  const unbound: ResourceFunction<T> = () => {
    throw new InvalidOptionsError(`transformer "${name}"`, 'has no parent: pass { dataFrom: resource } or bind it with resource.pipeTo(transformer)');
  };
  return new Resource<T>(unbound, { ...rest, name }, { steps: [], parent: dataFrom, transform: fn as TransformerFunction });
}

/** Makes a resource from items, an iterable, a generator or a (async) generator function. */
export function resource<T>(data: ResourceData<T> | ResourceFunction<T> | T[], options: ResourceOptions = {}): Resource<T> {
  const parsed = resourceOptionsSchema.safeParse(options);
  if (!parsed.success) throw new InvalidOptionsError('resource options', parsed.error.issues.map(formatIssue).join('; '));
  const name = options.name ?? (typeof data === 'function' && data.name ? data.name : undefined);
  if (typeof data !== 'function' && !isIterable(data)) {
    throw new InvalidOptionsError('resource', 'data must be an array, an iterable, an async iterable or a function returning one');
  }
  return new Resource<T>(data as ResourceData<T> | ResourceFunction<T>, { ...options, name });
}

/** A named group of resources sharing one schema and one source state. */
export class Source {
  readonly [SOURCE] = true;
  constructor(
    readonly name: string,
    readonly resources: Record<string, Resource>,
    readonly schemaName: string = name,
    /** The source's schema contract (stored in the schema settings); resources' own ones win. */
    readonly schemaContract?: SchemaContract,
    /** The source's max_table_nesting (stored in the schema settings); resources' own ones win. */
    readonly maxTableNesting?: number,
    /**
     * Made by source() (or a built-in source), not wrapped around run()'s data: as dlt's
     * source schema, its settings (contract, nesting) replace the stored ones on every extract.
     */
    readonly declared: boolean = false,
  ) {}

  /** The resources that will be extracted. */
  get selectedResources(): Resource[] {
    return Object.values(this.resources).filter((r) => r.selected);
  }

  /** A copy of the source with only these resources selected. */
  withResources(...names: string[]): Source {
    for (const n of names) {
      if (!this.resources[n]) throw new InvalidOptionsError(`source "${this.name}"`, `no resource named "${n}" (has: ${Object.keys(this.resources).join(', ')})`);
    }
    const picked: Record<string, Resource> = {};
    for (const [n, r] of Object.entries(this.resources)) {
      const copy = r.withHints({});
      copy.selected = names.includes(n);
      picked[n] = copy;
    }
    return new Source(this.name, withCopiedParents(this.resources, picked), this.schemaName, this.schemaContract, this.maxTableNesting, this.declared);
  }
}

/**
 * Copies of a source's resources whose transformers read the copied parents (what is done to
 * a parent of the copy, e.g. `applyHints({ incremental })` or `addMap`, reaches its transformers).
 */
export function withCopiedParents(originals: Record<string, Resource>, copies: Record<string, Resource>): Record<string, Resource> {
  const copyOf = new Map<Resource, Resource>();
  for (const [n, r] of Object.entries(originals)) if (copies[n]) copyOf.set(r, copies[n]);
  for (const copy of Object.values(copies)) {
    const parent = copy.pipe.parent;
    const moved = parent && copyOf.get(parent);
    if (moved) copy.pipe.parent = moved;
  }
  return copies;
}

export interface SourceOptions {
  name?: string;
  schemaName?: string;
  /** dlt's schema contract for every table of the source (a resource's or run()'s wins). */
  schemaContract?: SchemaContract;
  /** dlt's max_table_nesting for every table of the source, kept in the schema settings (a resource's own wins). */
  maxTableNesting?: number;
}

const sourceOptionsSchema = z
  .object({ name: z.string().min(1).optional(), schemaName: z.string().min(1).optional(), schemaContract: z.unknown().optional(), maxTableNesting: z.number().int().nonnegative().optional() })
  .strict();

/** A function that, given its arguments, returns the source's resources. */
export type SourceFactory<A extends unknown[]> = ((...args: A) => Source) & { readonly sourceName: string };

/** Declares a source: `source(function github(token: string) { return [issues, pulls]; })`. */
export function source<A extends unknown[]>(
  fn: (...args: A) => Resource | Resource[] | Record<string, Resource>,
  options: SourceOptions = {},
): SourceFactory<A> {
  const name = options.name ?? fn.name;
  if (!name) throw new InvalidOptionsError('source', 'a source needs a name: pass { name } or use a named function');
  const checked = sourceOptionsSchema.safeParse(options);
  if (!checked.success) throw new InvalidOptionsError(`source "${name}" options`, checked.error.issues.map(formatIssue).join('; '));
  if (options.schemaContract !== undefined) {
    const parsed = schemaContractSchema.safeParse(options.schemaContract);
    if (!parsed.success) throw new InvalidOptionsError(`source "${name}" schemaContract`, parsed.error.issues.map(formatIssue).join('; '));
  }
  const factory = (...args: A): Source => {
    // sourceState() in the body reads the committed state (a copy: changes are discarded, as in dlt)
    const out = runSourceBody(name, () => fn(...args));
    const list = out instanceof Resource ? [out] : Array.isArray(out) ? out : Object.values(out);
    const resources: Record<string, Resource> = {};
    for (const r of list) {
      if (!isResource(r)) throw new InvalidOptionsError(`source "${name}"`, 'must return resources made with resource()');
      if (resources[r.name]) throw new InvalidOptionsError(`source "${name}"`, `two resources are named "${r.name}"`);
      resources[r.name] = r;
    }
    return new Source(name, resources, options.schemaName ?? name, options.schemaContract, options.maxTableNesting, true);
  };
  Object.defineProperty(factory, 'sourceName', { value: name });
  Object.defineProperty(factory, 'name', { value: name });
  return factory as SourceFactory<A>;
}

/** Iterators that are their own iterable (generator objects): they can be read once. */
const opened = new WeakSet<object>();

function isOneShot(data: unknown): data is object {
  const d = data as { [Symbol.iterator]?: () => unknown; [Symbol.asyncIterator]?: () => unknown };
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return false;
  const own = typeof d[Symbol.asyncIterator] === 'function' ? d[Symbol.asyncIterator]!() : typeof d[Symbol.iterator] === 'function' ? d[Symbol.iterator]!() : undefined;
  return own === d;
}

export function isResource(v: unknown): v is Resource {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[RESOURCE] === true;
}

export function isSource(v: unknown): v is Source {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[SOURCE] === true;
}

export function isIterable(v: unknown): v is Iterable<unknown> | AsyncIterable<unknown> {
  return (
    typeof v === 'object' && v !== null && (Symbol.iterator in v || Symbol.asyncIterator in v)
  );
}

