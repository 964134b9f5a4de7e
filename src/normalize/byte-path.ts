import { C_DLT_ID, C_DLT_LIST_IDX, C_DLT_LOAD_ID, C_DLT_PARENT_ID, C_DLT_ROOT_ID } from '../schema/system.js';
import { ROW_ID_LENGTH, childRowIdInto, type RandomIdPool } from './ids.js';
import { nestedContentRowId } from './content-id.js';
import {
  J_BOOL,
  J_INTEGER,
  J_NUMBER,
  J_STRING,
  MAX_EXPONENT_DIGITS,
  MAX_NUMBER_CHARS,
  MAX_PLAIN_INT_CHARS,
  isCanonicalTimestampAt,
  isPlainDecimalAt,
  keepsAsIs,
  parseTimestamp,
} from './values.js';
import { NEST_EXPAND, NEST_JSON, keyHash, type Plan, type Shape, type TableState } from './plan.js';
import { NL, grow, reserve } from './table-output.js';
import { isBinaryTagAt, skipValue, skipWs, validEscape } from './json-scan.js';

/*
 * The byte path: a scanner that walks a raw JSON line and copies values straight into the
 * output rows (no JSON.parse, no objects, no JSON.stringify), using the decisions the object
 * path cached for each key (Plans). It takes no decision itself and coerces nothing: a value
 * is copied only when values.ts says its column keeps it as is (keepsAsIs, canonical
 * timestamps). Anything else (a new key, a value needing coercion or a variant, escapes in
 * a key, a list of lists, ...) rolls back what it wrote for the line, and the line goes to
 * the object path. Its scanner state belongs to it alone; the object path only gets the
 * root row id the byte path drew for the line it gave up on (takeRootId).
 */

// bytes (module-local: the scanner compares them in its innermost loops)
const QUOTE = 34;
const BSLASH = 92;
const COLON = 58;
const COMMA = 44;
const LBRACE = 123;
const RBRACE = 125;
const LBRACK = 91;
const RBRACK = 93;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const D0 = 48;
const D9 = 57;

const ROOT_ID_KEY = Buffer.from(`"${C_DLT_ROOT_ID}":"`);
const PARENT_ID_KEY = Buffer.from(`"${C_DLT_PARENT_ID}":"`);
const ID_KEY = Buffer.from(`,"${C_DLT_ID}":"`);

export class BytePath {
  /** `"_dlt_load_id":"<id>","_dlt_id":"` */
  private readonly rootTail: Buffer;
  private b: Buffer = Buffer.alloc(0);
  private p = 0;
  private end = 0;
  private objStamp = 0;
  private lineStamp = 0;
  private readonly touched: TableState[] = [];
  /** Root row id drawn by a line this path gave up on. */
  private pendingRootId: string | undefined;
  /** Row ids of the rows being scanned, by list depth (0 = root). */
  private readonly idStack: Buffer[] = [];
  /** Link-column templates by list depth (see linkTemplate). */
  private readonly templates: Buffer[] = [];

  constructor(
    private readonly ids: RandomIdPool,
    loadId: string,
    /** false: every line goes to the object path (tests). */
    private readonly enabled: boolean,
  ) {
    this.rootTail = Buffer.from(`"${C_DLT_LOAD_ID}":${JSON.stringify(loadId)},"${C_DLT_ID}":"`);
  }

  /** The root row id drawn for the line this path just gave up on, if any (taken once). */
  takeRootId(): string | undefined {
    const id = this.pendingRootId;
    this.pendingRootId = undefined;
    return id;
  }

