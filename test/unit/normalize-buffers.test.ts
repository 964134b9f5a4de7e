/**
 * A thread that normalizes file after file keeps its buffers (NormalizeBuffers): the next
 * call writes into them, and the output is byte for byte what fresh buffers give.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Schema } from '../../src/schema/schema.js';
import { NormalizeBuffers } from '../../src/normalize/buffers.js';
import { normalizeInThread } from '../../src/normalize/in-thread.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Counter bytes instead of random ones, so two runs give the same ids. */
const counting = () => {
  let k = 0;
  return (n: number) => Buffer.from(Array.from({ length: n }, () => k++ & 0xff));
};

/** Normalizes the files one call each (as the pre-normalize thread does); returns the output text per call. */
async function normalizeEach(inputs: string[], buffers: NormalizeBuffers | undefined): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'haul-buffers-'));
  dirs.push(dir);
  const schema = new Schema('test');
  schema.ensureTable('users', { writeDisposition: 'append', resource: 'users' });
  const randomBytes = counting();
  const out: string[] = [];
  for (const [i, text] of inputs.entries()) {
    const input = join(dir, `in-${i}.jsonl`);
    writeFileSync(input, text);
    const outDir = join(dir, `out-${i}`);
    mkdirSync(outDir);
    let fid = 0;
    await normalizeInThread({ schema, loadId: '1700000000.1', inputs: [{ table: 'users', path: input }], outDir, nextFileId: () => String(fid++) }, { randomBytes, buffers });
    out.push(readdirSync(outDir).sort().map((f) => `${f}\n${readFileSync(join(outDir, f), 'utf8')}`).join('\n'));
  }
  return out;
}

const lines = (from: number, n: number, pad: number) =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ id: from + i, name: 'x'.repeat(pad + (i % 7)), items: [{ sku: `s${i}`, qty: i }, { sku: 't', qty: null }] })).join('\n') + '\n';

describe('NormalizeBuffers', () => {
  it('gives the next call the buffers the last one grew, and the same output as fresh buffers', async () => {
    // a large file first (its buffers grow), then smaller ones that fit in them
    const inputs = [lines(0, 3000, 200), lines(3000, 50, 10), lines(3050, 400, 40)];
    const buffers = new NormalizeBuffers();
    const kept = await normalizeEach(inputs, buffers);
    expect(kept).toEqual(await normalizeEach(inputs, undefined));
    expect(kept[0]).toContain('"id":2999');

    const grown = buffers.take();
    expect(grown.length).toBeGreaterThan(64 * 1024);
    expect(buffers.readBuffer).toBeDefined();
  });
});
