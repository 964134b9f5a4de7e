const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/**
 * A 64-bit (or wider) integer as haul hands it on: a number while it is exact as one, the
 * bigint beyond 2^53. What the drivers that read BIGINT as bigint (DuckDB, SQLite) share.
 */
export function exactInteger(v: bigint): number | bigint {
  return v <= MAX_SAFE && v >= MIN_SAFE ? Number(v) : v;
}
