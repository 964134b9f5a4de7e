/**
 * What `haul init <source> <destination>` writes: a pipeline script per source (importing
 * from 'haul'), and the .dlt/config.toml and .dlt/secrets.toml entries the source and the
 * destination read, with placeholders where the user must fill in a value.
 */

export interface SourceTemplate {
  description: string;
  /** Imports from 'haul' the script needs besides `pipeline`. */
  imports: string[];
  /** Code that defines `data` (what `p.run()` loads); may `await`. */
  body: string;
  config: string;
  secrets: string;
}

export const SOURCE_TEMPLATES: Record<string, SourceTemplate> = {
  empty: {
    description: 'an empty template: one resource of your own to fill in',
    imports: ['resource'],
    body: `// Replace these rows with your own data: an API, a file, a database... Yield items or pages.
const data = resource(
  function* my_data() {
    yield [
      { id: 1, name: 'Alice', joined: '2024-01-01T00:00:00Z' },
      { id: 2, name: 'Bob', joined: '2024-02-01T00:00:00Z' },
    ];
  },
  // writeDisposition: 'merge' updates rows by primary key instead of appending (duckdb, postgres)
  { primaryKey: 'id' },
);`,
    config: '',
    secrets: '',
  },
  rest_api: {
    description: "a REST API, declared with restApiSource (dlt's rest_api)",
    imports: ['restApiSource'],
    body: `// Describe the API: its client (base URL, auth, paginator) and the endpoints to load.
// The example reads PokeAPI (public, no token); see the README's "REST APIs" section.
const data = restApiSource({
  name: 'rest_api',
  client: {
    baseUrl: 'https://pokeapi.co/api/v2/',
    // auth: { type: 'bearer' }, // token from [sources.rest_api] token in .dlt/secrets.toml
  },
  resourceDefaults: { primaryKey: 'name', writeDisposition: 'merge' },
  resources: [
    { name: 'pokemon', endpoint: { path: 'pokemon', params: { limit: 100 } } },
    { name: 'berry', endpoint: { path: 'berry', params: { limit: 100 } } },
  ],
});`,
    config: '',
    secrets: `[sources.rest_api]
token = "<your API token, if the API needs one>" # please set me up!
`,
  },
  sql_database: {
    description: "tables of a SQL database (PostgreSQL, MySQL/MariaDB, SQLite, DuckDB), dlt's sql_database",
    imports: ['sqlDatabase', 'config'],
    body: `// Copies the tables of a database schema; credentials come from [sources.sql_database]
// in .dlt/secrets.toml (or SOURCES__SQL_DATABASE__CREDENTIALS).
const data = await sqlDatabase({
  schema: config.getOptional('sources.sql_database.schema'), // default: the connection's (public, main, ...)
  // tableNames: ['orders', 'customers'],
  // incremental: incremental('updated_at'), // with writeDisposition: 'merge' to load only changes
});`,
    config: `[sources.sql_database]
# schema = "public"
`,
    secrets: `[sources.sql_database]
credentials = "postgresql://loader:<password>@localhost:5432/dlt_data" # please set me up!
`,
  },
  filesystem: {
    description: "files of a folder (csv, jsonl, parquet), dlt's filesystem source and readers",
    imports: ['filesystemSource', 'readCsv', 'incremental'],
    body: `// Lists the CSV files of the bucket ([sources.filesystem] bucket_url in .dlt/config.toml) and
// reads their rows; on later runs only new or changed files are read. Use readJsonl() or
// readParquet() for other formats.
const data = filesystemSource({ fileGlob: '*.csv' })
  .applyHints({ incremental: incremental('modification_date') })
  .pipeTo(readCsv({ name: 'files_data' }));`,
    config: `[sources.filesystem]
bucket_url = "data" # a folder (relative to where you run the script) or file:///absolute/path
`,
    secrets: '',
  },
};

export interface DestinationTemplate {
  config: string;
  secrets: string;
}

export const DESTINATION_TEMPLATES: Record<string, DestinationTemplate> = {
  duckdb: { config: '', secrets: '' },
  postgres: {
    config: '',
    secrets: `[destination.postgres]
credentials = "postgresql://loader:<password>@localhost:5432/dlt_data" # please set me up!
`,
  },
  filesystem: {
    config: `[destination.filesystem]
bucket_url = "lake" # where the files go: a folder or file:///absolute/path
`,
    secrets: '',
  },
};

/** The pipeline script for a source and a destination. */
export function pipelineScript(sourceName: string, destination: string): string {
  const t = SOURCE_TEMPLATES[sourceName]!;
  const name = `${sourceName}_pipeline`;
  return `/**
 * A haul pipeline made by \`haul init ${sourceName} ${destination}\`: ${t.description}.
 * Run it with \`npx tsx ${name}.ts\`; settings are in .dlt/config.toml, secrets in .dlt/secrets.toml.
 */
import { ${['pipeline', ...t.imports].join(', ')} } from 'haul';

${t.body}

const p = pipeline({
  pipelineName: '${name}',
  destination: '${destination}',
  datasetName: '${sourceName}_data',
});
const info = await p.run(data);
console.log(info.toString());
`;
}
