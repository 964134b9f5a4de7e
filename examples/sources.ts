/**
 * Sources a haul worker can run by name (`npx tsx worker.ts --sources ./examples/sources.ts`).
 * A workflow input names one (`source: 'chess'`) and passes JSON args.
 */
import { resource, source } from 'haul';

const PLAYERS = [
  { id: 1, name: 'Magnus', tags: ['gm', 'champion'], owner: { name: 'x', country: 'NO' }, rating: 2830 },
  { id: 2, name: 'Hikaru', tags: ['gm'], owner: { name: 'y', country: 'US' }, rating: 2802.5 },
  { id: 3, name: 'Alireza', tags: ['gm'], owner: { name: 'z', country: 'FR' }, rating: 2760 },
];

/** Chess players (merge on id) and their games; `limit` caps the players. */
export const chess = source(function chess(opts: { limit?: number } = {}) {
  const players = resource(
    function* players() {
      yield PLAYERS.slice(0, opts.limit ?? PLAYERS.length);
    },
    { primaryKey: 'id', writeDisposition: 'merge' },
  );
  const games = resource(
    function* games() {
      for (let i = 1; i <= 10; i++) yield { id: i, white: 1 + (i % 3), black: 1 + ((i + 1) % 3), moves: ['e4', 'e5', 'Nf3'].slice(0, 1 + (i % 3)), result: i % 2 ? '1-0' : '1/2' };
    },
    { primaryKey: 'id', writeDisposition: 'merge' },
  );
  return [players, games];
});

/** `n` generated rows (args: { n }). */
export function numbers(opts: { n: number }) {
  return resource(
    function* numbers() {
      for (let i = 1; i <= opts.n; i++) yield { id: i, value: i * 1.5 };
    },
    { name: 'numbers' },
  );
}

export const sources = { chess, numbers };
export default sources;
