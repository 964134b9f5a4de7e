#!/usr/bin/env node
/**
 * The `haul` command. Command groups: `init` (./init.ts: a new pipeline project), `pipeline`
 * (./pipeline.ts: inspect and repair working dirs) and the durable ones (./temporal.ts:
 * worker, schedule, temporal; loaded only when the command is not `pipeline` or `init`).
 *
 * Exit codes: 0 ok, 1 failure (one line on stderr, no stack trace; HAUL_DEBUG=1 adds it),
 * 2 usage (unknown command or option, missing argument). Everything printed is redacted.
 * Run through the package's bin (src/cli/haul.js) or directly (`tsx src/cli/main.ts`).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { redact, registerSecret } from '../config/redact.js';
import { SECRET_KEY_RE } from '../config/redact.js';
import { errorLine, CliError } from './output.js';
import { registerInitCommand } from './init.js';
import { PIPELINE_OPERATIONS, registerPipelineCommands } from './pipeline.js';

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'haul') return pkg.version ?? '0.0.0';
    } catch {
      /* not here: go up */
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

/** The program with every command group (`pipelineOnly`: without the Temporal commands, which load the SDK). */
export async function haulProgram(opts: { pipelineOnly?: boolean } = {}): Promise<Command> {
  const program = new Command('haul')
    .description('data loading pipelines for TypeScript, durable on Temporal')
    .version(packageVersion(), '-V, --version')
    // Usage errors throw (exit code 2) instead of exiting; inherited by every subcommand.
    .exitOverride()
    // Options keep their place: `haul pipeline <op> <name> --json` gives --json to <op>.
    .enablePositionalOptions()
    .showSuggestionAfterError(true);
  registerPipelineCommands(program);
  registerInitCommand(program);
  if (!opts.pipelineOnly) {
    const { registerTemporalCommands } = await import('./temporal.js');
    registerTemporalCommands(program);
  }
  return program;
}

/**
 * `haul pipeline <name> <op> ...` (dlt's order) -> `haul pipeline <op> <name> ...` (what
 * commander parses). No operation means `info`; `haul pipeline <name> --help` shows the
 * pipeline help. `--pipelines-dir X` may come before the name.
 */
export function normalizeArgv(args: string[]): string[] {
  const at = args.indexOf('pipeline');
  if (at < 0 || args.slice(0, at).some((a) => !a.startsWith('-'))) return args;
  const rest = args.slice(at + 1);
  const leading: string[] = [];
  while (rest.length && rest[0]!.startsWith('-')) {
    const opt = rest.shift()!;
    leading.push(opt);
    if (opt === '--pipelines-dir' && rest.length) leading.push(rest.shift()!);
    else if (opt !== '--json' && !opt.startsWith('--pipelines-dir=')) return args; // --list, --help...: as given
  }
  const name = rest.shift();
  if (name === undefined) return args;
  let op = rest[0] !== undefined && !rest[0].startsWith('-') ? rest.shift()! : undefined;
  if (op === undefined) {
    if (rest.includes('--help') || rest.includes('-h')) return [...args.slice(0, at), 'pipeline', '--help'];
    op = 'info';
  }
  if (!(PIPELINE_OPERATIONS as readonly string[]).includes(op)) {
    throw new CliError(`unknown operation '${op}' in "haul pipeline ${name} ${op}"; operations: ${PIPELINE_OPERATIONS.join(', ')} (haul pipeline --help)`, 2);
  }
  return [...args.slice(0, at), 'pipeline', op, name, ...leading, ...rest];
}

/** Env values of dlt-style secret keys (`SOURCES__GITHUB__ACCESS_TOKEN`) are never printed. */
function registerEnvSecrets(): void {
  for (const [k, v] of Object.entries(process.env)) {
    if (!v || !k.includes('__')) continue;
    const last = k.split('__').pop()!.toLowerCase();
    if (SECRET_KEY_RE.test(last)) registerSecret(v);
  }
}

/** Runs the CLI; resolves to the exit code. */
export async function runCli(argv: string[] = process.argv): Promise<number> {
  registerEnvSecrets();
  // `haul ... | head`: a closed pipe ends the output quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    const args = normalizeArgv(argv.slice(2));
    // `haul pipeline ...` never needs the Temporal SDK (about a second to load).
    const program = await haulProgram({ pipelineOnly: args[0] === 'pipeline' || args[0] === 'init' });
    await program.parseAsync([argv[0] ?? 'node', argv[1] ?? 'haul', ...args]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander printed the message (or the help) already.
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0 ? 0 : 2;
    }
    const code = e instanceof CliError ? e.exitCode : 1;
    process.stderr.write(`error: ${errorLine(e)}\n`);
    if (process.env.HAUL_DEBUG && e instanceof Error && e.stack) process.stderr.write(redact(e.stack) + '\n');
    return code;
  }
}

/** Exits once stdout and stderr are flushed (open DuckDB or Temporal handles must not keep the CLI alive). */
export async function exitWith(code: number): Promise<never> {
  await new Promise<void>((r) => process.stdout.write('', () => r()));
  await new Promise<void>((r) => process.stderr.write('', () => r()));
  process.exit(code);
}

function isEntry(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntry()) await exitWith(await runCli(process.argv));
