#!/usr/bin/env bash
# Configures and builds capf into build/ (or $CAPF_BUILD_DIR) with Ninja.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CAPF_BUILD_DIR:-$root/build}
jobs=${CAPF_JOBS:-$(nproc)}
# Hash paths relative to the checkout so a second clone reuses the compiler cache.
export CCACHE_BASEDIR="$root"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${CAPF_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
ninja -C "$build" -j "$jobs"
