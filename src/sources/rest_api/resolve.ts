/**
 * Placeholders in an endpoint: `{resources.<parent>.<field>}` takes a field of the parent
 * item a child request is made for; `{incremental.start_value}` (and `end_value`,
 * `last_value`) the incremental cursor of this run. They may appear in the path, in
 * params, in headers and in the JSON body; a JSON string that is one placeholder alone
 * gets the value with its type (a number stays a number).
 */
import { InvalidOptionsError } from '../../errors.js';
import { readField } from './jsonpath.js';
import { stringifyExact } from '../../common/big-ints.js';

// a parent's name may hold spaces (`{resources.My Users.id}`), as in dlt
const PLACEHOLDER = /\{(resources\.[^{}]+|incremental\.(?:start_value|end_value|last_value))\}/g;

export interface PlaceholderValues {
  /** The resource the request is for (for messages). */
  resource: string;
  parent?: { name: string; item: unknown };
  incremental?: { start_value?: unknown; end_value?: unknown };
}

/** The parent resources the templates name (dlt allows one). */
export function referencedParents(templates: unknown[]): string[] {
  const out = new Set<string>();
  const visit = (v: unknown) => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(PLACEHOLDER)) {
        const ref = m[1]!;
        if (ref.startsWith('resources.')) out.add(ref.split('.')[1]!);
      }
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  templates.forEach(visit);
  return [...out];
}

/** Whether a text uses any incremental placeholder. */
export function usesIncremental(templates: unknown[]): boolean {
  return JSON.stringify(templates, (_k, v: unknown) => (typeof v === 'function' ? undefined : v))?.includes('{incremental.') ?? false;
}

function valueOf(ref: string, values: PlaceholderValues): unknown {
  const [head, name, ...rest] = ref.split('.');
  if (head === 'incremental') {
    const inc = values.incremental;
    if (!inc) throw new InvalidOptionsError(`resource "${values.resource}"`, `{${ref}} needs an incremental: add endpoint.incremental or an incremental param`);
    return name === 'end_value' ? inc.end_value : inc.start_value;
  }
  const field = rest.join('.');
  if (!values.parent || values.parent.name !== name || !field) {
    throw new InvalidOptionsError(`resource "${values.resource}"`, `{${ref}} names resource "${name}", which is not this resource's parent`);
  }
  const v = readField(values.parent.item, field);
  if (v === null) {
    // dlt sends the text "None" (`users/None/posts`); an empty segment would ask for another URL
    throw new InvalidOptionsError(
      `resource "${values.resource}"`,
      `an item of its parent "${name}" has null in field "${field}" (used by {${ref}}), so no request can be made for it; drop such items with a filter in the parent's processingSteps`,
    );
  }
  if (v === undefined) {
    throw new InvalidOptionsError(
      `resource "${values.resource}"`,
      `an item of its parent "${name}" has no field "${field}" (used by {${ref}}); check the field name, or the parent's dataSelector and processingSteps`,
    );
  }
  return v;
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? stringifyExact(v) : String(v);
}

/** The template with every placeholder replaced by its value's text. */
export function fill(template: string, values: PlaceholderValues): string {
  return template.replace(PLACEHOLDER, (_m, ref: string) => text(valueOf(ref, values)));
}

/** Same for a JSON document; a string that is exactly one placeholder keeps the value's type. */
export function fillDeep(doc: unknown, values: PlaceholderValues): unknown {
  if (typeof doc === 'string') {
    const whole = /^\{(resources\.[^{}]+|incremental\.(?:start_value|end_value|last_value))\}$/.exec(doc);
    return whole ? valueOf(whole[1]!, values) : fill(doc, values);
  }
  if (Array.isArray(doc)) return doc.map((d) => fillDeep(d, values));
  if (doc && typeof doc === 'object') return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, fillDeep(v, values)]));
  return doc;
}

/** `_<parent>_<field>` columns for `includeFromParent`, as dlt names them. */
export function parentFields(parent: string, item: unknown, fields: string[], resource: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = readField(item, f);
    if (v === undefined) {
      throw new InvalidOptionsError(`resource "${resource}"`, `includeFromParent: an item of "${parent}" has no field "${f}"; check the field name`);
    }
    out[`_${parent}_${f}`] = v;
  }
  return out;
}
