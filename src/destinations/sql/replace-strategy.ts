import { z } from 'zod';
import { config } from '../../config/index.js';
import { REPLACE_STRATEGIES, type ReplaceStrategy } from '../../schema/types.js';

/**
 * dlt's `destination.replace_strategy` (also `destination.<name>.replace_strategy`). A value
 * that is not one of the strategies is a config error naming the key, raised when a run starts
 * as well as when a chain loads, so a typo fails before anything is extracted.
 */
export function configuredReplaceStrategy(destinationName: string): ReplaceStrategy {
  return config.getOptional(`destination.${destinationName}.replace_strategy`, z.enum(REPLACE_STRATEGIES)) ?? 'truncate-and-insert';
}
