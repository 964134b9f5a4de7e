export type { ProgressEvent, ProgressCollector, ProgressStep } from './events.js';
export { LogCollector, logCollector, type LogCollectorOptions } from './log.js';
export { BarCollector, barCollector, canDrawBars, type BarCollectorOptions } from './bar.js';
export { createLogger, type LoggerOptions } from './logger.js';
export { ProgressMonitor, createMonitor, type ProgressSetting } from './monitor.js';
