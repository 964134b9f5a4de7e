import { z } from 'zod';
import { formatIssue } from '../common/zod-issues.js';
import { InvalidOptionsError } from '../errors.js';
import { columnHintsSchema } from '../extract/columns.js';
import type { DropInput, PipelineRunInput } from './types.js';

/** Keys that look like credentials: these are resolved on the worker, never sent in an input. */
const SECRET_KEY = /pass(word)?|secret|token|credential|api[_-]?key|private[_-]?key|auth/i;
/** Inputs go into workflow history: keep them small, and rows out of them. */
const MAX_INPUT_BYTES = 64 * 1024;

const name = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . - only');
const key = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const json = z.json();

const tuning = z
  .object({
    heartbeatTimeoutMs: z.number().int().min(1000).optional(),
    startToCloseTimeoutMs: z.number().int().min(1000).optional(),
    maximumAttempts: z.number().int().min(0).optional(),
    initialIntervalMs: z.number().int().min(1).optional(),
    maximumIntervalMs: z.number().int().min(1).optional(),
    /** Extract checkpoints (a retried extract resumes from the last one): every N items ... */
    checkpointEveryItems: z.number().int().min(1).optional(),
    /** ... or every M ms, whichever comes first. Defaults: 10,000 items, 10 s. */
    checkpointEveryMs: z.number().int().min(1).optional(),
  })
  .strict();

const destinationOptions = z.record(z.string(), json).superRefine((o, ctx) => {
  for (const k of Object.keys(o)) {
    if (SECRET_KEY.test(k)) {
      ctx.addIssue({
        code: 'custom',
        path: [k],
        message: 'looks like a credential; credentials never go into workflow inputs: configure them on the worker (env or .dlt/secrets.toml)',
      });
    }
  }
});

const ref = {
  pipelineName: name,
  destination: z.string().min(1),
  destinationOptions: destinationOptions.optional(),
  datasetName: z.string().min(1).max(200).optional(),
  /** A staging destination by name; its bucket (and any credentials) are configured on the worker. */
  staging: name.optional(),
};

export const pipelineRunInputSchema = z
  .object({
    ...ref,
    source: z.string().min(1),
    args: z.union([z.array(json), z.record(z.string(), json)]).optional(),
    resources: z.array(z.string().min(1)).min(1).optional(),
    tableName: z.string().min(1).optional(),
    writeDisposition: z
      .union([
        z.enum(['append', 'replace', 'merge', 'skip']),
        z.object({ disposition: z.enum(['append', 'replace', 'skip']) }).strict(),
        z
          .object({
            disposition: z.literal('merge'),
            strategy: z.enum(['delete-insert', 'upsert', 'scd2', 'insert-only']).optional(),
            validityColumnNames: z.tuple([z.string().min(1), z.string().min(1)]).optional(),
            activeRecordTimestamp: z.string().min(1).nullable().optional(),
            boundaryTimestamp: z.string().min(1).nullable().optional(),
            rowVersionColumnName: z.string().min(1).optional(),
          })
          .strict(),
      ])
      .optional(),
    primaryKey: key.optional(),
    mergeKey: key.optional(),
    columns: columnHintsSchema.optional(),
    refresh: z.enum(['drop_sources', 'drop_resources', 'drop_data']).optional(),
    loaderFileFormat: z.enum(['jsonl', 'parquet', 'csv']).optional(),
    pendingOnly: z.boolean().optional(),
    tuning: tuning.optional(),
    externalWindow: z
      .object({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) })
      .strict()
      .refine((w) => Date.parse(w.start) < Date.parse(w.end), 'start must be before end')
      .optional(),
  })
  .strict();

export const dropInputSchema = z
  .object({
    ...ref,
    // default: the destination stored in the pipeline's working dir on the worker
    destination: ref.destination.optional(),
    resources: z.array(z.string().min(1)).optional(),
    tables: z.array(z.string().min(1)).optional(),
    stateOnly: z.boolean().optional(),
    tuning: tuning.optional(),
  })
  .strict()
  .refine((d) => (d.resources?.length ?? 0) + (d.tables?.length ?? 0) > 0, { message: 'name at least one resource or table to drop' })
  .refine((d) => d.destination !== undefined || d.destinationOptions === undefined, { message: 'destinationOptions need a destination: pass both, or neither to use the destination stored with the pipeline' });

function check<T>(schema: z.ZodType<T>, what: string, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) {
    throw new InvalidOptionsError(what, r.error.issues.map(formatIssue).join('; '));
  }
  const size = Buffer.byteLength(JSON.stringify(r.data));
  if (size > MAX_INPUT_BYTES) {
    throw new InvalidOptionsError(what, `is ${size} bytes; keep it under ${MAX_INPUT_BYTES} (pass rows through a source, not through the input)`);
  }
  return r.data;
}

/** Validates a pipeline run input; throws InvalidOptionsError (non-retryable) naming what is wrong. */
export function parsePipelineRunInput(input: unknown): PipelineRunInput {
  return check(pipelineRunInputSchema, 'pipeline run input', input) as PipelineRunInput;
}

export function parseDropInput(input: unknown): DropInput {
  return check(dropInputSchema, 'drop input', input) as DropInput;
}

/** The workflow id of a pipeline: one pipeline never has two runs at once. */
export function pipelineWorkflowId(pipelineName: string): string {
  return `pipeline/${pipelineName}`;
}
