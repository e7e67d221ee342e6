#!/usr/bin/env bash
# Builds and runs the protocol fuzzer (fuzz/protocol_fuzzer.cpp) with clang's libFuzzer,
# AddressSanitizer and UBSan, in build-fuzz/ (separate from the GCC/CMake build).
#
# usage: scripts/fuzz.sh [SECONDS] [extra libFuzzer args...]
#   SECONDS defaults to 60. FUZZ_SANITIZERS (default address,undefined) and FUZZ_OPT (default -O1)
#   choose the build: FUZZ_SANITIZERS=undefined FUZZ_OPT=-O2 runs several times more executions per
#   second (used for the 10-million-execution run of scripts/reliability.sh) at the cost of ASan.
#   Each combination builds its own binary. The corpus grows in build-fuzz/corpus across runs; the §9 golden
#   vectors are regenerated into build-fuzz/seeds each time. Exits non-zero on a crash, leak,
#   timeout or sanitizer report; the reproducer lands in build-fuzz/artifacts/.
set -euo pipefail

seconds="${1:-60}"
if [[ $# -gt 0 ]]; then shift; fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/build-fuzz"
cxx="${CXX_FUZZ:-clang++-14}"
mkdir -p "$out/corpus" "$out/seeds" "$out/artifacts"

includes=(-I "$root/protocol/include" -I "$root/util/include")
protocol_sources=("$root"/protocol/src/*.cpp)
# Only the util sources the protocol layer and the harness need: log.cpp would drag in spdlog.
util_sources=("$root/util/src/text.cpp")

echo "fuzz.sh: building seed generator"
"$cxx" -std=c++20 -O1 -g "${includes[@]}" \
  "$root/fuzz/make_seeds.cpp" "${protocol_sources[@]}" "${util_sources[@]}" -o "$out/make_seeds"
"$out/make_seeds" "$out/seeds"

sanitizers="${FUZZ_SANITIZERS:-address,undefined}"
opt="${FUZZ_OPT:--O1}"
fuzzer="$out/protocol_fuzzer-${sanitizers//,/-}${opt}"
echo "fuzz.sh: building protocol_fuzzer ($opt, -fsanitize=fuzzer,$sanitizers)"
"$cxx" -std=c++20 "$opt" -g -fsanitize="fuzzer,$sanitizers" -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer "${includes[@]}" \
  "$root/fuzz/protocol_fuzzer.cpp" "${protocol_sources[@]}" "${util_sources[@]}" -o "$fuzzer"

log="$out/last-run.log"
echo "fuzz.sh: running for ${seconds}s (log: $log)"
set +e
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
"$fuzzer" "$out/corpus" "$out/seeds" \
  -max_total_time="$seconds" -max_len=20000 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$out/artifacts/" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n1 || true)"
if [[ -z "$runs" ]]; then
  runs="$(grep -o '^Done [0-9]* runs' "$log" | grep -o '[0-9]*' | tail -n1 || true)"
fi
echo "fuzz.sh: executions: ${runs:-unknown} in ${seconds}s, exit status $status"
if [[ $status -ne 0 ]]; then
  echo "fuzz.sh: FAILED; reproducers in $out/artifacts/" >&2
  exit "$status"
fi