  /**
   * Tries the line b[s, e) on the byte path. Returns false (having rolled back everything it
   * wrote) when the line needs the object path.
   */
  line(root: TableState, sh: Shape, b: Buffer, s: number, e: number, rootId?: string): boolean {
    this.b = b;
    this.end = e;
    this.lineStamp++;
    this.touched.length = 0;
    let p = s;
    while (p < e && b[p] <= 32) p++;
    if (b[p] !== LBRACE || !root.systemReady || !this.enabled) return false;
    const id = this.idAt(0);
    if (rootId === undefined) this.ids.nextInto(id, 0);
    else id.write(rootId, 0, 'latin1');
    this.touch(root);
    reserve(root, 1);
    root.buf[root.len++] = LBRACE;
    this.p = p + 1;
    const first = this.fastObject(sh, root, 1, 0);
    p = this.p;
    while (p < e && b[p] <= 32) p++;
    if (first < 0 || p !== e) {
      // the object path takes this line over, with the same row id
      this.pendingRootId = id.toString('latin1');
      return this.rollback();
    }
    // ,"_dlt_load_id":"...","_dlt_id":"<id>"}\n
    const tail = this.rootTail;
    reserve(root, tail.length + ROW_ID_LENGTH + 4);
    const out = root.buf;
    let o = root.len;
    if (first === 0) out[o++] = COMMA;
    out.set(tail, o);
    o += tail.length;
    for (let i = 0; i < ROW_ID_LENGTH; i++) out[o++] = id[i];
    out[o++] = QUOTE;
    out[o++] = RBRACE;
    out[o++] = NL;
    root.len = o;
    root.rows++;
    return true;
  }

  private idAt(depth: number): Buffer {
    let id = this.idStack[depth];
    if (id === undefined) id = this.idStack[depth] = Buffer.alloc(ROW_ID_LENGTH);
    return id;
  }

  /** Marks where the table's output stood before this line (once per line). */
  private touch(ts: TableState): void {
    if (ts.lineStamp !== this.lineStamp) {
      ts.lineStamp = this.lineStamp;
      ts.markLen = ts.len;
      ts.markRows = ts.rows;
      this.touched.push(ts);
    }
  }

  private rollback(): false {
    for (const ts of this.touched) {
      ts.len = ts.markLen;
      ts.rows = ts.markRows;
    }
    this.touched.length = 0;
    return false;
  }

  /**
   * Scans an object whose '{' was consumed (this.p after it), writing its fields into the
   * current row of `ts`. `first`: 1 while the row has no field yet. Returns the new `first`,
   * or -1 to bail out.
   */
  private fastObject(sh: Shape, ts: TableState, first: number, depth: number): number {
    const b = this.b;
    const end = this.end;
    const stamp = ++this.objStamp;
    let p = skipWs(b, this.p, end);
    if (b[p] === RBRACE) {
      this.p = p + 1;
      return first;
    }
    const order = sh.order;
    let i = 0;
    for (;;) {
      if (b[p] !== QUOTE) return -1;
      // key: predicted from the previous object's key order, else looked up by hash
      let plan = order[i];
      let matched = false;
      if (plan !== undefined) {
        // `"key":` in one go (JSON without whitespace, as extract writes it)
        const k = plan.keyColon;
        const n = k.length;
        if (p + n <= end) {
          let j = 1;
          while (j < n && b[p + j] === k[j]) j++;
          if (j === n) {
            matched = true;
            p += n;
          }
        }
      }
      if (!matched) {
        let q = p + 1;
        while (q < end && b[q] !== QUOTE) {
          if (b[q] === BSLASH) return -1;
          q++;
        }
        if (q >= end) return -1;
        const found = sh.byHash.get(keyHash(b, p + 1, q));
        if (found === undefined) return -1;
        const k = found.keyJson;
        if (k.length !== q + 1 - p) return -1;
        for (let j = 1; j < k.length - 1; j++) if (b[p + j] !== k[j]) return -1;
        p = skipWs(b, q + 1, end);
        if (b[p] !== COLON) return -1;
        p++;
        order[i] = plan = found;
      }
      i++;
      if (plan.stamp === stamp || plan.slow) return -1;
      plan.stamp = stamp;
      this.p = b[p] > 32 ? p : skipWs(b, p, end);
      const r = this.fastValue(plan, ts, first, depth);
      if (r < 0) return -1;
      if (r === 0) first = 0;
      p = this.p;
      let c = b[p];
      if (c <= 32) {
        p = skipWs(b, p, end);
        c = b[p];
      }
      if (c === COMMA) {
        p++;
        if (b[p] <= 32) p = skipWs(b, p, end);
        continue;
      }
      if (c === RBRACE) {
        this.p = p + 1;
        return first;
      }
      return -1;
    }
  }

