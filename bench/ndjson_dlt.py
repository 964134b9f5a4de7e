"""dlt on the NDJSON case (bench/ndjson.ts runs it): the same file, the same generator
(one json.loads per line), into a DuckDB file. argv: file, mode (defaults | parquet), out dir.
Prints one JSON line: rows, seconds, peak RSS in MB (this process and its worker processes)."""
import json
import os
import resource
import sys
import time

path, mode, out = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "parquet":
    # dlt's best configuration on this machine: parquet files, 2 normalize workers
    os.environ["NORMALIZE__WORKERS"] = "2"
import dlt  # noqa: E402  (after the env var: dlt reads its config when the pipeline runs)


@dlt.resource(name="users")
def users():
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


p = dlt.pipeline(
    pipeline_name=f"ndjson_{mode}",
    pipelines_dir=os.path.join(out, "dlt_pipelines"),
    destination=dlt.destinations.duckdb(os.path.join(out, f"dlt_{mode}.duckdb")),
    dataset_name="bench",
)
t0 = time.perf_counter()
info = p.run(users(), loader_file_format="parquet" if mode == "parquet" else None)
seconds = time.perf_counter() - t0
rows = p.last_trace.last_normalize_info.row_counts.get("users", 0)
rss_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"rows": rows, "seconds": seconds, "peakRssMb": rss_kb / 1024}))
