/**
 * `haul init <source> <destination>` (dlt's `dlt init`): writes a runnable pipeline script,
 * .dlt/config.toml and .dlt/secrets.toml entries with placeholders, a .gitignore entry for
 * the secrets, and a package.json when there is none (ESM, so the script may `await`).
 * Existing scripts are kept unless --force; existing toml files only gain the sections they
 * lack (a secret already filled in is never overwritten).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  const script = `${source}_pipeline.ts`;
  if (existsSync(join(dir, script)) && !force) throw new CliError(`${script} exists in ${dir}; pass --force to overwrite it`);

  writeFileSync(join(dir, script), pipelineScript(source, destination));
  mkdirSync(join(dir, '.dlt'), { recursive: true });
  const configAdded = mergeToml(join(dir, '.dlt', 'config.toml'), src.config + dest.config, '# Settings: [sources.<name>] and [destination.<name>] as in dlt; env vars (SOURCES__X__Y) win.\n');
  const secretsAdded = mergeToml(join(dir, '.dlt', 'secrets.toml'), src.secrets + dest.secrets, '# Secrets: keep this file out of git (haul init added it to .gitignore).\n');
  ensureLine(join(dir, '.gitignore'), '.dlt/secrets.toml');
  const wrotePackage = !existsSync(join(dir, 'package.json'));
  if (wrotePackage) writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `${source}-pipeline`, private: true, type: 'module', dependencies: { haul: '*', tsx: '*' } }, null, 2) + '\n');

  out(`Wrote ${script}${configAdded ? ', .dlt/config.toml' : ''}${secretsAdded ? ', .dlt/secrets.toml' : ''}${wrotePackage ? ', package.json' : ''} and a .gitignore entry for .dlt/secrets.toml.`);
  out('Next:');
  let step = 1;
  if (wrotePackage) out(`  ${step++}. npm install`);
  if (src.secrets || dest.secrets) out(`  ${step++}. put your credentials into .dlt/secrets.toml (the values marked "please set me up!")`);
  if (src.config || dest.config) out(`  ${step++}. check the settings in .dlt/config.toml`);
  out(`  ${step++}. npx tsx ${script}`);
  out(`  ${step++}. npx haul pipeline ${source}_pipeline info`);
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
