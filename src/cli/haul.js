#!/usr/bin/env node
// The `haul` bin. In a checkout (src/cli/main.ts next to this file and tsx installed, as
// after `npm install`/`npm ci`) it runs the TypeScript source through tsx, so a change is
// seen at once, never a stale build. In an installed package (which ships only this file of
// src/, and the build in dist/) it runs dist/src/cli/main.js; when the project that installed
// haul has tsx, it is registered first so `haul worker --sources ./my-sources.ts` can load
// a TypeScript module.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'main.ts');
const built = join(here, '..', '..', 'dist', 'src', 'cli', 'main.js');

/** Registers tsx's loader; false when tsx is not installed. */
async function registerTsx() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch (e) {
    if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes("'tsx")) return false;
    throw e;
  }
}

async function load() {
  if (existsSync(source) && (await registerTsx())) return import(pathToFileURL(source).href);
  if (existsSync(built)) {
    if (!existsSync(source)) await registerTsx();
    return import(pathToFileURL(built).href);
  }
  process.stderr.write('error: the haul CLI is not built: run `npm install` (a checkout runs from source with tsx) or `npm run build`\n');
  process.exit(1);
}

const cli = await load();
await cli.exitWith(await cli.runCli(process.argv));
