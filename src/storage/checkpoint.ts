/**
 * Checkpoints of a package still being built (today: extract). A checkpoint names the job
 * files that are complete and carries what the step needs to continue after them (opaque
 * here: extract keeps the resources done, the one in progress with its resume token, and
 * the state). It lives in the package's temp folder, so it goes wherever the package goes:
 * committed -> removed; discarded -> removed with the folder.
 */

/** One checkpoint as stored (`checkpoint.json` in the temp package folder). */
export interface PackageCheckpoint<P = unknown> {
  /** 1, 2, ... within one load id. */
  seq: number;
  createdAt: string;
  /** Job files (names in new_jobs/) that are closed and complete; any other file there is discarded on resume. */
  jobFiles: string[];
  /** What the step needs to continue from here. */
  progress: P;
}

export function isPackageCheckpoint(v: unknown): v is PackageCheckpoint {
  const c = v as Partial<PackageCheckpoint> | null;
  return (
    typeof c === 'object' && c !== null && typeof c.seq === 'number' && typeof c.createdAt === 'string' &&
    Array.isArray(c.jobFiles) && c.jobFiles.every((f) => typeof f === 'string') && 'progress' in c
  );
}
