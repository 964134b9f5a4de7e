import { normalizeColumnName, normalizeTableName } from '../schema/naming.js';
import { shortenIdentifier } from '../schema/shorten.js';

/** dlt's naming convention (snake_case) as the pipeline applies it, bounded by the destination's identifier length. */
export interface NamingConvention {
  /** The longest identifier the destination takes (undefined: no limit). */
  readonly maxLength?: number;
  /** A column name as haul makes it from a key (`userName` -> `user_name`). */
  normalizeIdentifier(identifier: string): string;
  /** A table name as haul makes it from a resource or table name. */
  normalizeTableIdentifier(identifier: string): string;
  /** Shortens an already normalized identifier to `maxLength` as dlt does (head + hash tag + tail). */
  shortenIdentifier(normalized: string, identifier?: string): string;
}

export function namingConvention(maxLength?: number): NamingConvention {
  return {
    maxLength,
    normalizeIdentifier: (s) => normalizeColumnName(s, maxLength),
    normalizeTableIdentifier: (s) => normalizeTableName(s, maxLength),
    shortenIdentifier: (normalized, identifier = normalized) => shortenIdentifier(normalized, identifier, maxLength),
  };
}
