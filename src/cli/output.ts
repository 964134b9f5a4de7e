/**
 * CLI output: everything printed goes through redact() (known secrets, credential
 * patterns); `--json` prints one JSON document on stdout. Errors are one line on stderr.
 */
import { createInterface } from 'node:readline/promises';
import { redact, redactDeep } from '../config/redact.js';
import { HaulError } from '../errors.js';

/** A failure the user can act on: printed as one line, exit code 1. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

export function out(text = ''): void {
  process.stdout.write(redact(text) + '\n');
}

export function warn(text: string): void {
  process.stderr.write(redact(text) + '\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(redactDeep(toJsonable(value)), null, 2) + '\n');
}

/** Dates as ISO strings, bigints as numbers/strings, class instances with toJSON honoured. */
function toJsonable(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? (Number.isSafeInteger(Number(x)) ? Number(x) : String(x)) : x)) ?? 'null');
}

/** The message for a failure: one line (first line of the message), no stack trace. */
export function errorLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const lines = msg.split('\n').map((l) => l.trim()).filter(Boolean);
  // HaulErrors put advice on later lines; keep them on the same line.
  return redact(e instanceof HaulError || e instanceof CliError ? lines.join(' ') : (lines[0] ?? 'unknown error'));
}

/**
 * Asks yes/no on the terminal. Without a TTY (and without --yes) it refuses: a script must
 * say --yes explicitly.
 */
export async function confirm(question: string, opts: { yes?: boolean; what: string }): Promise<void> {
  if (opts.yes) return;
  if (!process.stdin.isTTY) throw new CliError(`refusing to ${opts.what} without confirmation: stdin is not a terminal; pass --yes to confirm`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${redact(question)} [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new CliError(`${opts.what}: cancelled, nothing changed`);
  } finally {
    rl.close();
  }
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function fmtSecs(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Load ids are unix seconds: show when. */
export function loadIdTime(loadId: string): string {
  const t = Number(loadId);
  return Number.isFinite(t) && t > 1e9 ? new Date(t * 1000).toISOString() : '';
}

/** Left-aligned columns. */
export function table(rows: string[][], indent = '  '): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}
