/**
 * The declarative config, mirroring dlt's `RESTAPIConfig` in camelCase, validated with zod
 * so a typo names its path. Types for TS users are the schema's input types.
 */
import { z } from 'zod';
import { InvalidOptionsError } from '../../errors.js';
import { formatIssue } from '../../common/zod-issues.js';
import { columnHintsSchema } from '../../extract/columns.js';
import { WRITE_DISPOSITIONS, type WriteDisposition } from '../../schema/types.js';
import { AuthBase } from './auth.js';
import { BasePaginator } from './paginators/base.js';
import type { PageResponse } from './types.js';

const fn = <T extends (...a: never[]) => unknown>() => z.custom<T>((v) => typeof v === 'function', 'expected a function');
const key = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const paginatorConfigSchema = z.union([
  z.enum(['json_link', 'header_link', 'header_cursor', 'cursor', 'single_page', 'auto']),
  z.object({ type: z.literal('json_link'), nextUrlPath: z.string().min(1).optional() }).strict(),
  z.object({ type: z.literal('header_link'), linksNextKey: z.string().min(1).optional() }).strict(),
  z.object({ type: z.literal('header_cursor'), cursorKey: z.string().min(1).optional(), cursorParam: z.string().min(1).optional() }).strict(),
  z
    .object({
      type: z.literal('offset'),
      limit: z.number().int().positive(),
      offset: z.number().int().nonnegative().optional(),
      offsetParam: z.string().min(1).optional(),
      limitParam: z.string().min(1).optional(),
      totalPath: z.string().min(1).nullable().optional(),
      maximumOffset: z.number().int().positive().optional(),
      stopAfterEmptyPage: z.boolean().optional(),
      hasMorePath: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('page_number'),
      basePage: z.number().int().nonnegative().optional(),
      page: z.number().int().nonnegative().optional(),
      pageParam: z.string().min(1).optional(),
      totalPath: z.string().min(1).nullable().optional(),
      maximumPage: z.number().int().positive().optional(),
      stopAfterEmptyPage: z.boolean().optional(),
      hasMorePath: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('cursor'),
      cursorPath: z.string().min(1).optional(),
      cursorParam: z.string().min(1).optional(),
      cursorBodyPath: z.string().min(1).optional(),
      stopAfterEmptyPage: z.boolean().optional(),
      hasMorePath: z.string().min(1).optional(),
    })
    .strict(),
  z.object({ type: z.literal('single_page') }).strict(),
  z.object({ type: z.literal('auto') }).strict(),
  z.custom<BasePaginator>((v) => v instanceof BasePaginator, 'expected a paginator type or a BasePaginator instance'),
]);
export type PaginatorConfig = z.input<typeof paginatorConfigSchema>;

/** Secret fields may be left out: they are then read from `sources.<source>.*` / `sources.rest_api.*`. */
export const authConfigSchema = z.union([
  z.object({ type: z.literal('bearer'), token: z.string().min(1).optional() }).strict(),
  z
    .object({
      type: z.literal('api_key'),
      name: z.string().min(1).optional(),
      apiKey: z.string().min(1).optional(),
      location: z.enum(['header', 'query', 'cookie']).optional(),
    })
    .strict(),
  z.object({ type: z.literal('http_basic'), username: z.string().optional(), password: z.string().optional() }).strict(),
  z
    .object({
      type: z.literal('oauth2_client_credentials'),
      accessTokenUrl: z.string().min(1),
      clientId: z.string().min(1).optional(),
      clientSecret: z.string().min(1).optional(),
      accessTokenRequestData: z.record(z.string(), z.string()).optional(),
      defaultTokenExpiration: z.number().positive().optional(),
    })
    .strict(),
  z.custom<AuthBase>((v) => v instanceof AuthBase, 'expected an auth type or an AuthBase instance'),
]);
export type AuthConfig = z.input<typeof authConfigSchema>;

/** What to do with an answer: `ignore` it (no items, no error) or run hooks on it. */
export type ResponseHook = (response: PageResponse) => void | PageResponse | Promise<void | PageResponse>;
const responseActionSchema = z.union([
  z
    .object({
      statusCode: z.number().int().optional(),
      content: z.string().optional(),
      action: z.union([z.literal('ignore'), fn<ResponseHook>(), z.array(fn<ResponseHook>())]),
    })
    .strict(),
  fn<ResponseHook>(),
]);
export type ResponseAction = z.input<typeof responseActionSchema>;

const incrementalFields = {
  cursorPath: z.string().min(1),
  initialValue: z.unknown().optional(),
  endValue: z.unknown().optional(),
  lastValueFunc: z.union([z.enum(['max', 'min']), fn<(values: unknown[]) => unknown>()]).optional(),
  rowOrder: z.enum(['asc', 'desc']).optional(),
  onCursorValueMissing: z.enum(['raise', 'include', 'exclude']).optional(),
  rangeStart: z.enum(['open', 'closed']).optional(),
  rangeEnd: z.enum(['open', 'closed']).optional(),
  lag: z.number().nonnegative().optional(),
  /** Turns the cursor value into what the API expects (e.g. a Unix timestamp). */
  convert: fn<(value: unknown) => unknown>().optional(),
};

