/**
 * The values a paginator reads from an answer to know whether to go on (a total, a "has
 * more" flag), read as dlt 1.31 reads them: a value the paginator was told to read must be
 * there and make sense, else a typed error that says what to set, never a guess that
 * pages on forever.
 */
import { stringifyExact } from '../../../common/big-ints.js';
import { InvalidOptionsError } from '../../../errors.js';
import { findValue } from '../jsonpath.js';
import type { PageResponse } from '../types.js';

/** The API answered without the total the paginator was told to read. */
export class PaginatorTotalMissingError extends InvalidOptionsError {
  constructor(kind: string, totalPath: string, url: string) {
    super(
      `${kind} paginator`,
      `the answer from ${url} has no total at "${totalPath}"; set totalPath to where the API puts it, or totalPath: null to stop at the first empty page (or maximum${kind === 'offset' ? 'Offset' : 'Page'})`,
    );
  }
}

/** A total or "has more" value the paginator cannot read (not a whole number, not a boolean, missing). */
export class PaginatorAnswerError extends InvalidOptionsError {
  constructor(kind: string, path: string, url: string, what: string, advice: string) {
    super(`${kind} paginator`, `the answer from ${url} ${what} at "${path}"; ${advice}`);
  }
}

/** The total at `path`, as Python's int() takes it: a number (truncated), a whole-number string or a boolean. */
export function readTotal(kind: string, path: string, response: PageResponse): number {
  const v = findValue(path, response.body);
  if (v === undefined || v === null) throw new PaginatorTotalMissingError(kind, path, stripQuery(response.url));
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'bigint') return Number(v); // past 2^53: no page count gets there
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return Number(v);
  throw new PaginatorAnswerError(kind, path, stripQuery(response.url), `holds ${stringifyExact(v)}, not a whole number,`, 'point totalPath at the number of items or pages, or set totalPath: null');
}

const TRUE_WORDS = new Set(['yes', 'true', 't', 'y', '1']);
const FALSE_WORDS = new Set(['no', 'false', 'f', 'n', '0']);

/** The "has more" flag at `path`: a boolean, or a string dlt's str2bool reads (`"false"`, `"yes"`, ...). */
export function readHasMore(kind: string, path: string, response: PageResponse): boolean {
  const v = findValue(path, response.body);
  const url = stripQuery(response.url);
  if (v === undefined || v === null) throw new PaginatorAnswerError(kind, path, url, 'has no "has more" value', 'set hasMorePath to where the API says whether more pages follow');
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const w = v.toLowerCase();
    if (TRUE_WORDS.has(w)) return true;
    if (FALSE_WORDS.has(w)) return false;
  }
  throw new PaginatorAnswerError(kind, path, url, `holds ${stringifyExact(v)}, not a boolean,`, 'point hasMorePath at a true/false value');
}

export function stripQuery(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : url.slice(0, i);
}
