/** Bench rows: ~10 scalar fields, one nested object and a list of 3 objects (4 rows each). */
export function* benchRows(n: number) {
  const cats = ['books', 'games', 'music', 'tools', 'garden'];
  const countries = ['DE', 'US', 'FR', 'JP', 'BR', 'IN'];
  const base = Date.UTC(2024, 0, 1);
  for (let i = 0; i < n; i++) {
    yield {
      id: i,
      name: `user ${i}`,
      email: `user${i}@example.com`,
      age: 18 + (i % 60),
      score: (i % 1000) / 7,
      active: i % 3 !== 0,
      created_at: new Date(base + i * 1000).toISOString(),
      category: cats[i % cats.length],
      country: countries[i % countries.length],
      amount: Math.round(i * 13.37) / 100,
      address: { street: `${i % 500} Main St`, city: `City ${i % 97}`, zip: String(10000 + (i % 89999)) },
      items: [
        { sku: `A-${i % 1000}`, qty: 1 + (i % 5), price: 9.99 },
        { sku: `B-${i % 777}`, qty: 2, price: 19.5 },
        { sku: `C-${i % 333}`, qty: 1, price: 4.25 },
      ],
    };
  }
}
