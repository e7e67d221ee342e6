#!/usr/bin/env bash
# Builds and runs one libFuzzer target of fuzz/ (fuzz/CMakeLists.txt lists them) with clang-14,
# AddressSanitizer and UBSan: the project is configured with -DCAPF_FUZZ=ON in build-fuzz/, so the
# target links the real layer libraries, instrumented (separate from the GCC build in build/).
#
# usage: scripts/fuzz.sh [TARGET] [SECONDS] [extra libFuzzer args...]
#   TARGET is a fuzz/CMakeLists.txt name (protocol, web, ...; default protocol); `scripts/fuzz.sh
#   SECONDS ...` still means the protocol target. SECONDS defaults to 60. FUZZ_SANITIZERS (default
#   address,undefined) and FUZZ_OPT (default -O1) choose the build: FUZZ_SANITIZERS=undefined
#   FUZZ_OPT=-O2 runs several times more executions per second (used for the 10-million-execution
#   run of scripts/reliability.sh) at the cost of ASan. Each combination has its own build tree
#   under build-fuzz/. The corpus of a target grows in build-fuzz/corpus/TARGET across runs; its
#   seeds (written by TARGET_seeds when the target has one, plus fuzz/seeds/TARGET/) are
#   regenerated into build-fuzz/seeds/TARGET each time. Exits non-zero on a crash, leak, timeout
#   or sanitizer report; the reproducer lands in build-fuzz/artifacts/TARGET/.
set -euo pipefail

target=protocol
if [[ $# -gt 0 && ! "$1" =~ ^[0-9]+$ ]]; then
  target="$1"
  shift
fi
seconds="${1:-60}"
if [[ $# -gt 0 ]]; then shift; fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2
  exit 2
fi
if ! [[ "$target" =~ ^[a-z0-9_]+$ ]]; then
  echo "fuzz.sh: TARGET must be a fuzz/CMakeLists.txt name like protocol or web, got '$target'" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/build-fuzz"
sanitizers="${FUZZ_SANITIZERS:-address,undefined}"
opt="${FUZZ_OPT:--O1}"
tree="$out/build-${sanitizers//,/-}${opt}"
corpus="$out/corpus/$target" seeds="$out/seeds/$target" artifacts="$out/artifacts/$target"
mkdir -p "$corpus" "$seeds" "$artifacts"

echo "fuzz.sh: configuring $tree ($opt, -fsanitize=fuzzer,$sanitizers)"
export CCACHE_BASEDIR="$root"
cmake -S "$root" -B "$tree" -G Ninja -DCMAKE_CXX_COMPILER="${CXX_FUZZ:-clang++-14}" -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_CXX_FLAGS="$opt -g" -DCAPF_FUZZ=ON -DCAPF_FUZZ_SANITIZERS="$sanitizers" >/dev/null
# The list is read whole first: `ninja ... | grep -q` under pipefail fails when grep stops early.
targets="$(ninja -C "$tree" -t targets all)"
if ! grep -q "^${target}_fuzzer:" <<<"$targets"; then
  echo "fuzz.sh: no fuzz target '$target' (fuzz/CMakeLists.txt has: $(
    sed -n 's/^\([a-z0-9_]*\)_fuzzer: phony$/\1/p' <<<"$targets" | grep -v '^cmake_' | sort | tr '\n' ' '))" >&2
  exit 2
fi
with_seeds=0
if grep -q "^${target}_seeds:" <<<"$targets"; then with_seeds=1; fi
echo "fuzz.sh: building ${target}_fuzzer"
ninja -C "$tree" -j "${CAPF_JOBS:-2}" "${target}_fuzzer" $([[ $with_seeds -eq 1 ]] && echo "${target}_seeds")

rm -rf "$seeds" && mkdir -p "$seeds"
if [[ $with_seeds -eq 1 ]]; then "$tree/fuzz/${target}_seeds" "$seeds"; fi
if [[ -d "$root/fuzz/seeds/$target" ]]; then cp "$root/fuzz/seeds/$target"/* "$seeds"/; fi

log="$out/last-run-$target.log"
echo "fuzz.sh: running ${target}_fuzzer for ${seconds}s (log: $log)"
set +e
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
"$tree/fuzz/${target}_fuzzer" "$corpus" "$seeds" \
  -max_total_time="$seconds" -max_len=20000 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n1 || true)"
if [[ -z "$runs" ]]; then
  runs="$(grep -o '^Done [0-9]* runs' "$log" | grep -o '[0-9]*' | tail -n1 || true)"
fi
echo "fuzz.sh: ${target}: executions: ${runs:-unknown} in ${seconds}s, exit status $status"
if [[ $status -ne 0 ]]; then
  echo "fuzz.sh: FAILED; reproducers in $artifacts/" >&2
  exit "$status"
fi
