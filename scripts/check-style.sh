#!/usr/bin/env bash
# The code style rules on the C++ files that changed:
#   format  clang-format-14 (.clang-format) finds nothing to change in a file changed since the
#           commit named in .style-baseline (older files are brought in line when next changed;
#           where the baseline is not in the clone, the files of the last commit are checked);
#   tidy    clang-tidy-14 (.clang-tidy, with build/compile_commands.json) reports nothing on a
#           translation unit changed by the last commit (about a minute each on this machine).
# usage: check-style.sh format|tidy SOURCE_ROOT [BUILD_DIR]
set -uo pipefail
mode=${1:-}
root=${2:-.}
build=${3:-$root/build}
case "$mode" in format | tidy) ;; *) echo "usage: check-style.sh format|tidy SOURCE_ROOT [BUILD_DIR]" >&2; exit 2 ;; esac
cd "$root" || exit 2
tool=clang-$mode-14
[ "$mode" = format ] || tool=clang-tidy-14
command -v "$tool" >/dev/null || { echo "check-style: $tool is not installed (scripts/deps.sh installs it)" >&2; exit 1; }

base=$(tr -d ' \n' <.style-baseline 2>/dev/null)
[ "$mode" = tidy ] && base=
if [ -n "$base" ] && git cat-file -e "$base^{commit}" 2>/dev/null; then
  since="the baseline ${base:0:12}"
elif git rev-parse -q --verify HEAD~1 >/dev/null; then
  base=HEAD~1
  since="the last commit"
else
  echo "check-style: no history to compare with; nothing checked"
  exit 0
fi
# Committed and uncommitted changes against the baseline, and new files not yet added.
mapfile -t files < <({
  git diff --name-only --diff-filter=d "$base" -- '*.cpp' '*.hpp'
  git ls-files --others --exclude-standard -- '*.cpp' '*.hpp'
} | grep -v '^build' | sort -u)

if [ "$mode" = format ]; then
  bad=()
  for f in "${files[@]}"; do
    "$tool" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if ((${#bad[@]})); then
    printf '%s: not formatted (clang-format-14 -i FILE)\n' "${bad[@]}"
    echo "check-style: ${#bad[@]} of ${#files[@]} C++ files changed since $since are not formatted"
    exit 1
  fi
  echo "check-style: ${#files[@]} C++ files changed since $since are formatted"
  exit 0
fi

db=$build/compile_commands.json
[ -f "$db" ] || { echo "check-style: $db is missing (configure with CMAKE_EXPORT_COMPILE_COMMANDS=ON)" >&2; exit 1; }
units=()
for f in "${files[@]}"; do
  [[ $f == *.cpp ]] && grep -q "\"file\": \"$PWD/$f\"" "$db" && units+=("$f")
done
failed=0
for f in "${units[@]}"; do
  # GCC-only warning flags in the database are not clang-tidy's business; clang 14 has C++20
  # coroutines but Asio only looks for them under libc++, so it is told.
  out=$("$tool" -p "$build" --quiet --warnings-as-errors='*' --extra-arg=-Wno-unknown-warning-option \
    --extra-arg=-DBOOST_ASIO_HAS_CO_AWAIT=1 --extra-arg=-DBOOST_ASIO_HAS_STD_COROUTINE=1 "$f" 2>&1) || {
    failed=$((failed + 1))
    printf '%s\n' "$out" | grep -E 'error|warning|note' | head -40
  }
done
if ((failed)); then
  echo "check-style: clang-tidy-14 found problems in $failed of ${#units[@]} translation units changed since $since"
  exit 1
fi
echo "check-style: clang-tidy-14 is clean on ${#units[@]} translation units changed since $since"
