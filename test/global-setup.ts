/**
 * vitest globalSetup: ONE Temporal dev server for the whole suite (the `temporal` CLI,
 * installed by scripts/setup-temporal.sh), haul's search attributes registered, and the
 * workflow code bundled once. Test files get the address and the bundle path through
 * `inject('temporalAddress')` / `inject('workflowBundlePath')`.
 * TEMPORAL_ADDRESS set: that running server is used instead. A missing CLI fails the run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { findTemporalCli, MISSING_CLI_MESSAGE } from '../src/temporal/cli-path.js';
import { registerSearchAttributes } from '../src/temporal/client.js';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { bundleHaulWorkflows } from '../src/temporal/worker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'haul-temporal-'));
  let server: DevServer | undefined;
  let address = process.env.TEMPORAL_ADDRESS;
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const started = performance.now();
  const bundling = bundleHaulWorkflows();
  if (address) {
    const { Connection } = await import('@temporalio/client');
    const connection = await Connection.connect({ address });
    await registerSearchAttributes(connection, namespace);
    await connection.close();
  } else {
    const cli = findTemporalCli();
    if (!cli) throw new Error(`test setup: ${MISSING_CLI_MESSAGE}`);
    server = await startDevServer({ cliPath: cli, namespace });
    address = server.address;
  }
  const { code } = await bundling;
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  project.provide('temporalAddress', address);
  project.provide('temporalNamespace', namespace);
  project.provide('workflowBundlePath', bundlePath);
  if (process.env.HAUL_TEST_VERBOSE) console.log(`temporal: ${address} (ready in ${Math.round(performance.now() - started)} ms)`);

  return async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
