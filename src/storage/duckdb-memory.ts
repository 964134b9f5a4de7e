/**
 * A DuckDB instance option: memory DuckDB frees in a large piece (a COPY's or a bulk insert's
 * buffers at its end) goes back to the system at once. DuckDB's default (512 MiB) kept it
 * resident, and a process's RSS grew with each file to well over its memory_limit. 16–32MB
 * bound it, 64MB did not. A destination's load keeps its speed; a 1M-row conversion takes
 * 0.3–0.7 s longer, for 150–200 MB less (docs/performance.md, sections 28 and 29).
 */
export const FLUSH_FREED_MEMORY = { allocator_bulk_deallocation_flush_threshold: '32MB' } as const;
