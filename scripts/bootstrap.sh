#!/usr/bin/env bash
# Idempotent set-up shared by scripts/demo.sh and scripts/test.sh:
#   .venv with the package and its dev extras, Debian chromium (and its lean headless shell, which
#   the crawl prefers) and tinyproxy, the turso npm package.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

# System packages: Chromium for dealers that need a browser, tinyproxy for the proxy-tier tests.
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromium-headless-shell ] || need+=(chromium-headless-shell)
command -v tinyproxy >/dev/null || [ -x /usr/bin/tinyproxy ] || [ -x /usr/sbin/tinyproxy ] || need+=(tinyproxy)
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  if ! { as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-liberation; } >/dev/null; then
    log "warning: could not install ${need[*]} (not root?); browser/proxy tests will be skipped"
  fi
fi

# Python environment.
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  log "installing the package and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[dev]'
  rm -f .venv/.installed-* && touch "$stamp"
fi

# The local Turso sync server used by the sync tests (the tursodb binary of the npm package).
if command -v npm >/dev/null && [ ! -x .tools/node_modules/@tursodatabase/cli-linux-x64-gnu/tursodb ] \
   && [ -z "$(ls .tools/node_modules/@tursodatabase/*/tursodb 2>/dev/null)" ]; then
  log "installing turso@0.6.0 (npm) into .tools/"
  mkdir -p .tools
  (cd .tools && npm install --silent --no-audit --no-fund turso@0.6.0 >/dev/null) || log "warning: npm install turso failed; sync tests will be skipped"
fi
