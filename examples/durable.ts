/**
 * `npm start`: the example pipeline through Temporal. Without TEMPORAL_ADDRESS it starts a
 * local Temporal dev server with the Web UI (the `temporal` CLI, installed by
 * scripts/setup-temporal.sh), runs a worker in this process, runs the `chess` source into
 * ./chess.duckdb as workflow `pipeline/chess`, and prints the LoadInfo, the workflow id,
 * the UI link and `temporal workflow list`. In a terminal it then keeps the server and UI
 * up until Ctrl-C (HAUL_EXIT=1 exits right away); without a terminal (CI) it stops the server
 * and exits. With TEMPORAL_ADDRESS it uses that server and exits when done; TEMPORAL_UI_URL
 * (that server's Web UI, e.g. http://localhost:8080 for docker-compose.yml) gives the link.
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import {
  createWorker,
  findTemporalCli,
  formatRunResult,
  registerSearchAttributes,
  runPipeline,
  startDevServer,
  workflowUiUrl,
  type DevServer,
} from 'haul/temporal';
import { sources } from './sources.js';

Runtime.install({ logger: new DefaultLogger('WARN') });

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer()
      .once('error', () => done(false))
      .once('listening', () => s.close(() => done(true)))
      .listen(port, '127.0.0.1');
  });
}

const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
let server: DevServer | undefined;
let address = process.env.TEMPORAL_ADDRESS;
let uiUrl = process.env.TEMPORAL_UI_URL;
if (!address) {
  // The usual ports (7233, UI 8233) when free, so `temporal workflow list` works as is.
  const usual = (await portFree(7233)) && (await portFree(8233));
  console.log(`Starting a local Temporal dev server${usual ? ' on localhost:7233' : ''} (Web UI on)...`);
  server = await startDevServer({ ui: true, port: usual ? 7233 : undefined, uiPort: usual ? 8233 : undefined, namespace });
  address = server.address;
  uiUrl = server.uiUrl;
} else {
  const c = await Connection.connect({ address });
  await registerSearchAttributes(c, namespace);
  await c.close();
}

const connection = await NativeConnection.connect({ address });
const client = new Client({ connection: await Connection.connect({ address }), namespace });
const worker = await createWorker({ sources, connection, namespace, taskQueue: process.env.HAUL_TASK_QUEUE ?? 'haul' });

const input = {
  pipelineName: 'chess',
  source: 'chess',
  destination: 'duckdb',
  destinationOptions: { path: resolve('chess.duckdb') },
  datasetName: 'chess_data',
};
try {
  const result = await worker.runUntil(() => runPipeline(client, input, { taskQueue: worker.taskQueue }));
  console.log(formatRunResult(result));
  console.log(`\nWorkflow id: pipeline/${input.pipelineName} (Temporal at ${address}, namespace ${namespace})`);
  if (uiUrl) console.log(`Temporal UI: ${workflowUiUrl(uiUrl, `pipeline/${input.pipelineName}`, namespace)}`);
  else console.log('Temporal UI: set TEMPORAL_UI_URL to the Web UI of the server at TEMPORAL_ADDRESS for a link');
  const cli = findTemporalCli();
  const query = `HaulPipeline='${input.pipelineName}'`;
  if (cli) {
    console.log(`\n$ temporal workflow list --address ${address} --query "${query}"`);
    // Visibility is eventually consistent; give it a moment.
    let out = '';
    for (let i = 0; i < 20 && !out.includes('pipeline/'); i++) {
      out = execFileSync(cli, ['workflow', 'list', '--address', address, '--namespace', namespace, '--query', query], { encoding: 'utf8' });
      if (!out.includes('pipeline/')) await new Promise((r) => setTimeout(r, 250));
    }
    console.log(out.trimEnd());
  }
} finally {
  await connection.close();
  await client.connection.close();
}

if (server) {
  if (process.stdout.isTTY && !process.env.HAUL_EXIT) {
    console.log(`\nThe dev server and its UI (${uiUrl}) stay up until Ctrl-C.`);
    await untilInterrupted();
    console.log('Stopping the dev server...');
  }
  await server.stop();
}

/**
 * Resolves on the first Ctrl-C (SIGINT) or SIGTERM. A pending promise alone does not keep
 * Node running (it would exit with code 13, "unsettled top-level await"), and neither does
 * the dev server, which the SDK's native runtime owns: a timer holds the event loop open.
 * The handlers stay on: under `npm start` one Ctrl-C arrives twice (from the terminal, and
 * forwarded by npm), and a second SIGINT without a handler would kill the process (130)
 * before the server is stopped.
 */
function untilInterrupted(): Promise<void> {
  return new Promise((done) => {
    const keepAlive = setInterval(() => undefined, 60_000);
    const stop = () => {
      clearInterval(keepAlive);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
