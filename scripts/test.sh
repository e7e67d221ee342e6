#!/usr/bin/env bash
# The test command: installs the Debian packages, builds from scratch and runs every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh"
cd "${CAPF_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "${CAPF_TEST_JOBS:-2}" --timeout 600 "$@"
