/**
 * `haul init <source> <destination>` (dlt's `dlt init`): writes a runnable pipeline script,
 * .dlt/config.toml and .dlt/secrets.toml entries with placeholders, a .gitignore entry for
 * the secrets, and a package.json when there is none (ESM, so the script may `await`; haul
 * as a file: dependency on the copy that runs init, since npm's `haul` is another package).
 * In a project that is not ESM the script is a .mts file.
 * Existing scripts are kept unless --force; existing toml files only gain the sections they
 * lack (a secret already filled in is never overwritten).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError, out } from './output.js';
import { DESTINATION_TEMPLATES, pipelineScript, SOURCE_TEMPLATES } from './init-templates.js';

interface InitOpts {
  listSources?: boolean;
  force?: boolean;
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .argument('[source]', `the source: ${Object.keys(SOURCE_TEMPLATES).join(', ')}`)
    .argument('[destination]', `the destination: ${Object.keys(DESTINATION_TEMPLATES).join(', ')}`)
    .description('write a new pipeline script and its .dlt/ config in the current folder (like dlt init)')
    .option('-l, --list-sources', 'list the sources init can start from')
    .option('-f, --force', 'overwrite an existing pipeline script')
    .action((source: string | undefined, destination: string | undefined, o: InitOpts) => {
      if (o.listSources) return listSources();
      if (!source || !destination) throw new CliError('usage: haul init <source> <destination> (haul init --list-sources shows the sources)', 2);
      initProject(process.cwd(), source, destination, o.force ?? false);
    });
}

function listSources(): void {
  out('Sources haul init can start from:');
  for (const [name, t] of Object.entries(SOURCE_TEMPLATES)) out(`  ${name.padEnd(14)}${t.description}`);
  out(`Destinations: ${Object.keys(DESTINATION_TEMPLATES).join(', ')}`);
}

export function initProject(dir: string, source: string, destination: string, force: boolean): void {
  const src = SOURCE_TEMPLATES[source];
  if (!src) throw new CliError(`unknown source "${source}"; choose one of ${Object.keys(SOURCE_TEMPLATES).join(', ')} (haul init --list-sources)`, 2);
  const dest = DESTINATION_TEMPLATES[destination];
  if (!dest) throw new CliError(`unknown destination "${destination}"; choose one of ${Object.keys(DESTINATION_TEMPLATES).join(', ')}`, 2);
  const pkg = readPackageJson(dir);
  // a project that is not ESM (npm init writes "type": "commonjs") runs a .mts script as ESM: the template awaits at top level
  const script = `${source}_pipeline.${pkg === undefined || pkg.type === 'module' ? 'ts' : 'mts'}`;
  if (existsSync(join(dir, script)) && !force) throw new CliError(`${script} exists in ${dir}; pass --force to overwrite it`);

  writeFileSync(join(dir, script), pipelineScript(source, destination));
  mkdirSync(join(dir, '.dlt'), { recursive: true });
  const configAdded = mergeToml(join(dir, '.dlt', 'config.toml'), src.config + dest.config, '# Settings: [sources.<name>] and [destination.<name>] as in dlt; env vars (SOURCES__X__Y) win.\n');
  const secretsAdded = mergeToml(join(dir, '.dlt', 'secrets.toml'), src.secrets + dest.secrets, '# Secrets: keep this file out of git (haul init added it to .gitignore).\n');
  ensureLine(join(dir, '.gitignore'), '.dlt/secrets.toml');
  const wrotePackage = pkg === undefined;
  // npm's own `haul` is another package: the dependency is the haul that runs this command
  const haulSpec = `file:${relative(dir, HAUL_ROOT) || '.'}`;
  if (wrotePackage) writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `${source}-pipeline`, private: true, type: 'module', dependencies: { haul: haulSpec }, devDependencies: { tsx: TSX_RANGE } }, null, 2) + '\n');
  const hasTsx = wrotePackage || pkg?.dependencies?.tsx !== undefined || pkg?.devDependencies?.tsx !== undefined;

  out(`Wrote ${script}${configAdded ? ', .dlt/config.toml' : ''}${secretsAdded ? ', .dlt/secrets.toml' : ''}${wrotePackage ? ', package.json' : ''} and a .gitignore entry for .dlt/secrets.toml.`);
  out('Next:');
  let step = 1;
  if (wrotePackage) out(`  ${step++}. npm install   (haul from ${HAUL_ROOT}: the npm registry's "haul" is another package)`);
  if (!hasTsx) out(`  ${step++}. npm install -D tsx`);
  if (src.secrets || dest.secrets) out(`  ${step++}. put your credentials into .dlt/secrets.toml (the values marked "please set me up!")`);
  if (src.config || dest.config) out(`  ${step++}. check the settings in .dlt/config.toml`);
  out(`  ${step++}. npx tsx ${script}`);
  out(`  ${step++}. npx haul pipeline ${source}_pipeline info`);
}

/** The root of the haul package running this command (a checkout or an installed copy). */
const HAUL_ROOT = packageRootOf(dirname(fileURLToPath(import.meta.url)));
/** tsx, as haul's own checkout uses it. */
const TSX_RANGE = '^4.23.15';

function packageRootOf(from: string): string {
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && (JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { name?: string }).name === 'haul') return d;
    if (dirname(d) === d) return from;
  }
}

interface PackageJson {
  type?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function readPackageJson(dir: string): PackageJson | undefined {
  const path = join(dir, 'package.json');
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
  } catch {
    throw new CliError(`${path} is not valid JSON; fix it (haul init reads its "type" and dependencies)`);
  }
}

/** Appends the `[section]` blocks of `text` the file does not have yet; true when it wrote something. */
function mergeToml(path: string, text: string, header: string): boolean {
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  const blocks = text.split(/^(?=\[)/m).filter((b) => b.trim() !== '');
  const missing = blocks.filter((b) => existing === undefined || !existing.includes(b.split('\n', 1)[0]!));
  if (existing === undefined) {
    writeFileSync(path, header + (missing.length ? '\n' : '') + missing.join('\n'));
    return true;
  }
  if (missing.length === 0) return false;
  writeFileSync(path, existing.replace(/\n*$/, '\n\n') + missing.join('\n'));
  return true;
}

function ensureLine(path: string, line: string): void {
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (existing.split('\n').some((l) => l.trim() === line)) return;
  writeFileSync(path, existing === '' || existing.endsWith('\n') ? existing + line + '\n' : `${existing}\n${line}\n`);
}
