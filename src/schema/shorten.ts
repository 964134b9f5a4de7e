import { createHash } from 'node:crypto';

/*
 * dlt's identifier shortening (NamingConvention.shorten_identifier), so a name that is too
 * long for a destination (PostgreSQL: 63) becomes the same shortened name dlt makes:
 *
 * - a name within the limit is returned unchanged;
 * - otherwise a 6-character tag is computed from the *original* identifier: shake_128 of its
 *   UTF-8 bytes, 4 bytes of digest (dlt sizes it for a 0.001 collision probability), base64
 *   without padding, `/` -> `a`, `+` -> `b`, lower-cased;
 * - the name keeps its head and tail around the tag: head = ceil((max - 6) / 2) characters,
 *   tail = floor((max - 6) / 2) characters, so the result is exactly `max` long.
 *
 * Lengths are counted in characters as dlt counts them; normalized names are ASCII, so
 * characters and bytes agree (PostgreSQL's limit is in bytes).
 */

/** dlt's `_DEFAULT_COLLISION_PROB`. */
const COLLISION_PROB = 0.001;
/** Digest bytes for the tag: int((2 + 1) * log2(1 / p) // 8) + 1 = 4 for p = 0.001. */
const TAG_BYTES = Math.floor(Math.floor((3 * Math.log2(1 / COLLISION_PROB)) / 8) + 1);

/** The tag dlt appends to a shortened identifier (6 lower-case base64 characters). */
export function identifierTag(identifier: string): string {
  const digest = createHash('shake128', { outputLength: TAG_BYTES }).update(identifier, 'utf8').digest();
  return digest.toString('base64').replace(/=+$/, '').replaceAll('/', 'a').replaceAll('+', 'b').toLowerCase();
}

/**
 * `normalized` cut to `maxLength` with a tag computed from `identifier` (the name before
 * normalization; dlt passes the raw key, or the joined path for nested names). Unchanged
 * when it fits or when there is no limit.
 */
export function shortenIdentifier(normalized: string, identifier: string = normalized, maxLength?: number): string {
  if (!maxLength || normalized.length <= maxLength) return normalized;
  const tag = identifierTag(identifier);
  if (tag.length > maxLength) throw new Error(`maximum identifier length ${maxLength} is shorter than the ${tag.length}-character tag`);
  const rest = maxLength - tag.length;
  const head = Math.floor(rest / 2) + (rest % 2);
  const tail = Math.floor(rest / 2);
  return normalized.slice(0, head) + tag + normalized.slice(normalized.length - tail);
}
