#!/usr/bin/env bash
# Checks the third-party include rules of ARCHITECTURE.md ("Which layer may include what") over
# the product's sources (tests/ and fuzz/ may include anything to check outcomes). Prints each
# include that breaks a rule as FILE:LINE and exits 1; exits 0 when every rule holds.
# usage: scripts/check-architecture.sh [ROOT]
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

# header prefix | directories (path prefixes) allowed to include it
rules=(
  "openssl/|crypto/ bench/src/"
  "rocksdb/|store/ bench/src/"
  "curl/|net/src/"
  "boost/asio|net/include/capf/net/asio.hpp"
  "boost/beast|admin/src/ sim/src/ web/"
  "boost/process|engine/src/trigger_command.cpp util/src/process.cpp"
  "boost/program_options|app/"
  "spdlog/|util/"
  "csv.h|inventory/src/"
  "date/|util/src/ inventory/src/ engine/src/"
)

mapfile -t sources < <(git ls-files -- '*.cpp' '*.hpp' '*.h' | grep -v -E '^(tests|fuzz)/')
[ "${#sources[@]}" -gt 0 ] || { echo "check-architecture: no sources found under $root" >&2; exit 2; }

broken=0
checked=0
for rule in "${rules[@]}"; do
  header=${rule%%|*}
  allowed=${rule#*|}
  while IFS=: read -r file line _; do
    [ -n "$file" ] || continue
    ok=0
    for prefix in $allowed; do
      case $file in "$prefix"*) ok=1 ;; esac
    done
    if [ $ok -eq 0 ]; then
      echo "$file:$line: includes <$header…>, which only $allowed may include (ARCHITECTURE.md)"
      broken=$((broken + 1))
    fi
  done < <(grep -n -H -E "^[[:space:]]*#[[:space:]]*include[[:space:]]*<$header" "${sources[@]}" || true)
  checked=$((checked + 1))
done

if [ $broken -gt 0 ]; then
  echo "check-architecture: $broken include(s) break the rules" >&2
  exit 1
fi
echo "check-architecture: ${#sources[@]} files, $checked include rules hold"
