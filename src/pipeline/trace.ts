import { existsSync, readFileSync } from 'node:fs';
import { HaulError } from '../errors.js';
import { writeJsonFileAtomic } from '../common/json-file.js';

export interface StepTrace {
  step: 'sync' | 'extract' | 'normalize' | 'load' | 'drop';
  startedAt: string;
  finishedAt: string;
  loadIds: string[];
  rowCounts?: Record<string, number>;
  error?: string;
}

/** The last `run()` (or single step): its steps, timings, row counts and error. */
export interface PipelineTrace {
  pipelineName: string;
  startedAt: string;
  finishedAt?: string;
  steps: StepTrace[];
}

/** The last trace, undefined when there is none yet; a broken file is an error that says so. */
export function readTrace(path: string, pipelineName: string): PipelineTrace | undefined {
  const corrupt = (why: string) => new HaulError('CorruptTrace', `pipeline "${pipelineName}": ${path} is broken (${why}); delete it, the next run writes a new one`);
  if (!existsSync(path)) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw corrupt(`not valid JSON: ${(e as Error).message}`);
  }
  const t = doc as Partial<PipelineTrace> | null;
  if (!t || typeof t !== 'object' || !Array.isArray(t.steps) || typeof t.startedAt !== 'string') {
    throw corrupt('not a trace: steps or startedAt missing');
  }
  return t as PipelineTrace;
}

export function writeTrace(path: string, trace: PipelineTrace): void {
  writeJsonFileAtomic(path, trace);
}
