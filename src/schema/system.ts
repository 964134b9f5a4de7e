/** Names dlt gives its system columns and tables; haul keeps them so datasets look the same. */
export const C_DLT_ID = '_dlt_id';
export const C_DLT_LOAD_ID = '_dlt_load_id';
export const C_DLT_PARENT_ID = '_dlt_parent_id';
export const C_DLT_LIST_IDX = '_dlt_list_idx';
export const C_DLT_ROOT_ID = '_dlt_root_id';

export const LOADS_TABLE = '_dlt_loads';
export const VERSION_TABLE = '_dlt_version';
export const STATE_TABLE = '_dlt_pipeline_state';
/** haul's own marker table: one row per job file whose rows committed (exactly-once loads). */
export const JOBS_TABLE = '_haul_jobs';

export const PATH_SEPARATOR = '__';
export const VARIANT_INFIX = '__v_';

export function isSystemTable(name: string): boolean {
  return name.startsWith('_dlt_') || name.startsWith('_haul_');
}

/**
 * A user table that no row has reached: it has no `_dlt_id` yet, only columns hints declared
 * (a resource's `columns` or `nestedHints`). As dlt's seen-data rule, it stays in the schema
 * and is not created at the destination. haul's own `_dlt_*`/`_haul_*` tables always are.
 */
export function isDeclaredOnlyTable(t: { name: string; columns: Record<string, { incomplete?: boolean }> }): boolean {
  if (isSystemTable(t.name)) return false;
  return t.columns[C_DLT_ID] === undefined || t.columns[C_DLT_ID].incomplete === true;
}

/** The tables of a schema the destination should have: all but those only declared (isDeclaredOnlyTable). */
export function tablesToCreate(schema: { tables: Record<string, { name: string; columns: Record<string, { incomplete?: boolean }> }> }): string[] {
  return Object.values(schema.tables).filter((t) => !isDeclaredOnlyTable(t)).map((t) => t.name);
}
