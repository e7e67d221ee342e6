#!/usr/bin/env bash
# The reliability suite of issue 7, on loopback, each part bounded in time:
#   1. crash:    100 SIGKILLs at random points of a 5,000-phone job (job_tests, sized by
#                CAPF_CRASH_PHONES / CAPF_CRASH_KILLS / CAPF_CRASH_RATE); 0 devices lost,
#                0 devices with two delivered LSCs, the job completes.
#   2. label:    ctest -L reliability: the bad-input corpus (tests/badinput), the security sweep
#                (no secret in any log, key files 0600, admin API needs its token).
#   3. faults:   the online CA with 30 % injected faults (HTTP 500, timeout, dropped connection,
#                pending, deny): every device classified, no duplicate submission.
#   4. fuzz:     the protocol decoder for 10,000,000 executions (scripts/fuzz.sh, UBSan, -O2).
#   5. asan:     with --asan only: the whole test suite built with ASan + UBSan (build-asan/),
#                which takes about an hour of build on 2 cores.
#
# usage: scripts/reliability.sh [--asan] [--skip-fuzz]
# Run after scripts/build.sh (it uses build/). Exits non-zero when any part fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${CAPF_BUILD_DIR:-$root/build}"
asan=0 fuzz=1
for a in "$@"; do
  case "$a" in
    --asan) asan=1 ;;
    --skip-fuzz) fuzz=0 ;;
    *) echo "reliability.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done
[[ -x "$build/app/capf" ]] || { echo "reliability.sh: build first (scripts/build.sh); no $build/app/capf" >&2; exit 2; }

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "crash: 100 SIGKILLs during a 5,000-phone job"
CAPF_CRASH_PHONES="${CAPF_CRASH_PHONES:-5000}" CAPF_CRASH_KILLS="${CAPF_CRASH_KILLS:-100}" \
CAPF_CRASH_RATE="${CAPF_CRASH_RATE:-1500}" \
  timeout 1800 "$build/tests/integration/job_tests" --gtest_filter='Job.SurvivesRepeatedSigkill*'

step "bad inputs and security sweep (ctest -L reliability)"
(cd "$build" && ctest -L reliability --output-on-failure --timeout 600)

step "online CA with 30 % injected faults"
(cd "$build" && ctest -R 'ThirtyPercentFaults' --output-on-failure --timeout 900)

if [[ $fuzz -eq 1 ]]; then
  step "protocol fuzzer: 10,000,000 executions"
  FUZZ_SANITIZERS=undefined FUZZ_OPT=-O2 "$root/scripts/fuzz.sh" 7200 -runs=10000000
fi

if [[ $asan -eq 1 ]]; then
  step "whole suite under AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S "$root" -B "$root/build-asan" -G Ninja -DCAPF_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g"
  ninja -C "$root/build-asan" -j"$(nproc)"
  (cd "$root/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest -j2 --output-on-failure --timeout 1200)
fi
step "reliability suite passed"
