/**
 * haul's pino logger: secret keys are censored (pino `redact`) and every string, message
 * included, goes through `redact()` (known secret values, `user:pass@` URLs, `token=...`).
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { redact, redactDeep, REDACTED } from '../config/redact.js';

export interface LoggerOptions {
  /** Where lines go: a pino destination or any writable stream (default: stderr, synchronous). */
  destination?: DestinationStream | NodeJS.WritableStream;
  level?: LevelWithSilent;
  /** Extra fields on every line (e.g. `{ pipeline: 'github' }`). */
  bindings?: Record<string, unknown>;
}

/** pino `redact` paths: credential fields at the top level and one level down. */
export const REDACT_PATHS = ['password', 'token', 'secret', 'api_key', 'apiKey', 'access_token', 'accessToken', 'credentials', 'private_key']
  .flatMap((k) => [k, `*.${k}`]);

export function createLogger(opts: LoggerOptions = {}): Logger {
  const destination = opts.destination ?? pino.destination({ fd: 2, sync: true });
  const logger = pino(
    {
      name: 'haul',
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      formatters: {
        log: (obj) => redactDeep(serializeErrors(obj)),
        bindings: (b) => redactDeep(b),
      },
      hooks: {
        logMethod(args, method) {
          const clean = args.map((a) => (typeof a === 'string' ? redact(a) : a)) as Parameters<typeof method>;
          method.apply(this, clean);
        },
      },
    },
    destination as DestinationStream,
  );
  return opts.bindings ? logger.child(opts.bindings) : logger;
}

/** Errors become pino's `{ type, message, stack }` before redaction (an Error has no own enumerable message). */
function serializeErrors(obj: Record<string, unknown>): Record<string, unknown> {
  let out = obj;
  for (const [k, v] of Object.entries(obj)) {
    if (v instanceof Error) {
      if (out === obj) out = { ...obj };
      out[k] = pino.stdSerializers.err(v);
    }
  }
  return out;
}
