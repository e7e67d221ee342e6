#!/usr/bin/env bash
# Configures and builds capf into build/ (or $CAPF_BUILD_DIR) with Ninja.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CAPF_BUILD_DIR:-$root/build}
jobs=${CAPF_JOBS:-$(nproc)}
# Hash paths relative to the checkout so a second clone reuses the compiler cache.
export CCACHE_BASEDIR="$root"
# Debug info would otherwise tie every cache entry to its build directory, so worktrees and fresh
# clones of the same commit (different build paths) would never share a compiled object.
export CCACHE_NOHASHDIR=1
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${CAPF_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
ninja -C "$build" -j "$jobs"