/** In `params`: `{ type: 'incremental', cursorPath, initialValue }` sends the start value. */
const incrementalParamSchema = z.object({ type: z.literal('incremental'), ...incrementalFields }).strict();
/** In `params` (dlt's older form): `{ type: 'resolve', resource, field }` = `{resources.<resource>.<field>}`. */
const resolveParamSchema = z.object({ type: z.literal('resolve'), resource: z.string().min(1), field: z.string().min(1) }).strict();

export const endpointIncrementalSchema = z
  .object({ startParam: z.string().min(1).optional(), endParam: z.string().min(1).optional(), ...incrementalFields })
  .strict();
export type EndpointIncremental = z.input<typeof endpointIncrementalSchema>;

const paramValue = z.union([z.string(), z.number(), z.boolean(), z.null(), incrementalParamSchema, resolveParamSchema]);

export const endpointSchema = z
  .object({
    path: z.string().optional(),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).optional(),
    params: z.record(z.string(), paramValue).optional(),
    json: z.unknown().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    paginator: paginatorConfigSchema.optional(),
    dataSelector: z.string().min(1).optional(),
    responseActions: z.array(responseActionSchema).optional(),
    incremental: endpointIncrementalSchema.optional(),
  })
  .strict();
export type EndpointConfig = z.input<typeof endpointSchema>;

export type ProcessingStep =
  | { filter: (item: Record<string, unknown>) => boolean }
  | { map: (item: Record<string, unknown>) => unknown }
  | { yieldMap: (item: Record<string, unknown>) => Iterable<unknown> };
const processingStepSchema = z.union([
  z.object({ filter: fn<(item: Record<string, unknown>) => boolean>() }).strict(),
  z.object({ map: fn<(item: Record<string, unknown>) => unknown>() }).strict(),
  z.object({ yieldMap: fn<(item: Record<string, unknown>) => Iterable<unknown>>() }).strict(),
]);

const resourceFields = {
  endpoint: z.union([z.string(), endpointSchema]).optional(),
  tableName: z.string().min(1).optional(),
  writeDisposition: z.enum(WRITE_DISPOSITIONS as [WriteDisposition, ...WriteDisposition[]]).optional(),
  primaryKey: key.optional(),
  mergeKey: key.optional(),
  /** Column hints by name, or dlt's list of column schemas `[{ name, dataType, ... }]`. */
  columns: columnHintsSchema.optional(),
  maxTableNesting: z.number().int().nonnegative().optional(),
  includeFromParent: z.array(z.string().min(1)).optional(),
  processingSteps: z.array(processingStepSchema).optional(),
  selected: z.boolean().optional(),
  /** dlt's `parallelized`: extracted at the same time as the source's other parallelized resources. */
  parallelized: z.boolean().optional(),
};

export const resourceConfigSchema = z.object({ name: z.string().min(1), ...resourceFields }).strict();
export type RestResourceConfig = z.input<typeof resourceConfigSchema>;
export const resourceDefaultsSchema = z.object(resourceFields).strict();

export const clientConfigSchema = z
  .object({
    baseUrl: z.string().min(1),
    headers: z.record(z.string(), z.string()).optional(),
    auth: authConfigSchema.optional(),
    paginator: paginatorConfigSchema.optional(),
    /** Seconds before a request is abandoned (dlt's request_timeout, default 60). */
    requestTimeout: z.number().positive().optional(),
    /** Attempts per request including the first (dlt's request_max_attempts, default 5). */
    requestMaxAttempts: z.number().int().positive().optional(),
    /** Backoff base in seconds: waits factor * 2^(attempt-1) (dlt's request_backoff_factor, default 1). */
    requestBackoffFactor: z.number().nonnegative().optional(),
    /** Longest wait between attempts in seconds, Retry-After included (dlt's request_max_retry_delay, default 300). */
    requestMaxRetryDelay: z.number().nonnegative().optional(),
  })
  .strict();
export type ClientConfig = z.input<typeof clientConfigSchema>;

export const restApiConfigSchema = z
  .object({
    /** The source's name (default `rest_api`): names its state and its config section `sources.<name>`. */
    name: z.string().min(1).optional(),
    client: clientConfigSchema,
    resourceDefaults: resourceDefaultsSchema.optional(),
    resources: z.array(z.union([z.string().min(1), resourceConfigSchema])).min(1),
  })
  .strict();
export type RestApiConfig = z.input<typeof restApiConfigSchema>;

/** Validates the config; a mistake is an InvalidOptionsError naming its path. */
export function parseRestApiConfig(config: unknown): RestApiConfig {
  const r = restApiConfigSchema.safeParse(config);
  if (!r.success) throw new InvalidOptionsError('rest_api config', r.error.issues.map(formatIssue).join('; '));
  return config as RestApiConfig;
}
