#!/usr/bin/env bash
# The style checks (scripts/check-style.sh) pass on this tree, and really catch a break: in a
# scratch repository, a file changed after the baseline that clang-format would change, and one
# that clang-tidy objects to, are named and fail the check; a file older than the baseline is not
# checked.
# usage: style_test.sh SOURCE_ROOT BUILD_DIR
set -uo pipefail
root=$1
build=$2
check="$root/scripts/check-style.sh"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
"$check" format "$root" "$build" || fail "the tree's changed files are not formatted (above)"
"$check" tidy "$root" "$build" || fail "clang-tidy objects to the tree's changed files (above)"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$root/.clang-format" "$root/.clang-tidy" "$scratch/"
git -C "$scratch" init -q
git -C "$scratch" -c user.name=t -c user.email=t@localhost commit -q --allow-empty -m base
git -C "$scratch" rev-parse HEAD >"$scratch/.style-baseline"
printf 'int   old( ){return 1;}\n' >"$scratch/old.cpp"
git -C "$scratch" add -A
git -C "$scratch" -c user.name=t -c user.email=t@localhost commit -q -m old
git -C "$scratch" rev-parse HEAD >"$scratch/.style-baseline"  # old.cpp predates the baseline
printf 'int   ugly( ){return 1;}\n' >"$scratch/ugly.cpp"
printf 'int* zero() { return 0; }\n' >"$scratch/lint.cpp"
mkdir "$scratch/build"
printf '[{"directory": "%s", "file": "%s/lint.cpp", "command": "clang++ -std=c++20 -c lint.cpp"}]\n' \
  "$scratch" "$scratch" >"$scratch/build/compile_commands.json"

out=$("$check" format "$scratch" 2>&1); status=$?
[ $status -eq 1 ] || fail "an unformatted file gave exit $status, wanted 1"
grep -q '^ugly.cpp: not formatted' <<<"$out" || fail "the unformatted file is not named"
grep -q 'old.cpp' <<<"$out" && fail "a file older than the baseline was checked"
echo "$out" | sed 's/^/    /'
out=$("$check" tidy "$scratch" 2>&1); status=$?
[ $status -eq 1 ] || fail "a clang-tidy finding gave exit $status, wanted 1"
grep -q 'lint.cpp:1:.*modernize-use-nullptr' <<<"$out" || fail "the clang-tidy finding is not named"
echo "$out" | sed 's/^/    /'
[ $failures -eq 0 ] && echo "ok: the style checks pass here and catch planted breaks"
exit $((failures > 0))