  /**
   * Scans the value at this.p for `plan`. Returns 0 when it wrote a field into the row, 1
   * when it wrote nothing (null, a list, an empty dict), -1 to bail out.
   */
  private fastValue(plan: Plan, ts: TableState, first: number, depth: number): number {
    const b = this.b;
    const end = this.end;
    const p = this.p;
    const c = b[p];
    if (c === QUOTE) {
      let q = p + 1;
      let esc = false;
      for (;;) {
        if (q >= end) return -1;
        const x = b[q];
        // most bytes are plain: above the backslash, or between the quote and the backslash
        if (x > BSLASH || (x > QUOTE && x < BSLASH)) {
          q++;
          continue;
        }
        if (x === QUOTE) break;
        if (x === BSLASH) {
          if (!validEscape(b, q, end)) return -1;
          esc = true;
          q += b[q + 1] === 117 ? 6 : 2;
          continue;
        }
        if (x < 32) return -1;
        q++;
      }
      const col = plan.col;
      if (col === undefined) return -1;
      const t = col.dataType;
      if (keepsAsIs(t, J_STRING) || (!esc && ((t === 'timestamp' && isCanonicalTimestampAt(b, p + 1, q)) || (t === 'decimal' && isPlainDecimalAt(b, p + 1, q))))) {
        this.writeField(ts, plan, first, p, q + 1);
        this.p = q + 1;
        return 0;
      }
      if (t === 'timestamp' && !esc && q - p < 40) {
        // another ISO shape ('...Z' without millis, '+02:00', a space): convert to canonical
        const r = parseTimestamp(b.toString('latin1', p + 1, q), false);
        if (r === undefined) return -1;
        this.writeAsciiField(ts, plan, first, r);
        this.p = q + 1;
        return 0;
      }
      return -1;
    }
    if (c === MINUS || (c >= D0 && c <= D9)) {
      let q = p;
      if (b[q] === MINUS) q++;
      if (b[q] === D0) q++;
      else if (b[q] >= 49 && b[q] <= D9) {
        while (q < end && b[q] >= D0 && b[q] <= D9) q++;
      } else return -1;
      let isInt = true;
      /** A nonzero digit after the point: the value is not an integer, whatever its column. */
      let fraction = false;
      if (b[q] === DOT) {
        isInt = false;
        q++;
        if (!(b[q] >= D0 && b[q] <= D9)) return -1;
        while (q < end && b[q] >= D0 && b[q] <= D9) if (b[q++] !== D0) fraction = true;
      }
      if (b[q] === 101 || b[q] === 69) {
        // an exponent: fine for doubles while it stays small (1e400 would be Infinity)
        isInt = false;
        q++;
        if (b[q] === PLUS || b[q] === MINUS) q++;
        const e0 = q;
        while (q < end && b[q] >= D0 && b[q] <= D9) q++;
        if (q === e0 || q - e0 > MAX_EXPONENT_DIGITS || q - p > MAX_NUMBER_CHARS) return -1;
      }
      const col = plan.col;
      if (col === undefined) return -1;
      if (keepsAsIs(col.dataType, isInt && q - p <= MAX_PLAIN_INT_CHARS ? J_INTEGER : J_NUMBER)) {
        this.writeField(ts, plan, first, p, q);
        this.p = q;
        return 0;
      }
      // A fraction in an integer column goes to the double variant the object path made
      // for it (an integer column keeps its type; see object-path.ts putSlow). Without an
      // exponent, the digits are what the object path would write.
      if (fraction && b[q] !== 101 && b[q] !== 69 && col.dataType === 'bigint') {
        const key = this.doubleVariantKey(plan);
        if (key !== undefined) {
          this.writeKeyed(ts, key, first, p, q);
          this.p = q;
          return 0;
        }
      }
      return -1;
    }
    if (c === 116 /* t */ || c === 102 /* f */) {
      const n = c === 116 ? 4 : 5;
      if (p + n > end) return -1;
      if (c === 116 ? b[p + 1] !== 114 || b[p + 2] !== 117 || b[p + 3] !== 101 : b[p + 1] !== 97 || b[p + 2] !== 108 || b[p + 3] !== 115 || b[p + 4] !== 101) return -1;
      const col = plan.col;
      if (col === undefined || !keepsAsIs(col.dataType, J_BOOL)) return -1;
      this.writeField(ts, plan, first, p, p + n);
      this.p = p + n;
      return 0;
    }
    if (c === 110 /* n */) {
      if (p + 4 > end || b[p + 1] !== 117 || b[p + 2] !== 108 || b[p + 3] !== 108 || plan.notNull) return -1;
      this.p = p + 4;
      return 1;
    }
    if (c === LBRACE) {
      if (plan.nest !== NEST_EXPAND) return plan.nest === NEST_JSON ? this.fastJson(plan, ts, first) : -1;
      const sub = plan.sub;
      if (sub === undefined || isBinaryTagAt(b, p + 1, end)) return -1;
      this.p = p + 1;
      const r = this.fastObject(sub, ts, first, depth);
      return r < 0 ? -1 : r;
    }
    if (c === LBRACK) {
      if (plan.nest !== NEST_EXPAND) return plan.nest === NEST_JSON ? this.fastJson(plan, ts, first) : -1;
      this.p = p + 1;
      return this.fastList(plan, depth) ? 1 : -1;
    }
    return -1;
  }

