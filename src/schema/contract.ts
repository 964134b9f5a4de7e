import type { ContractMode, SchemaContract, SchemaContractSettings } from './types.js';

/** A contract with every entity decided. */
export type ResolvedContract = Required<SchemaContractSettings>;

export const EVOLVE: ResolvedContract = { tables: 'evolve', columns: 'evolve', dataType: 'evolve' };

function expand(c: SchemaContract | undefined): SchemaContractSettings {
  if (c === undefined) return {};
  if (typeof c === 'string') return { tables: c, columns: c, dataType: c };
  return c;
}

/**
 * The contract that governs a root table: each entity from the table's own contract, else
 * from the schema settings (the source's), else `evolve`, as dlt resolves it.
 */
export function resolveContract(table: SchemaContract | undefined, settings: SchemaContract | undefined): ResolvedContract {
  const t = expand(table);
  const s = expand(settings);
  const pick = (k: keyof SchemaContractSettings): ContractMode => t[k] ?? s[k] ?? 'evolve';
  return { tables: pick('tables'), columns: pick('columns'), dataType: pick('dataType') };
}

export const isEvolveOnly = (c: ResolvedContract): boolean => c.tables === 'evolve' && c.columns === 'evolve' && c.dataType === 'evolve';
