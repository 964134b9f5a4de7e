import type { Schema } from '../schema/schema.js';
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
  }
  base.settings = { ...base.settings, ...snapshot.settings };
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
