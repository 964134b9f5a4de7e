/**
 * Extract checkpoints: how a long extract records progress so a retried attempt of the same
 * load continues instead of starting over. A checkpoint names the job files complete so far
 * (storage keeps them in the package's temp folder), the resources done, the one in progress
 * (items, yields, incremental progress and the resume token the resource offered) and the
 * pipeline state as of then. Written every N items or M seconds when a resource offers a
 * token (`ctx.checkpoint(token)`), and after every resource.
 */
import { faultPoint } from '../common/faults.js';
import type { CheckpointPolicy, CheckpointSummary } from '../progress/step-options.js';
import { resourceStateOf, type PipelineState, type ResourceState, type SourceState } from '../state/state.js';
import type { PackageCheckpoint } from '../storage/checkpoint.js';
import type { IncrementalProgress } from './incremental.js';

export type { CheckpointPolicy, CheckpointSummary };

/** Every 10,000 items or 10 s, whichever comes first (at a token the resource offers). */
export const DEFAULT_CHECKPOINT_POLICY: Required<CheckpointPolicy> = { everyItems: 10_000, everyMs: 10_000 };

export interface ExtractedResource {
  resource: string;
  table: string;
  items: number;
  files: string[];
}

/** The resource being extracted when the checkpoint was taken. */
export interface ResourceInProgress extends ExtractedResource {
  /** Yields counted against addLimit so far. */
  yields: number;
  /** The token the resource offered; it gets it back as `ctx.resumeFrom`. */
  resumeFrom: unknown;
  incremental?: IncrementalProgress;
}

/** What extract keeps in a checkpoint (the `progress` of a PackageCheckpoint). */
export interface ExtractProgressSnapshot {
  sourceName: string;
  /** The selected resources, in order: a checkpoint of another selection is not resumed. */
  resources: string[];
  done: ExtractedResource[];
  current?: ResourceInProgress;
  /** Other resources in progress at the same time (parallelized ones), each at its own last position. */
  running?: ResourceInProgress[];
  /** The pipeline state as of the checkpoint (resources done committed, the current one as bound). */
  state: PipelineState;
  /** The source's state as the extract began (`sourceStateAtStart()`). */
  startSourceState?: SourceState;
}

/** Every resource a checkpoint holds in progress (`current` first). */
export function inProgress(p: ExtractProgressSnapshot): ResourceInProgress[] {
  return [...(p.current ? [p.current] : []), ...(p.running ?? [])];
}

export function isExtractProgress(v: unknown): v is ExtractProgressSnapshot {
  const p = v as Partial<ExtractProgressSnapshot> | null;
  return typeof p === 'object' && p !== null && typeof p.sourceName === 'string' && Array.isArray(p.resources) && Array.isArray(p.done) && typeof p.state === 'object' && p.state !== null;
}

/** Writes checkpoints through the package builder and tells the runner (heartbeat) what it wrote. */
export class ExtractCheckpoints {
  readonly policy: Required<CheckpointPolicy>;
  private seq: number;

  constructor(
    private readonly builder: { writeCheckpoint(cp: PackageCheckpoint<ExtractProgressSnapshot>): void },
    policy: CheckpointPolicy | undefined,
    startSeq: number,
    private readonly onCheckpoint?: (c: CheckpointSummary) => void,
  ) {
    this.policy = { ...DEFAULT_CHECKPOINT_POLICY, ...policy };
    this.seq = startSeq;
  }

  /** The number of the last checkpoint on disk (0: none yet). */
  get last(): number {
    return this.seq;
  }

  /** Commits one checkpoint; every file it names must be closed. */
  write(progress: ExtractProgressSnapshot): void {
    const seq = ++this.seq;
    const all = [...progress.done, ...inProgress(progress)];
    const jobFiles = all.flatMap((r) => r.files);
    this.builder.writeCheckpoint({ seq, createdAt: new Date().toISOString(), jobFiles, progress });
    this.onCheckpoint?.(summarize(seq, progress, jobFiles.length));
    faultPoint('extract:after-checkpoint');
  }
}

