/** haul on Temporal: workers, clients, schedules, a local dev server. Import from 'haul/temporal'. */
export { createWorker, bundleHaulWorkflows, workflowsPath, type CreateWorkerOptions, type HaulWorker } from './worker.js';
export {
  connectClient,
  startPipeline,
  runPipeline,
  pipelineProgress,
  dropPipelineData,
  schedulePipeline,
  pipelineSchedule,
  pauseSchedule,
  unpauseSchedule,
  triggerSchedule,
  backfillSchedule,
  deleteSchedule,
  listSchedules,
  pipelineScheduleId,
  formatRunResult,
  workflowUiUrl,
  registerSearchAttributes,
  PipelineAlreadyRunningError,
  type PipelineHandle,
  type StartOptions,
  type SchedulePipelineInput,
} from './client.js';
export { parsePipelineRunInput, parseDropInput, pipelineWorkflowId, pipelineRunInputSchema } from './input.js';
export { startDevServer, type DevServer, type DevServerOptions } from './dev-server.js';
export { findTemporalCli } from './cli-path.js';
export { HaulPipeline, HaulDataset, HaulDestination, HaulStage, HaulLoadId, HAUL_SEARCH_ATTRIBUTES } from './search-attributes.js';
export { scrubSecrets, type SourceRegistry, type SourceEntry, type DestinationRegistry } from '../../activities/index.js';
export type * from './types.js';
export { DEFAULT_TASK_QUEUE } from './types.js';
