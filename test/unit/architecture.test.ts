/**
 * The rooms of DESIGN.md ("Layout"), checked on the source: a room imports only from rooms
 * above it (type-only imports included), workflow code imports no I/O, and no module takes
 * part in an import circle.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** From the ground up: a room may import from rooms earlier in this list. */
const ROOMS = [
  'src/errors.ts',
  'src/common',
  'src/schema',
  'src/state',
  'src/storage',
  'src/config',
  'src/progress',
  'src/destinations',
  'src/extract',
  'src/normalize',
  'src/load',
  'src/sources',
  'src/pipeline',
  // Temporal's pure part (inputs, types, search attributes) sits below workflow code, which
  // imports it; the client and worker sit above the workflows and activities they run.
  'src/temporal/types.ts',
  'src/temporal/input.ts',
  'src/temporal/search-attributes.ts',
  'workflows',
  'activities',
  'src/temporal',
  'src/cli',
  'src/index.ts',
  'worker.ts',
];

function roomOf(file: string): number {
  const rel = relative(ROOT, file);
  return ROOMS.findIndex((r) => rel === r || rel.startsWith(r + '/'));
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.ts$/.test(n) && !n.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const FILES = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'workflows')), ...sources(join(ROOT, 'activities')), join(ROOT, 'worker.ts')];

/** Relative imports of a file (static, dynamic and type-only), resolved to .ts paths. */
function importsOf(file: string): { target: string; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const out: { target: string; typeOnly: boolean }[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'";]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4] ?? m[5];
    if (!spec) continue;
    out.push({ target: resolve(dirname(file), spec.replace(/\.js$/, '.ts')), typeOnly: m[2] !== undefined });
  }
  return out;
}

describe('architecture: the rooms of DESIGN.md', () => {
  it('every source file belongs to a room', () => {
    const homeless = FILES.filter((f) => roomOf(f) < 0).map((f) => relative(ROOT, f));
    expect(homeless).toEqual([]);
  });

  it('imports only point to rooms above (type-only imports included)', () => {
    const wrong: string[] = [];
    for (const f of FILES) {
      const from = roomOf(f);
      for (const { target } of importsOf(f)) {
        const to = roomOf(target);
        if (to < 0 || to > from) wrong.push(`${relative(ROOT, f)} -> ${relative(ROOT, target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('workflow code imports no I/O and nothing from src/ but types and pure temporal helpers', () => {
    const wrong: string[] = [];
    for (const f of FILES.filter((x) => relative(ROOT, x).startsWith('workflows/'))) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/from\s+['"](node:[^'"]+|fs|path|pg|mysql2|@duckdb\/[^'"]+|@temporalio\/(?:worker|client|activity))['"]/g)) wrong.push(`${relative(ROOT, f)}: ${m[1]}`);
      for (const { target, typeOnly } of importsOf(f)) {
        const rel = relative(ROOT, target);
        const pure = rel === 'src/temporal/search-attributes.ts' || rel === 'src/temporal/types.ts' || rel === 'src/temporal/input.ts';
        if (rel.startsWith('src/') && !typeOnly && !pure) wrong.push(`${relative(ROOT, f)} -> ${rel}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has no import circles', () => {
    const graph = new Map(FILES.map((f) => [f, importsOf(f).map((i) => i.target)]));
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const walk = (f: string, path: string[]) => {
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') circles.push([...path.slice(path.indexOf(t)), t].map((p) => relative(ROOT, p)).join(' -> '));
        else if (!state.has(t)) walk(t, [...path, t]);
      }
      state.set(f, 'done');
    };
    for (const f of FILES) if (!state.has(f)) walk(f, [f]);
    expect(circles).toEqual([]);
  });
});
