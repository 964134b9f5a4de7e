#!/usr/bin/env node
// The `haul` bin. In a checkout (src/cli/main.ts next to this file and tsx installed, as
// after `npm install`/`npm ci`) it runs the TypeScript source through tsx, so a fresh clone
// needs no build step and never runs a stale build. Otherwise (an installed package) it runs
// the build output, dist/src/cli/main.js (`npm run build`).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'main.ts');
const built = join(here, '..', '..', 'dist', 'src', 'cli', 'main.js');

async function load() {
  if (existsSync(source)) {
    try {
      const { register } = await import('tsx/esm/api');
      register();
      return await import(pathToFileURL(source).href);
    } catch (e) {
      if (!(e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes("'tsx"))) throw e;
    }
  }
  if (existsSync(built)) return import(pathToFileURL(built).href);
  process.stderr.write('error: the haul CLI is not built: run `npm install` (a checkout runs from source with tsx) or `npm run build`\n');
  process.exit(1);
}

const cli = await load();
await cli.exitWith(await cli.runCli(process.argv));
