/** JobFileWriter's rotation sizes: with `firstFileBytes` each file ends at twice the last one's size, up to maxFileBytes. */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobFileWriter, announceInOrder } from '../../src/storage/job-file-writer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Writes `rows` rows of 10 bytes each in chunks of 7 rows; the file sizes in order, the files announced, all text. */
async function write(opts: { maxFileBytes: number; firstFileBytes?: number }, rows: number): Promise<{ sizes: number[]; done: string[]; text: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'haul-jfw-'));
  dirs.push(dir);
  let id = 0;
  const done: string[] = [];
  const w = new JobFileWriter({ dir, table: 't', nextFileId: () => String(id++).padStart(4, '0'), onFileDone: (name) => done.push(name), ...opts });
  const all = Array.from({ length: rows }, (_, i) => `r${String(i).padStart(8, '0')}\n`).join('');
  for (let i = 0; i < rows; i += 7) {
    const chunk = Buffer.from(all.slice(i * 10, Math.min(rows, i + 7) * 10));
    w.writeRows(chunk, chunk.length);
  }
  const files = w.close();
  // announced once on disk (after a turn of the event loop)
  await new Promise((r) => setImmediate(r));
  return { sizes: files.map((f) => statSync(join(dir, f)).size), done, text: files.map((f) => readFileSync(join(dir, f), 'utf8')).join('') };
}

describe('JobFileWriter rotation', () => {
  it('grows from firstFileBytes, doubling, up to maxFileBytes; every row once, in order, whole', async () => {
    const { sizes, done, text } = await write({ maxFileBytes: 400, firstFileBytes: 100 }, 150);
    expect(sizes).toEqual([100, 200, 400, 400, 400]);
    // each ended by rotation (the last one filled up too), so each was announced
    expect(done).toHaveLength(5);
    expect(text).toBe(Array.from({ length: 150 }, (_, i) => `r${String(i).padStart(8, '0')}\n`).join(''));
  });

  it('one size without firstFileBytes, or when it is not smaller', async () => {
    expect((await write({ maxFileBytes: 400 }, 150)).sizes).toEqual([400, 400, 400, 300]);
    expect((await write({ maxFileBytes: 400, firstFileBytes: 800 }, 150)).sizes).toEqual([400, 400, 400, 300]);
  });
});

describe('overlapped writes hand their buffers back', () => {
  it('calls `written` once per writeRows, after the bytes are in every file the buffer went to', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'haul-jfw-'));
    dirs.push(dir);
    let id = 0;
    const w = new JobFileWriter({ dir, table: 't', nextFileId: () => String(id++).padStart(4, '0'), maxFileBytes: 50, overlapped: true });
    const calls: number[] = [];
    // 12 rows of 10 bytes: cut into three files (50, 50, 20 bytes)
    const buf = Buffer.from(Array.from({ length: 12 }, (_, i) => `r${String(i).padStart(8, '0')}\n`).join(''));
    w.writeRows(buf, buf.length, () => calls.push(calls.length));
    expect(calls).toEqual([]); // the writes are still in flight
    const files = w.close();
    await w.settled();
    expect(calls).toEqual([0]);
    expect(files.map((f) => readFileSync(join(dir, f), 'utf8')).join('')).toBe(buf.toString());
    expect(files.map((f) => statSync(join(dir, f)).size)).toEqual([50, 50, 20]);
  });
});

describe('rotated files are announced in the order they were written', () => {
  const deferred = () => {
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => undefined);
    return { promise, resolve, reject };
  };
  const ticks = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };

  it('a later file whose close lands first waits for the earlier one', async () => {
    const seen: string[] = [];
    const first = deferred();
    const second = deferred();
    const a = announceInOrder(Promise.resolve(), first.promise, () => seen.push('first'));
    const b = announceInOrder(a, second.promise, () => seen.push('second'));
    second.resolve();
    await ticks();
    expect(seen).toEqual([]);
    first.resolve();
    await b;
    expect(seen).toEqual(['first', 'second']);
  });

  it('a failed write is not announced, the files after it are, and nothing rejects', async () => {
    const seen: string[] = [];
    const first = deferred();
    const second = deferred();
    const a = announceInOrder(Promise.resolve(), first.promise, () => seen.push('first'));
    const b = announceInOrder(a, second.promise, () => {
      seen.push('second');
      throw new Error('the consumer failed');
    });
    const c = announceInOrder(b, Promise.resolve(), () => seen.push('third'));
    first.reject(new Error('disk full'));
    second.resolve();
    await expect(c).resolves.toBeUndefined();
    expect(seen).toEqual(['second', 'third']);
  });

  it('JobFileWriter announces many rotated files in file order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'haul-announce-'));
    dirs.push(dir);
    let id = 0;
    const announced: string[] = [];
    const w = new JobFileWriter({ dir, table: 't', maxFileBytes: 1 << 30, overlapped: true, nextFileId: () => String(id++).padStart(6, '0'), onFileDone: (name) => announced.push(name) });
    // big and small files alternate, so a small file's close may land before a big one's
    for (let f = 0; f < 12; f++) {
      const bytes = Buffer.from(`${'x'.repeat(f % 2 === 0 ? 2 << 20 : 10)}\n`);
      w.writeRows(bytes, bytes.length);
      w.rotate();
    }
    w.close();
    await w.settled();
    await ticks();
    expect(announced).toEqual([...w.files].slice(0, 12));
  });
});
