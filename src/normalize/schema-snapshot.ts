import type { Schema } from '../schema/schema.js';
import type { RefreshPlan } from '../storage/package-state.js';
import type { WorkingDir } from '../storage/working-dir.js';

/**
 * Folds an extract-time schema snapshot into the newest normalized schema: table hints
 * and new hint columns come from the snapshot, types decided earlier stay, tables the
 * package's refresh drops go.
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
        const { dataType: _d, nullable: _nu, incomplete: _i, ...hints } = c;
        void _d; void _nu; void _i;
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