  /** A list value: one child row per element. this.p is after '['. */
  private fastList(plan: Plan, depth: number): boolean {
    const b = this.b;
    const end = this.end;
    let p = skipWs(b, this.p, end);
    if (b[p] === RBRACK) {
      this.p = p + 1;
      return true;
    }
    const ts = plan.child;
    const sh = plan.childShape;
    if (ts === undefined || sh === undefined || !ts.systemReady) return false;
    this.touch(ts);
    const parentId = this.idAt(depth);
    const id = this.idAt(depth + 1);
    const tail = this.linkTemplate(depth, ts.withRootKey, parentId);
    let valuePlan: Plan | undefined;
    for (let idx = 0; ; idx++) {
      if (ts.dltChildIds) id.write(nestedContentRowId(parentId.toString('latin1'), ts.name, idx), 0, 'latin1');
      else childRowIdInto(parentId, ts.seed, idx, id, 0);
      reserve(ts, 1);
      ts.buf[ts.len++] = LBRACE;
      let first = 1;
      const c = b[p];
      if (c === LBRACE) {
        if (isBinaryTagAt(b, p + 1, end)) return false;
        this.p = p + 1;
        first = this.fastObject(sh, ts, 1, depth + 1);
        if (first < 0) return false;
      } else if (c === LBRACK) {
        return false;
      } else if (c === 110 /* n */) {
        // null element: a row with only the link columns
        if (p + 4 > end || b[p + 1] !== 117 || b[p + 2] !== 108 || b[p + 3] !== 108) return false;
        this.p = p + 4;
      } else {
        if (valuePlan === undefined) {
          valuePlan = sh.plans.get('value');
          if (valuePlan === undefined || valuePlan.slow) return false;
        }
        this.p = p;
        const r = this.fastValue(valuePlan, ts, 1, depth + 1);
        if (r < 0) return false;
        if (r === 0) first = 0;
      }
      this.writeChildTail(ts, first, tail, idx, id);
      p = skipWs(b, this.p, end);
      const d = b[p];
      if (d === COMMA) {
        p = skipWs(b, p + 1, end);
        continue;
      }
      if (d === RBRACK) {
        this.p = p + 1;
        return true;
      }
      return false;
    }
  }

  /**
   * The link columns every row of one list shares, as bytes:
   * `"_dlt_root_id":"<root>","_dlt_parent_id":"<parent>","_dlt_list_idx":` (root id only
   * for merge tables). Built once per list, copied with one native call per row.
   */
  private linkTemplate(depth: number, withRoot: boolean, parentId: Buffer): Buffer {
    const k = depth * 2 + (withRoot ? 1 : 0);
    let t = this.templates[k];
    if (t === undefined) {
      const idPlaceholder = 'x'.repeat(ROW_ID_LENGTH);
      t = this.templates[k] = Buffer.from(
        (withRoot ? `"${C_DLT_ROOT_ID}":"${idPlaceholder}",` : '') + `"${C_DLT_PARENT_ID}":"${idPlaceholder}","${C_DLT_LIST_IDX}":`,
      );
    }
    let o = 0;
    if (withRoot) {
      const rootId = this.idStack[0];
      o = ROOT_ID_KEY.length;
      for (let i = 0; i < ROW_ID_LENGTH; i++) t[o + i] = rootId[i];
      o += ROW_ID_LENGTH + 2;
    }
    o += PARENT_ID_KEY.length;
    for (let i = 0; i < ROW_ID_LENGTH; i++) t[o + i] = parentId[i];
    return t;
  }

