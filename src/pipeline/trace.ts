import { existsSync, readFileSync } from 'node:fs';
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

export function readTrace(path: string): PipelineTrace | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PipelineTrace;
  } catch {
    return undefined;
  }
}

export function writeTrace(path: string, trace: PipelineTrace): void {
  writeJsonFileAtomic(path, trace);
}
