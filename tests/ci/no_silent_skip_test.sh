#!/usr/bin/env bash
# Where CI runs (CAPF_CI=1, set by .ci/run), a test whose tool is missing fails instead of
# skipping: the browser test without chromium/node/npm, the real-cfssl tests without cfssl.
# Elsewhere they still skip. The tools are hidden by a PATH that holds only what the scripts need.
# usage: no_silent_skip_test.sh BROWSER_RUN_SH CA_ONLINE_TESTS CA_MODE_TESTS
set -uo pipefail
run_sh=$1 ca_online=$2 ca_modes=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
for tool in dirname mkdir grep; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
failures=0
expect() {  # expect WHAT WANTED_STATUS ACTUAL_STATUS OUTPUT_FILE
  if [ "$2" = "$3" ]; then echo "ok: $1 (exit $3)"; else
    echo "FAIL: $1: exit $3, wanted $2"; sed 's/^/    /' "$4" | tail -n 20; failures=$((failures + 1)); fi
}

browser() {
  env -i PATH="$work/bin" CAPF_BINARY=/nonexistent CAPF_WEB_TEST_DIR="$work/web" CAPF_ARTIFACTS="$work/art" "$@" \
    /bin/bash "$run_sh" >"$work/out" 2>&1
}
browser CAPF_CI=1; status=$?
expect "browser test without chromium where CI runs fails" 1 "$status" "$work/out"
grep -q "chromium is not installed" "$work/out" || { echo "FAIL: the browser test does not say chromium is missing"; failures=$((failures + 1)); }
browser; status=$?
expect "browser test without chromium elsewhere skips" 77 "$status" "$work/out"

cfssl_tests() {  # BINARY FILTER [ENV...]
  local binary=$1 filter=$2
  shift 2
  env -i PATH="$work/bin" HOME="$work" "$@" "$binary" --gtest_filter="$filter" >"$work/out" 2>&1
}
cfssl_tests "$ca_online" 'Cfssl.*' CAPF_CI=1; status=$?
expect "cfssl adapter tests without cfssl where CI runs fail" 1 "$status" "$work/out"
grep -q "cfssl is not installed" "$work/out" || { echo "FAIL: the cfssl tests do not say cfssl is missing"; failures=$((failures + 1)); }
cfssl_tests "$ca_online" 'Cfssl.*'; status=$?
expect "cfssl adapter tests without cfssl elsewhere skip" 0 "$status" "$work/out"
grep -q "SKIPPED" "$work/out" || { echo "FAIL: the cfssl tests passed without skipping"; failures=$((failures + 1)); }
cfssl_tests "$ca_modes" '*Cfssl*' CAPF_CI=1; status=$?
expect "cfssl job test without cfssl where CI runs fails" 1 "$status" "$work/out"
exit $((failures > 0))
