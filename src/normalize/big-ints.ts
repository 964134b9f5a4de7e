import { randomBytes } from 'node:crypto';

/*
 * Integers beyond 2^53 in item files are read exactly by ../common/big-ints.ts (as JS
 * bigints); rows holding one (in a json value) are written with `stringifyRow`.
 */

/** JSON.stringify for a row that may hold bigints (inside json values): written as exact integers. */
export function stringifyRow(row: unknown): string {
  let nonce = '';
  const json = JSON.stringify(row, (_k, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    nonce ||= randomBytes(6).toString('hex');
    return `${nonce}:${v.toString()}`;
  });
  if (!nonce) return json;
  return json.replace(new RegExp(`"${nonce}:(-?\\d+)"`, 'g'), '$1');
}