/** The small part of a checkpoint a runner may show or heartbeat: ids, counts, the resume token. */
export function summarize(seq: number, progress: ExtractProgressSnapshot, files: number): CheckpointSummary {
  const items: Record<string, number> = {};
  for (const r of [...progress.done, ...inProgress(progress)]) items[r.table] = (items[r.table] ?? 0) + r.items;
  const out: CheckpointSummary = { seq, items, files, resourcesDone: progress.done.map((r) => r.resource) };
  if (progress.current) out.current = { resource: progress.current.resource, resumeFrom: progress.current.resumeFrom };
  return out;
}

/**
 * The resources of one extract in progress, and the checkpoint that records them. Run one
 * at a time, a checkpoint holds the resource in progress and the live state, as it always
 * did. Run at the same time (parallelized), each resource records its own position when it
 * offers one; a checkpoint then holds every resource at its last recorded position (one
 * that recorded none starts over on resume) and the state with each of their resource
 * states as of that position. The source state is taken as of the checkpoint: parallelized
 * resources should keep what they need to resume in their own resource state.
 */
export class ProgressBook {
  private readonly open = new Map<string, { position?: ResourceInProgress; state?: ResourceState }>();
  /** Checkpoints taken are committed in order, each once the files it names are on disk. */
  private written: Promise<void> = Promise.resolve();

  constructor(
    private readonly checkpoints: ExtractCheckpoints,
    private readonly run: { sourceName: string; resources: string[]; done: ExtractedResource[]; state: PipelineState; startSourceState: SourceState },
    /** Resources may be in progress at the same time: keep each one's state with its position. */
    private readonly concurrent: boolean,
  ) {}

  /**
   * A resource starts, or continues at `position` (from the checkpoint resumed). Until it
   * records a position a resume starts it over from `resourceState` as now.
   */
  begin(resource: string, resourceState: ResourceState, position?: ResourceInProgress): void {
    this.open.set(resource, { position, state: this.concurrent ? structuredClone(resourceState) : undefined });
  }

  /**
   * A resource offers its position: the checkpoint is taken now and committed once
   * `onDisk` (the files it names fsynced and closed) resolves, after the ones before it.
   */
  position(current: ResourceInProgress, resourceState: ResourceState, onDisk: Promise<unknown>): void {
    this.open.set(current.resource, { position: current, state: this.concurrent ? structuredClone(resourceState) : undefined });
    const progress = this.snapshot(current.resource);
    this.chain(async () => {
      await onDisk;
      this.checkpoints.write(progress);
    });
  }

  /** A resource is done (already in `done`, its files on disk): commits a checkpoint, a retry starts after it. */
  async finish(resource: string): Promise<void> {
    this.open.delete(resource);
    const progress = this.snapshot();
    this.chain(async () => this.checkpoints.write(progress));
    await this.written;
  }

  /** Resolves once every checkpoint taken so far is committed; rejects with the first failure. */
  settled(): Promise<void> {
    return this.written;
  }

  private chain(step: () => Promise<void>): void {
    this.written = this.written.then(step);
    this.written.catch(() => undefined); // reported by finish/settled; never unhandled meanwhile
  }

  /** The checkpoint as of now (a copy: extract goes on changing state and `done`). */
  private snapshot(from?: string): ExtractProgressSnapshot {
    const positions = [...this.open].filter(([, e]) => e.position).sort(([a], [b]) => Number(b === from) - Number(a === from)).map(([, e]) => e.position!);
    const { sourceName, resources, done, startSourceState } = this.run;
    let state = this.run.state;
    if (this.concurrent && this.open.size > 0) {
      state = structuredClone(state);
      for (const [name, e] of this.open) {
        const target = resourceStateOf(state, sourceName, name);
        for (const k of Object.keys(target)) delete target[k];
        Object.assign(target, structuredClone(e.state));
      }
    }
    const [current, ...running] = positions;
    return structuredClone({ sourceName, resources, done, current, ...(running.length > 0 && { running }), state, startSourceState });
  }
}
