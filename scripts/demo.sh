#!/usr/bin/env bash
# The main job on a fresh machine: set up, then crawl the bundled sample dealer sites.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/staktrakr demo "$@"
