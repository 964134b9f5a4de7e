import type { z } from 'zod';
import { DataValidationError } from '../errors.js';
import { redactedPreview } from '../config/redact.js';
import type { ResolvedContract } from '../schema/contract.js';
import type { ColumnHint, ContractMode, DataType, SchemaContractSettings } from '../schema/types.js';

/*
 * zod models as a resource's columns (dlt's pydantic models): the model gives the columns
 * their names, types and nullability, decides the contract's defaults, and every item is
 * validated against it in extract, before it is written.
 */

/** A zod object schema given as `columns`. */
export type ColumnsModel = z.ZodObject;

interface ZodLike {
  def: { type: string; shape?: Record<string, ZodLike>; innerType?: ZodLike; catchall?: ZodLike; checks?: unknown[] };
  format?: string | null;
  isInt?: boolean;
  safeParse(v: unknown): { success: true; data: unknown } | { success: false; error: { issues: Array<{ code: string; path: PropertyKey[]; message: string; keys?: string[] }> } };
}

/** A zod object schema (checked by shape, so a model from another copy of zod counts too). */
export function isColumnsModel(v: unknown): v is ColumnsModel {
  const d = (v as Partial<ZodLike> | null)?.def;
  return typeof v === 'object' && v !== null && typeof (v as ZodLike).safeParse === 'function' && d?.type === 'object' && typeof d.shape === 'object';
}

const WRAPPERS_NULLABLE = new Set(['nullable', 'optional', 'nullish', 'default', 'prefault', 'catch']);

/** Unwraps optional/nullable/default/readonly/pipe; returns the inner schema and whether null or absence is allowed. */
function unwrap(s: ZodLike): { inner: ZodLike; nullable: boolean } {
  let nullable = false;
  let cur = s;
  for (let i = 0; i < 20; i++) {
    const t = cur.def.type;
    if (WRAPPERS_NULLABLE.has(t)) nullable = true;
    else if (t !== 'readonly' && t !== 'nonoptional') break;
    if (!cur.def.innerType) break;
    cur = cur.def.innerType;
  }
  return { inner: cur, nullable };
}

function typeOf(s: ZodLike): DataType | undefined {
  switch (s.def.type) {
    case 'string':
    case 'enum':
      return 'text';
    case 'number':
      return s.isInt || s.format === 'safeint' || s.format === 'int32' || s.format === 'int64' || s.format === 'uint32' ? 'bigint' : 'double';
    case 'int':
    case 'bigint':
      return 'bigint';
    case 'boolean':
      return 'bool';
    case 'date':
      return 'timestamp';
    default:
      return undefined;
  }
}

/**
 * Column hints from a model: scalar fields typed, nested objects flattened with `__` as
 * normalize flattens them, arrays left to become child tables. A field that is not
 * optional/nullable is `nullable: false`, as dlt makes it from a pydantic model.
 */
export function modelColumns(model: ColumnsModel): Record<string, ColumnHint> {
  const out: Record<string, ColumnHint> = {};
  const walk = (shape: Record<string, ZodLike>, prefix: string, parentNullable: boolean) => {
    for (const [key, field] of Object.entries(shape)) {
      const { inner, nullable } = unwrap(field);
      const name = prefix + key;
      if (inner.def.type === 'object' && inner.def.shape) {
        walk(inner.def.shape, `${name}__`, parentNullable || nullable);
        continue;
      }
      const dataType = typeOf(inner);
      if (inner.def.type === 'array' || dataType === undefined) continue;
      out[name] = { dataType, nullable: parentNullable || nullable };
    }
  };
  walk((model as unknown as ZodLike).def.shape!, '', false);
  return out;
}

/**
 * dlt's contract for a model: new tables evolve, values that fail the model freeze, and
 * extra fields follow the object's unknown-key mode: strict -> freeze, strip (zod's
 * default) -> discard_value, passthrough/loose -> evolve.
 */
export function modelContract(model: ColumnsModel): Required<SchemaContractSettings> {
  const catchall = (model as unknown as ZodLike).def.catchall?.def.type;
  const columns: ContractMode = catchall === 'never' ? 'freeze' : catchall === 'unknown' || catchall === 'any' ? 'evolve' : 'discard_value';
  return { tables: 'evolve', columns, dataType: 'freeze' };
}

/**
 * Validates each item against the model under the contract: a valid item is written as the
 * model outputs it; an invalid one raises (freeze), is dropped (discard_row), loses the
 * fields that failed (discard_value), or is written as it came (evolve). Returns undefined
 * for a dropped item.
 */
export function modelValidator(
  model: ColumnsModel,
  contract: ResolvedContract,
  where: { schemaName: string; table: string },
): (item: unknown) => unknown {
  const m = model as unknown as ZodLike;
  return (item) => {
    const r = m.safeParse(item);
    if (r.success) return r.data;
    const issue = r.error.issues[0]!;
    const extra = issue.code === 'unrecognized_keys';
    const entity = extra ? 'columns' : 'dataType';
    const mode = contract[entity];
    if (mode === 'evolve') return item;
    if (mode === 'discard_row') return undefined;
    const path = extra ? (issue.keys ?? []).join(', ') : issue.path.map(String).join('.');
    if (mode === 'freeze') {
      throw new DataValidationError(where.schemaName, where.table, path || undefined, entity, mode, redactedPreview(item), `the item does not match the resource's model (${issue.message})`);
    }
    // discard_value: drop the fields that failed, then keep what the model accepts
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
    const copy: Record<string, unknown> = { ...(item as Record<string, unknown>) };
    for (const i of r.error.issues) {
      if (i.code === 'unrecognized_keys') for (const k of i.keys ?? []) delete copy[k];
      else if (i.path.length > 0) delete copy[String(i.path[0])];
    }
    const again = m.safeParse(copy);
    return again.success ? again.data : undefined;
  };
}
