#!/usr/bin/env bash
# The whole test suite on a fresh machine: set up, then pytest (browser tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
TURSODB_BIN=$(ls .tools/node_modules/@tursodatabase/*/tursodb 2>/dev/null | head -1 || true)
export TURSODB_BIN
exec .venv/bin/python -m pytest "$@"
