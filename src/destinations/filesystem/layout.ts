import { InvalidOptionsError } from '../../errors.js';

/** dlt's default: one folder per table, one file per job named by load and file id. */
export const DEFAULT_LAYOUT = '{table_name}/{load_id}.{file_id}.{ext}';

/** What one job file's path is made of. */
export interface LayoutValues {
  schemaName: string;
  tableName: string;
  loadId: string;
  fileId: string;
  ext: string;
  /** The time the job is written (dlt's `current_datetime`): date and time placeholders use it, in UTC. */
  now: Date;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Load ids are `<unix seconds>.<micros>`: the package's own timestamp, as dlt's load_package_timestamp. */
function loadPackageSeconds(loadId: string): number {
  const n = Number(loadId);
  return Number.isFinite(n) ? n : 0;
}

/** dlt's placeholders (destinations/filesystem docs), all but the user-defined ones. */
const PLACEHOLDERS: Record<string, (v: LayoutValues) => string> = {
  schema_name: (v) => v.schemaName,
  table_name: (v) => v.tableName,
  load_id: (v) => v.loadId,
  file_id: (v) => v.fileId,
  ext: (v) => v.ext,
  curr_date: (v) => v.now.toISOString().slice(0, 10),
  timestamp: (v) => String(Math.floor(v.now.getTime() / 1000)),
  timestamp_ms: (v) => String(v.now.getTime()),
  load_package_timestamp: (v) => String(Math.floor(loadPackageSeconds(v.loadId))),
  load_package_timestamp_ms: (v) => String(Math.floor(loadPackageSeconds(v.loadId) * 1000)),
  YYYY: (v) => String(v.now.getUTCFullYear()),
  YY: (v) => pad(v.now.getUTCFullYear() % 100),
  Q: (v) => String(Math.floor(v.now.getUTCMonth() / 3) + 1),
  MM: (v) => pad(v.now.getUTCMonth() + 1),
  M: (v) => String(v.now.getUTCMonth() + 1),
  DD: (v) => pad(v.now.getUTCDate()),
  D: (v) => String(v.now.getUTCDate()),
  HH: (v) => pad(v.now.getUTCHours()),
  H: (v) => String(v.now.getUTCHours()),
  hh: (v) => pad(v.now.getUTCHours() % 12 || 12),
  h: (v) => String(v.now.getUTCHours() % 12 || 12),
  A: (v) => (v.now.getUTCHours() < 12 ? 'AM' : 'PM'),
  a: (v) => (v.now.getUTCHours() < 12 ? 'am' : 'pm'),
  mm: (v) => pad(v.now.getUTCMinutes()),
  m: (v) => String(v.now.getUTCMinutes()),
  ss: (v) => pad(v.now.getUTCSeconds()),
  s: (v) => String(v.now.getUTCSeconds()),
  dddd: (v) => DAY_NAMES[v.now.getUTCDay()]!,
  ddd: (v) => DAY_NAMES[v.now.getUTCDay()]!.slice(0, 3),
  dd: (v) => DAY_NAMES[v.now.getUTCDay()]!.slice(0, 2),
  d: (v) => String(v.now.getUTCDay()),
};

export const KNOWN_PLACEHOLDERS: readonly string[] = Object.keys(PLACEHOLDERS);

type Part = { text: string } | { placeholder: string };

/**
 * A parsed `layout`. It must start with `{table_name}/` (each table is a folder, which
 * replace, refresh and drop work on) and hold `{file_id}` (each job gets its own file, so a
 * job written again after a crash replaces its file instead of adding a second one).
 */
export class Layout {
  private readonly parts: Part[];

  constructor(
    readonly pattern: string = DEFAULT_LAYOUT,
    private readonly extra: Readonly<Record<string, string>> = {},
  ) {
    const bad = (why: string) => new InvalidOptionsError('filesystem destination layout', `${JSON.stringify(pattern)} ${why}`);
    for (const [k, v] of Object.entries(extra)) {
      if (typeof v !== 'string' || v.includes('/') || v.includes('\\') || v === '..' || v === '.') {
        throw new InvalidOptionsError('filesystem destination extraPlaceholders', `"${k}" must be a string without path separators (got ${JSON.stringify(v)})`);
      }
    }
    this.parts = [];
    const re = /\{([^{}]*)\}/g;
    let last = 0;
    for (let m = re.exec(pattern); m; m = re.exec(pattern)) {
      if (m.index > last) this.parts.push({ text: pattern.slice(last, m.index) });
      const name = m[1]!;
      if (!(name in PLACEHOLDERS) && !(name in extra)) {
        throw bad(`uses the unknown placeholder {${name}}; known: ${[...KNOWN_PLACEHOLDERS, ...Object.keys(extra)].map((p) => `{${p}}`).join(', ')} (add your own with extraPlaceholders)`);
      }
      this.parts.push({ placeholder: name });
      last = m.index + m[0].length;
    }
    if (last < pattern.length) this.parts.push({ text: pattern.slice(last) });
    if (/[{}]/.test(this.parts.map((p) => ('text' in p ? p.text : '')).join(''))) throw bad('has an unbalanced { or }');
    if (!pattern.startsWith('{table_name}/')) throw bad('must start with {table_name}/ (each table is a folder of its files)');
    if (!this.parts.some((p) => 'placeholder' in p && p.placeholder === 'file_id')) {
      throw bad('must contain {file_id} so every job writes its own file (e.g. {table_name}/{load_id}.{file_id}.{ext})');
    }
    if (pattern.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) throw bad('has an empty, "." or ".." path segment');
  }

  /** The job file's path relative to the dataset folder. */
  render(values: LayoutValues): string {
    return this.parts
      .map((p) => {
        if ('text' in p) return p.text;
        const fn = PLACEHOLDERS[p.placeholder];
        return fn ? fn(values) : this.extra[p.placeholder]!;
      })
      .join('');
  }
}
