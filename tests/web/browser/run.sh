#!/usr/bin/env bash
# Browser test of the web dashboard: Debian's chromium, headless, driven by puppeteer-core from
# the npm registry (installed once into $CAPF_WEB_TEST_DIR). Exit 77 (skipped) when chromium,
# node or npm is missing, so a machine without them still runs the rest of the suite; where CI
# runs (CAPF_CI=1, set by .ci/run) a missing tool is a failure (exit 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${CAPF_BINARY:?CAPF_BINARY is the capf executable}"
: "${CAPF_WEB_TEST_DIR:?CAPF_WEB_TEST_DIR is where puppeteer-core is installed}"
: "${CAPF_ARTIFACTS:?CAPF_ARTIFACTS is where screenshots go}"
# puppeteer-core 24 runs on Node 18+ and speaks CDP to the chromium of Debian 12 (156).
puppeteer_version=24.43.1
for tool in chromium node npm; do
  if ! command -v "$tool" >/dev/null; then
    if [ "${CAPF_CI:-}" = 1 ]; then
      echo "web_browser: $tool is not installed (scripts/deps.sh installs it); CAPF_CI=1: failed, not skipped" >&2
      exit 1
    fi
    echo "web_browser: $tool is not installed (scripts/deps.sh installs it); skipped" >&2
    exit 77
  fi
done
if [ ! -f "$CAPF_WEB_TEST_DIR/node_modules/puppeteer-core/package.json" ] ||
   ! grep -q "\"version\": \"$puppeteer_version\"" "$CAPF_WEB_TEST_DIR/node_modules/puppeteer-core/package.json"; then
  mkdir -p "$CAPF_WEB_TEST_DIR"
  echo "web_browser: installing puppeteer-core@$puppeteer_version into $CAPF_WEB_TEST_DIR" >&2
  # No browser download: puppeteer-core never fetches one; the test uses /usr/bin/chromium.
  (cd "$CAPF_WEB_TEST_DIR" && [ -f package.json ] || echo '{"private": true}' >"$CAPF_WEB_TEST_DIR/package.json"
   cd "$CAPF_WEB_TEST_DIR" && npm install --no-audit --no-fund --loglevel=error "puppeteer-core@$puppeteer_version" >&2)
fi
exec node "$here/dashboard.mjs"
