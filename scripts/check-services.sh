#!/usr/bin/env bash
# Checks that the services the test suite needs are up before it runs, and fails loudly
# when one is not (the suite never skips its PostgreSQL tests).
#
#   HAUL_TEST_POSTGRES_URL   the test server (default postgresql://postgres@127.0.0.1:5432/test)
#
# Connects with node + pg (installed by npm), so authentication and the database are
# checked too, not only the port.
set -euo pipefail
cd "$(dirname "$0")/.."

URL="${HAUL_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}"
export HAUL_CHECK_URL="$URL"
if ! node --input-type=module -e '
  import pg from "pg";
  const c = new pg.Client({ connectionString: process.env.HAUL_CHECK_URL, connectionTimeoutMillis: 10000 });
  try {
    await c.connect();
    const r = await c.query("SELECT current_database() AS db, version() AS v");
    console.log(`check-services: PostgreSQL ok (${r.rows[0].db}): ${r.rows[0].v.split(",")[0]}`);
  } catch (e) {
    console.error(`check-services: ${e.message}`);
    process.exitCode = 1;
  } finally {
    await c.end().catch(() => {});
  }
'; then
  safe_url="$(printf '%s' "$URL" | sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#')"
  echo "check-services: FAILED: PostgreSQL at $safe_url is not reachable." >&2
  echo "check-services: the postgres tests need it (user postgres, database test); start the server or set HAUL_TEST_POSTGRES_URL." >&2
  exit 1
fi
