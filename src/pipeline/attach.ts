import { resolve } from 'node:path';
import { PipelineNotFoundError } from '../errors.js';
import { redactError } from '../config/redact.js';
import { WorkingDir } from '../storage/working-dir.js';
import { listPipelineNames, workingDirOf } from '../storage/pipelines-dir.js';
import { checkLocalFileExists } from './checks.js';
import { defaultPipelinesDir, type PipelineOptions } from './options.js';
import { Pipeline } from './pipeline.js';

/** Re-opens an existing pipeline's working dir; fails clearly if there is none. */
export function attach(options: {
  pipelineName: string;
  pipelinesDir?: string;
  destination?: PipelineOptions['destination'];
  /** With restoreFromDestination: the dataset, since a broken state.json cannot tell it. */
  datasetName?: string;
  /** A broken state.json or schema is moved aside and restored from the destination on the next run. */
  restoreFromDestination?: boolean;
}): Pipeline {
  try {
    const dir = resolve(options.pipelinesDir ?? defaultPipelinesDir());
    const wd = new WorkingDir(workingDirOf(dir, options.pipelineName));
    if (!wd.exists()) {
      const known = listPipelineNames(dir);
      const err = new PipelineNotFoundError(options.pipelineName, dir);
      if (known.length) err.message += ` (pipelines there: ${known.join(', ')})`;
      throw err;
    }
    const { pipelineName, destination, restoreFromDestination } = options;
    if (restoreFromDestination) {
      const restored = new Pipeline({ pipelineName, pipelinesDir: dir, destination, datasetName: options.datasetName, restoreFromDestination });
      restored.activate();
      return restored;
    }
    const state = wd.readState(pipelineName, '');
    const p = new Pipeline({ pipelineName, pipelinesDir: dir, datasetName: options.datasetName ?? state.dataset_name, destination, attached: state });
    checkLocalFileExists(p.loadContext(), state);
    p.activate();
    return p;
  } catch (e) {
    throw redactError(e);
  }
}
