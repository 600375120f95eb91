#!/usr/bin/env bash
# Installs what the console's end-to-end tests need, and only what is missing: Debian's
# chromium (driven by playwright-core, which never downloads a browser of its own) and the
# npm packages pinned in tests/e2e/package-lock.json. Called by the Makefile's test targets;
# `make run` never needs it.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

bash scripts/install-deps.sh chromium
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-e2e-deps: installing nodejs and npm"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm
fi
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  echo "install-e2e-deps: npm ci in tests/e2e"
  # playwright-core ships no browser and downloads none; this keeps any install hook from trying.
  (cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi
