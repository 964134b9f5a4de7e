import { createHash } from 'node:crypto';

/** dlt's `digest128`: base64 of 15 bytes of SHAKE-128 over the UTF-8 text (20 characters). */
export function digest128(value: string, bytes = 15): string {
  return createHash('shake128', { outputLength: bytes }).update(value, 'utf8').digest('base64');
}
