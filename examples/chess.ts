/**
 * The README's first example: nested JSON into DuckDB, in-process. Run with `npm start`.
 * Creates `chess.duckdb` in the current directory with the dataset `chess_data`.
 */
import { pipeline } from 'haul';

const p = pipeline({ pipelineName: 'chess', destination: 'duckdb', datasetName: 'chess_data' });
const info = await p.run(
  [
    { id: 1, name: 'Magnus', tags: ['gm', 'champion'], owner: { name: 'x', country: 'NO' }, rating: 2830 },
    { id: 2, name: 'Hikaru', tags: ['gm'], owner: { name: 'y', country: 'US' }, rating: 2802.5 },
  ],
  { tableName: 'players', writeDisposition: 'merge', primaryKey: 'id' },
);
console.log(info.toString());

const sql = p.sqlClient();
console.log(await sql.query('SELECT id, name, owner__name, rating FROM players ORDER BY id'));
console.log(await sql.query('SELECT value, _dlt_list_idx FROM players__tags ORDER BY _dlt_parent_id, _dlt_list_idx'));
await sql.close();
