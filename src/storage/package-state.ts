import type { LoaderFileFormat } from '../schema/types.js';
import type { PipelineState } from '../state/state.js';

/** What the destination must do before a package's jobs run (refresh), applied once. */
export interface RefreshPlan {
  mode: 'drop_sources' | 'drop_resources' | 'drop_data';
  dropTables: string[];
  truncateTables: string[];
}

/** `package_state.json`: the small summary that travels with a load package. */
export interface PackageState {
  loadId: string;
  createdAt: string;
  schemaName: string;
  sourceName: string;
  /** The pipeline state to commit locally once this package has loaded (null: unchanged). */
  pipelineState: PipelineState | null;
  /** Root tables extracted in this package (a replace with no rows still truncates). */
  chainRoots: string[];
  /** Items per resource table from extract. */
  itemCounts: Record<string, number>;
  /** Rows per table from normalize. */
  rowCounts?: Record<string, number>;
  /** From normalize: no job file line is longer (bytes). Absent in older packages. */
  largestRowBytes?: number;
  refresh?: RefreshPlan;
  /** The job file format the run asked for (normalize writes it; absent: the destination's preferred). */
  loaderFileFormat?: LoaderFileFormat;
  refreshApplied?: boolean;
  normalizedAt?: string;
}
