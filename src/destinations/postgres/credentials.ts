import { z } from 'zod';
import { ConfigValueMissingError, config, secrets } from '../../config/index.js';
import { registerSecret } from '../../config/redact.js';
import { connectionUrlParts } from '../../config/connection-url.js';
import { InvalidOptionsError } from '../../errors.js';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** dlt's PostgresCredentials: where and as whom to connect. */
export interface PostgresCredentials {
  host: string;
  /** Default 5432. */
  port: number;
  database: string;
  username: string;
  password?: string;
  /**
   * libpq's sslmode. `require` encrypts without checking the certificate; `verify-ca` and
   * `verify-full` check it. `disable`, `allow` and `prefer` connect without TLS (the
   * driver has no fallback between the two).
   */
  sslmode?: SslMode;
  /** Seconds to wait for a connection (dlt's `connect_timeout`, default 15). */
  connectTimeout: number;
}

/** What a user may pass in code: a connection string or some of the fields. */
export type PostgresCredentialsInput = string | Partial<PostgresCredentials>;

export const DEFAULT_PORT = 5432;
export const DEFAULT_CONNECT_TIMEOUT_S = 15;
const CONFIG_PATH = 'destination.postgres.credentials';

const intLike = z.union([z.number().int().positive(), z.string().regex(/^\d+$/).transform(Number)]);
const sslmode = z.enum(SSL_MODES);

/** Non-secret fields, named as in dlt's config files (`connect_timeout`). */
const fieldsSchema = z
  .object({
    host: z.string().min(1),
    port: intLike,
    database: z.string().min(1),
    username: z.string().min(1),
    sslmode,
    connect_timeout: intLike,
  })
  .partial();
const passwordSchema = z.object({ password: z.string() }).partial();
/** The native form at the credentials path: a connection string (or JSON of the fields in env). */
const nativeSchema = z.union([z.string(), z.record(z.string(), z.unknown())]);

const codeSchema = z
  .object({
    host: z.string().min(1),
    port: intLike,
    database: z.string().min(1),
    username: z.string().min(1),
    password: z.string(),
    sslmode,
    connectTimeout: intLike,
  })
  .partial()
  .strict();

/**
 * Parses `postgresql://user:password@host:5432/database?sslmode=require&connect_timeout=10`.
 * Errors never repeat the string (it may hold the password).
 */
export function parseConnectionString(text: string): Partial<PostgresCredentials> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidOptionsError('postgres credentials', 'the connection string is not a URL; expected one such as postgresql://loader@db.example.com:5432/analytics (with the password after the user name and a colon)');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new InvalidOptionsError('postgres credentials', `the connection string must start with postgresql:// (got ${url.protocol}//)`);
  }
  const out: Partial<PostgresCredentials> = connectionUrlParts(url);
  const mode = url.searchParams.get('sslmode');
  if (mode !== null) {
    const parsed = sslmode.safeParse(mode);
    if (!parsed.success) throw new InvalidOptionsError('postgres credentials', `sslmode must be one of ${SSL_MODES.join(', ')}`);
    out.sslmode = parsed.data;
  }
  const timeout = url.searchParams.get('connect_timeout');
  if (timeout !== null) {
    if (!/^\d+$/.test(timeout)) throw new InvalidOptionsError('postgres credentials', 'connect_timeout must be a whole number of seconds');
    out.connectTimeout = Number(timeout);
  }
  return out;
}

function fromCode(input: PostgresCredentialsInput): Partial<PostgresCredentials> {
  if (typeof input === 'string') return parseConnectionString(input);
  const r = codeSchema.safeParse(input);
  if (!r.success) {
    // Field names only: the values may be secret.
    const what = r.error.issues.map((i) => `${i.path.join('.') || '(credentials)'}: ${i.message}`).join('; ');
    throw new InvalidOptionsError('postgres credentials', what);
  }
  return r.data;
}

function fromNative(value: unknown): Partial<PostgresCredentials> {
  if (value !== null && typeof value === 'object') return fromFields(value);
  if (typeof value === 'string') {
    const t = value.trim();
    // env text may hold the fields as JSON
    if (t.startsWith('{')) {
      try {
        return fromCode(JSON.parse(t) as PostgresCredentialsInput);
      } catch (e) {
        if (e instanceof InvalidOptionsError) throw e;
        throw new InvalidOptionsError('postgres credentials', `${CONFIG_PATH} is neither a connection string nor valid JSON`);
      }
    }
    return parseConnectionString(t);
  }
  return {};
}