  private writeChildTail(ts: TableState, first: number, tail: Buffer, idx: number, id: Buffer): void {
    reserve(ts, tail.length + ROW_ID_LENGTH + 40);
    const out = ts.buf;
    let o = ts.len;
    if (first === 0) out[o++] = COMMA;
    out.set(tail, o);
    o += tail.length;
    if (idx < 10) out[o++] = D0 + idx;
    else o += out.write(String(idx), o, 'latin1');
    for (let i = 0; i < ID_KEY.length; i++) out[o++] = ID_KEY[i];
    for (let i = 0; i < ROW_ID_LENGTH; i++) out[o++] = id[i];
    out[o++] = QUOTE;
    out[o++] = RBRACE;
    out[o++] = NL;
    ts.len = o;
    ts.rows++;
  }

  /** Writes `,"name":<raw bytes b[s, e)>` into the current row of `ts`. */
  /** `"<variant>":` for a fraction in `plan`'s integer column, when that variant exists already. */
  private doubleVariantKey(plan: Plan): Buffer | undefined {
    if (plan.doubleVariantKey !== undefined) return plan.doubleVariantKey;
    const vc = plan.variants?.double;
    if (vc === undefined || vc.dataType !== 'double') return undefined;
    return (plan.doubleVariantKey = Buffer.from(`${JSON.stringify(vc.name)}:`));
  }

  private writeField(ts: TableState, plan: Plan, first: number, s: number, e: number): void {
    this.writeKeyed(ts, plan.outKey, first, s, e);
  }

  /** Writes `,<k><bytes [s, e) of the line>` into the current row of `ts`. */
  private writeKeyed(ts: TableState, k: Buffer, first: number, s: number, e: number): void {
    const kn = k.length;
    const n = e - s;
    if (ts.len + kn + n + 1 > ts.buf.length) grow(ts, kn + n + 1);
    const out = ts.buf;
    let o = ts.len;
    if (first === 0) out[o++] = COMMA;
    if (kn > 12) {
      out.set(k, o);
      o += kn;
    } else {
      for (let i = 0; i < kn; i++) out[o++] = k[i];
    }
    const b = this.b;
    if (n > 48) {
      b.copy(out, o, s, e);
      o += n;
    } else {
      for (let i = s; i < e; i++) out[o++] = b[i];
    }
    ts.len = o;
  }

  /** Writes `,"name":"<ascii>"` into the current row of `ts`. */
  private writeAsciiField(ts: TableState, plan: Plan, first: number, v: string): void {
    const k = plan.outKey;
    const kn = k.length;
    const n = v.length;
    if (ts.len + kn + n + 3 > ts.buf.length) grow(ts, kn + n + 3);
    const out = ts.buf;
    let o = ts.len;
    if (first === 0) out[o++] = COMMA;
    out.set(k, o);
    o += kn;
    out[o++] = QUOTE;
    for (let i = 0; i < n; i++) out[o++] = v.charCodeAt(i);
    out[o++] = QUOTE;
    ts.len = o;
  }

  /** A value kept as json (nesting exhausted or declared json): copied as is once validated. */
  private fastJson(plan: Plan, ts: TableState, first: number): number {
    const col = plan.col;
    if (col === undefined || col.dataType !== 'json') return -1;
    const b = this.b;
    const s = this.p;
    if (b[s] === LBRACE && isBinaryTagAt(b, s + 1, this.end)) return -1;
    const e = skipValue(b, s, this.end, 0);
    if (e < 0) return -1;
    this.writeField(ts, plan, first, s, e);
    this.p = e;
    return 0;
  }
}
