/** The parts of a zod issue the messages use (zod 4's issue shapes, loosely typed). */
interface Issue {
  path: PropertyKey[];
  message: string;
  code?: string;
  keys?: string[];
  values?: unknown[];
  expected?: string;
  errors?: Issue[][];
}

/**
 * One zod issue as `path.to.field: message` (`(root)` when the issue is on the value itself),
 * said so that a user can fix it: a union names what it takes (or, when the value matched one
 * of its shapes, what is wrong inside it), and a dlt-style snake_case key gets its camelCase name.
 */
export function formatIssue(i: Issue): string {
  const where = (p: PropertyKey[]) => p.map(String).join('.') || '(root)';
  if (i.code === 'invalid_union' && i.errors?.length) {
    const branches = flatBranches(i.errors);
    // objects told apart by a literal field (`type`): the field's values
    const tag = discriminator(branches);
    if (tag) return `${where([...i.path, tag.key])}: Invalid option: expected one of ${tag.values.map((v) => JSON.stringify(v)).join(', ')}`;
    // a branch the value matched in shape (its issues are inside it) says what is wrong there
    const inside = branches.filter((b) => b.length > 0 && b.every((x) => x.path.length > 0));
    if (inside.length === 1) return inside[0]!.map((x) => formatIssue({ ...x, path: [...i.path, ...x.path] })).join('; ');
    return `${where(i.path)}: ${i.message}: expected ${alternatives(branches)}`;
  }
  if (i.code === 'unrecognized_keys' && i.keys?.length) {
    const camel = i.keys.filter((k) => k.includes('_')).map((k) => `${k} -> ${camelCase(k)}`);
    const hint = camel.length ? ` (haul takes dlt's names in camelCase: ${camel.join(', ')})` : '';
    return `${where(i.path)}: ${i.message}${hint}`;
  }
  return `${where(i.path)}: ${i.message}`;
}

/** A union of unions (`columns`: a record, a list, or a model) as one list of branches. */
function flatBranches(branches: Issue[][]): Issue[][] {
  return branches.flatMap((b) => (b.length === 1 && b[0]!.code === 'invalid_union' && b[0]!.path.length === 0 && b[0]!.errors ? flatBranches(b[0]!.errors) : [b]));
}

/** A field that two or more branches refuse for its literal value: the union's tag, with every value it takes. */
function discriminator(branches: Issue[][]): { key: string; values: unknown[] } | undefined {
  const byKey = new Map<string, { branches: number; values: unknown[] }>();
  for (const b of branches) {
    for (const x of b) {
      if (x.code !== 'invalid_value' || x.path.length !== 1 || !x.values) continue;
      const key = String(x.path[0]);
      const e = byKey.get(key) ?? { branches: 0, values: [] };
      e.branches++;
      e.values.push(...x.values);
      byKey.set(key, e);
    }
  }
  for (const [key, e] of byKey) if (e.branches >= 2) return { key, values: [...new Set(e.values)] };
  return undefined;
}

/** What the branches of a union take: their literal values, and the kinds of the others. */
function alternatives(branches: Issue[][]): string {
  const out: string[] = [];
  for (const b of branches) {
    for (const x of b) {
      if (x.path.length > 0) continue;
      if (x.code === 'invalid_value' && x.values) out.push(...x.values.map((v) => JSON.stringify(v)));
      else if (x.code === 'invalid_type' && x.expected) out.push(x.expected === 'object' ? 'an object' : `a ${x.expected}`);
      else if (x.code === 'invalid_union' && x.errors) out.push(alternatives(x.errors));
    }
  }
  const unique = [...new Set(out)];
  return unique.length ? `one of ${unique.join(', ')}` : 'another value';
}

/** dlt's snake_case option name in camelCase (`dataset_name` -> `datasetName`). */
export function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}
