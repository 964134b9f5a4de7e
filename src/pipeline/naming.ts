import { normalizeColumnName, normalizeShortIdentifier, normalizeTableName } from '../schema/naming.js';
import { shortenIdentifier } from '../schema/shorten.js';

/** dlt's naming convention (snake_case) as the pipeline applies it, bounded by the destination's identifier length. */
export interface NamingConvention {
  /** The longest identifier the destination takes (undefined: no limit). */
  readonly maxLength?: number;
  /** One identifier (`userName` -> `user_name`; `a__b` -> `a_b`), as dlt's `normalize_identifier`. */
  normalizeIdentifier(identifier: string): string;
  /** A path of identifiers, as the normalizer names a key (`a__b` stays `a__b`), as dlt's `normalize_path`. */
  normalizePath(path: string): string;
  /** A table name as haul makes it from a resource or table name. */
  normalizeTableIdentifier(identifier: string): string;
  /** Shortens an already normalized identifier to `maxLength` as dlt does (head + hash tag + tail). */
  shortenIdentifier(normalized: string, identifier?: string): string;
}

export function namingConvention(maxLength?: number): NamingConvention {
  return {
    maxLength,
    normalizeIdentifier: (s) => normalizeShortIdentifier(s, maxLength),
    normalizePath: (s) => normalizeColumnName(s, maxLength),
    normalizeTableIdentifier: (s) => normalizeTableName(s, maxLength),
    shortenIdentifier: (normalized, identifier = normalized) => shortenIdentifier(normalized, identifier, maxLength),
  };
}
