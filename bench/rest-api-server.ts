/**
 * The bench's API, in its own process: BENCH_ROWS nested records (bench/data.ts) served as
 * JSON pages of BENCH_PAGE records with offset/limit and a total. Prints its URL, then
 * serves until killed.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { benchRows } from './data.js';

const rows = Number(process.env.BENCH_ROWS ?? 100_000);
const all = [...benchRows(rows)];
const server = createServer((req, res) => {
  const u = new URL(req.url!, 'http://x');
  const offset = Number(u.searchParams.get('offset') ?? 0);
  const limit = Number(u.searchParams.get('limit') ?? 1000);
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ data: all.slice(offset, offset + limit), total: all.length }));
});
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