/** A table of fields as the config files name them (`connect_timeout`), e.g. a TOML table at the credentials key. */
function fromFields(value: unknown): Partial<PostgresCredentials> {
  const f = fieldsSchema.merge(passwordSchema).safeParse(value);
  // field names only in the message: the values may be secret
  if (!f.success) throw new InvalidOptionsError('postgres credentials', f.error.issues.map((i) => `${CONFIG_PATH}.${i.path.join('.')}: ${i.message}`).join('; '));
  const d = f.data;
  return defined({ host: d.host, port: d.port, database: d.database, username: d.username, sslmode: d.sslmode, connectTimeout: d.connect_timeout, password: d.password });
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Resolves the credentials as dlt does: a value given in code wins; then the first value
 * found at `destination.postgres.credentials` (a connection string, or a table of fields;
 * pipeline-scoped first, in env and .dlt/secrets.toml) is used as a whole; only what neither
 * gives comes from the fields looked up one by one (`DESTINATION__POSTGRES__CREDENTIALS__HOST`,
 * `[destination.postgres.credentials] host` in .dlt/secrets.toml or config.toml; password
 * never from config.toml). The password becomes a known secret (redacted from every
 * message, log and trace).
 */
export function resolvePostgresCredentials(opts: { pipelineName?: string; explicit?: PostgresCredentialsInput } = {}): PostgresCredentials {
  const { pipelineName } = opts;
  const code = opts.explicit === undefined ? {} : fromCode(opts.explicit);
  if (code.password) registerSecret(code.password);
  if (typeof opts.explicit === 'string') registerSecret(opts.explicit);

  const native = fromNative(secrets.getOptional(CONFIG_PATH, nativeSchema, { pipelineName }));
  const fields = config.getOptional(CONFIG_PATH, fieldsSchema, { pipelineName, fieldsOnly: true }) ?? {};
  const pw = secrets.getOptional(CONFIG_PATH, passwordSchema, { pipelineName, fieldsOnly: true }) ?? {};
  const fromConfig = fromFields({ ...fields, ...pw });
  if (native.password) registerSecret(native.password);

  // the value at the credentials key wins over fields found on their own, which fill its gaps (dlt's order)
  const merged = { ...fromConfig, ...native, ...defined(code) };
  const missing = (['host', 'database', 'username'] as const).filter((key) => !merged[key]);
  if (missing.length > 0) {
    const envOf = (segments: string[]) => segments.join('__').toUpperCase();
    const scoped = pipelineName ? [pipelineName, ...CONFIG_PATH.split('.')] : undefined;
    throw new ConfigValueMissingError(`${CONFIG_PATH}.${missing[0]}`, 'config', [
      `missing: ${missing.join(', ')}`,
      'explicit argument: postgres({ credentials })',
      `environment: ${envOf(CONFIG_PATH.split('.'))} (a connection string such as postgresql://loader@db.example.com:5432/analytics), ${missing.map((k) => envOf([...CONFIG_PATH.split('.'), k])).join(', ')}` +
        (scoped ? `; pipeline-scoped first: ${envOf(scoped)}, ${missing.map((k) => envOf([...scoped, k])).join(', ')}` : ''),
      `.dlt/secrets.toml or .dlt/config.toml: [${CONFIG_PATH}] ${missing.join(', ')}${pipelineName ? ` (pipeline-scoped first: [${pipelineName}.${CONFIG_PATH}])` : ''}`,
    ]);
  }
  return {
    host: merged.host!,
    port: merged.port ?? DEFAULT_PORT,
    database: merged.database!,
    username: merged.username!,
    password: merged.password,
    sslmode: merged.sslmode,
    connectTimeout: merged.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S,
  };
}

/** `host:port/database`: how errors and LoadInfo name the place (never the password). */
export function credentialsLocation(c: Pick<PostgresCredentials, 'host' | 'port' | 'database'>): string {
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  return `${host}:${c.port}/${c.database}`;
}
