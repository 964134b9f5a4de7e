/**
 * A nested, incremental, merge pipeline. Each run loads only orders updated since the last
 * run; changed orders replace their old rows (and their line items) by primary key.
 */
import { incremental, pipeline, resource, source } from 'haul';

interface Order {
  id: number;
  updated_at: string;
  status: string;
  customer: { name: string; email: string };
  lines: Array<{ sku: string; qty: number }>;
}

// Stand-in for an API: orders with an increasing update time.
function fetchOrdersSince(since: string): Order[] {
  const all: Order[] = [1, 2, 3].map((id) => ({
    id,
    updated_at: `2024-01-0${id}T10:00:00Z`,
    status: id === 3 ? 'shipped' : 'open',
    customer: { name: `c${id}`, email: `c${id}@example.com` },
    lines: [{ sku: `A${id}`, qty: id }, { sku: `B${id}`, qty: 1 }],
  }));
  return all.filter((o) => o.updated_at >= since);
}

const shop = source(function shop() {
  return resource(
    async function* orders(ctx) {
      yield fetchOrdersSince(String(ctx.incremental!.startValue));
    },
    { primaryKey: 'id', writeDisposition: 'merge', incremental: incremental('updated_at', { initialValue: '2024-01-01T00:00:00Z' }) },
  );
});

const p = pipeline({ pipelineName: 'shop', destination: 'duckdb', datasetName: 'shop_data' });
console.log((await p.run(shop())).toString());
// The second run finds nothing new: the cursor is at 2024-01-03 and that order is deduplicated.
console.log((await p.run(shop())).toString());
const sql = p.sqlClient();
console.log(await sql.query('SELECT id, status, customer__name FROM orders ORDER BY id'));
console.log(await sql.query('SELECT count(*) AS n FROM orders__lines'));
await sql.close();
