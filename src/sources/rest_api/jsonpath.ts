/**
 * The small part of JSONPath that REST API responses need: `$`, `.key`, `['key']`, `[n]`,
 * `[*]`/`.*` and `..key` (search at any depth). A path without `$` is read from the root
 * (`data.items` = `$.data.items`), as dlt's selectors are.
 */
import { InvalidOptionsError } from '../../errors.js';

type Step = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'all' } | { kind: 'deep'; key: string | null };

const cache = new Map<string, Step[]>();

/** Parses a path once; an unreadable path is a typed error naming it. */
export function compilePath(path: string): Step[] {
  const hit = cache.get(path);
  if (hit) return hit;
  const steps: Step[] = [];
  let i = 0;
  const s = path.trim();
  if (s.startsWith('$')) i = 1;
  const bad = (why: string) => new InvalidOptionsError(`JSONPath "${path}"`, `${why}; use e.g. "data", "$.data.items", "results[*]" or "$..id"`);
  const readName = (): string => {
    const m = /^[^.[\]]+/.exec(s.slice(i));
    if (!m) throw bad(`expected a name at position ${i}`);
    i += m[0].length;
    return m[0];
  };
  // A path that starts with a name: `data.items`.
  if (i === 0 && s.length > 0 && s[0] !== '.' && s[0] !== '[') steps.push(nameStep(readName()));
  while (i < s.length) {
    if (s.startsWith('..', i)) {
      i += 2;
      if (s[i] === '*') {
        i++;
        steps.push({ kind: 'deep', key: null });
      } else steps.push({ kind: 'deep', key: readName() });
    } else if (s[i] === '.') {
      i++;
      steps.push(nameStep(readName()));
    } else if (s[i] === '[') {
      const end = s.indexOf(']', i);
      if (end < 0) throw bad('a "[" is not closed');
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: 'key', key: inner.slice(1, -1) });
      else throw bad(`"[${inner}]" is not supported`);
    } else throw bad(`unexpected "${s[i]}" at position ${i}`);
  }
  cache.set(path, steps);
  return steps;
}

function nameStep(name: string): Step {
  return name === '*' ? { kind: 'all' } : { kind: 'key', key: name };
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v !== null && typeof v === 'object') return Object.values(v);
  return [];
}

function deep(v: unknown, key: string | null, out: unknown[]): void {
  if (v === null || typeof v !== 'object') return;
  if (key === null) out.push(...children(v));
  else if (!Array.isArray(v) && key in v) out.push((v as Record<string, unknown>)[key]);
  for (const c of children(v)) deep(c, key, out);
}

/** Every value the path selects, in document order. */
export function findValues(path: string, doc: unknown): unknown[] {
  let cur: unknown[] = [doc];
  for (const step of compilePath(path)) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (step.kind === 'key') {
        if (v !== null && typeof v === 'object' && !Array.isArray(v) && step.key in v) next.push((v as Record<string, unknown>)[step.key]);
      } else if (step.kind === 'index') {
        if (Array.isArray(v)) {
          const at = step.index < 0 ? v.length + step.index : step.index;
          if (at >= 0 && at < v.length) next.push(v[at]);
        }
      } else if (step.kind === 'all') next.push(...children(v));
      else deep(v, step.key, next);
    }
    cur = next;
  }
  return cur;
}

/** The first value the path selects, or undefined. */
export function findValue(path: string, doc: unknown): unknown {
  return findValues(path, doc)[0];
}

/**
 * Keys as a path this module reads back: `a.b`, with `['a.b']` for a key that is not a plain
 * name; undefined when a key holds `]` or `'` (no step of ours can name it).
 */
export function pathOf(keys: string[]): string | undefined {
  let out = '';
  for (const k of keys) {
    if (/^[^.[\]'"$*\s][^.[\]'"\s]*$/.test(k)) out += out === '' ? k : `.${k}`;
    else if (k.includes(']') || k.includes("'")) return undefined;
    else out += `['${k}']`;
  }
  return out;
}

/** A dotted field path (`user.id`) read from an item. */
export function readField(item: unknown, field: string): unknown {
  return findValue(field, item);
}
