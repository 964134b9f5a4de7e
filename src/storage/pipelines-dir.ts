import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_FILE } from './layout.js';

/** A pipeline's working dir in a pipelines dir. */
export function workingDirOf(pipelinesDir: string, pipelineName: string): string {
  return join(pipelinesDir, pipelineName);
}

/** Where a pipeline's committed state lives (it exists once the pipeline was created). */
export function statePathOf(pipelinesDir: string, pipelineName: string): string {
  return join(workingDirOf(pipelinesDir, pipelineName), STATE_FILE);
}

/** Names of the folders in the pipelines dir that hold a pipeline (a state.json), sorted. */
export function listPipelineNames(pipelinesDir: string): string[] {
  if (!existsSync(pipelinesDir)) return [];
  return readdirSync(pipelinesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(statePathOf(pipelinesDir, d.name)))
    .map((d) => d.name)
    .sort();
}
