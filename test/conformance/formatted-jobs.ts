/**
 * A destination whose job files arrive as parquet or csv, as normalize writes them for
 * `loaderFileFormat`: the conformance suite writes JSONL job files, and this wrapper converts
 * each one (src/storage/job-formats.ts, the converter normalize uses) before the load call, so
 * every case also runs over those files and reads them back. The suite's job names stay
 * theirs: `completedJobs` answers with the `.jsonl` names it handed in.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationClient, DestinationFactory, JobFile, TableChainJob } from '../../src/destinations/types.js';
import type { Schema } from '../../src/schema/schema.js';
import { convertJobFiles } from '../../src/storage/job-formats.js';

type Format = 'parquet' | 'csv';

export function withJobFormat(factory: DestinationFactory, format: Format): DestinationFactory {
  return { ...factory, createClient: (ctx) => formatted(factory.createClient(ctx), format) };
}

function formatted(client: DestinationClient, format: Format): DestinationClient {
  const suffix = `.${format}`;
  /** Runs `fn` with the job converted (in a temp folder removed afterwards); files the converter skips pass as they are. */
  const converting = async <T>(schema: Schema, jobs: JobFile[], fn: (jobs: JobFile[]) => Promise<T>): Promise<T> => {
    const dir = mkdtempSync(join(tmpdir(), 'haul-conf-fmt-'));
    try {
      const out: JobFile[] = [];
      for (const job of jobs) {
        const columns = Object.values(schema.getTable(job.table)?.columns ?? {}).filter((c) => !c.incomplete);
        if (job.format !== 'jsonl' || columns.length === 0 || !existsSync(job.path)) {
          out.push(job);
          continue;
        }
        const one = mkdtempSync(join(dir, 'job-'));
        copyFileSync(job.path, join(one, job.jobName));
        const [name] = await convertJobFiles(one, format, () => columns);
        out.push(name === undefined ? job : { ...job, jobName: name, path: join(one, name), format });
      }
      return await fn(out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return new Proxy(client, {
    get(target, prop) {
      if (prop === 'loadAppendJob') {
        return (loadId: string, schema: Schema, job: JobFile) => converting(schema, [job], ([j]) => target.loadAppendJob(loadId, schema, j!));
      }
      if (prop === 'loadTableChain') {
        return (loadId: string, schema: Schema, chain: TableChainJob) => converting(schema, chain.files, (files) => target.loadTableChain(loadId, schema, { ...chain, files }));
      }
      if (prop === 'completedJobs') {
        return async (loadId: string) => new Set([...(await target.completedJobs(loadId))].map((n) => (n.endsWith(suffix) ? `${n.slice(0, -suffix.length)}.jsonl` : n)));
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
