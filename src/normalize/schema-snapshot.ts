import type { Schema } from '../schema/schema.js';
import type { ColumnSchema } from '../schema/types.js';
import type { RefreshPlan } from '../storage/package-state.js';
import type { WorkingDir } from '../storage/working-dir.js';

/**
 * Folds an extract-time schema snapshot into the newest normalized schema: table hints
 * and new hint columns come from the snapshot, types decided earlier stay (with their
 * precision, scale and zone), tables the package's refresh drops go.
 */
export function mergeSchemaSnapshot(base: Schema, snapshot: Schema, refresh?: RefreshPlan): Schema {
  if (refresh) base.dropTables(refresh.dropTables);
  for (const t of Object.values(snapshot.tables)) {
    const target = base.ensureTable(t.name, { parent: t.parent });
    const { columns, name: _n, ...tableHints } = t;
    void _n;
    Object.assign(target, tableHints);
    for (const c of Object.values(columns)) {
      const existing = target.columns[c.name];
      if (!existing) target.columns[c.name] = { ...c };
      else if (existing.incomplete && !c.incomplete) target.columns[c.name] = { ...c };
      else {
        // the type (with its precision, scale and zone) is the table's already: a new hint
        // cannot change it (the load would cast values to a type the column does not have)
        const { dataType: _d, nullable: _nu, incomplete: _i, precision: _p, scale: _s, timezone: _t, ...hints } = c;
        void _d; void _nu; void _i; void _p; void _s; void _t;
        Object.assign(existing, hints);
      }
    }
    replaceCompoundProps(target.columns, columns);
  }
  // the snapshot's settings are the newest extract's whole settings (a source's contract taken off is gone)
  base.settings = { ...snapshot.settings };
  return base;
}

/**
 * The schema normalize starts a package from: what earlier packages decided (types,
 * variants), then the package's own hints (`snapshot`, changed in place when nothing came before).
 */
export function packageStartSchema(wd: WorkingDir, snapshot: Schema, refresh?: RefreshPlan): Schema {
  const base = wd.effectiveSchema(snapshot.name, { skipExtracted: true });
  return base ? mergeSchemaSnapshot(base.clone(), snapshot, refresh) : snapshot;
}

/** Hints that name a set of columns together: a new set replaces the old one (dlt's merge_compound_props=False). */
const COMPOUND_PROPS = ['primaryKey', 'mergeKey', 'partition', 'cluster'] as const;

/**
 * A key the snapshot declares replaces the table's: a column that had the hint and lacks it
 * in the snapshot loses it (a changed primaryKey would otherwise become a compound key with
 * the old one, and merge would keep rows twice). A snapshot without the hint leaves it.
 */
function replaceCompoundProps(target: Record<string, ColumnSchema>, snapshot: Record<string, ColumnSchema>): void {
  for (const prop of COMPOUND_PROPS) {
    if (!Object.values(snapshot).some((c) => c[prop])) continue;
    for (const c of Object.values(target)) if (c[prop] && !snapshot[c.name]?.[prop]) delete c[prop];
  }
}
