import { InvalidOptionsError } from '../errors.js';
import { camelCase } from './zod-issues.js';

/**
 * Refuses an option the callee does not take: a typo (or dlt's snake_case `chunk_size`),
 * in JSON options from the CLI or a Temporal input above all, would otherwise do nothing.
 * The error names the key and the camelCase key it may have meant, or what is taken.
 */
export function refuseUnknownOptions(options: object, allowed: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(options)) {
    if (allowed.has(key)) continue;
    const camel = camelCase(key);
    const hint = camel !== key && allowed.has(camel) ? `; did you mean ${camel}? (haul takes dlt's options in camelCase)` : `; it takes ${[...allowed].join(', ')}`;
    throw new InvalidOptionsError(where, `unknown option "${key}"${hint}`);
  }
}
