#!/usr/bin/env bash
# The include rules of ARCHITECTURE.md hold on this tree, and the check really catches a break:
# in a scratch repository an OpenSSL include in store/ and a RocksDB include in util/ are named
# with their file and line, and the check fails.
# usage: architecture_test.sh SOURCE_ROOT
set -uo pipefail
root=$1
check="$root/scripts/check-architecture.sh"
failures=0
"$check" "$root" || { echo "FAIL: the tree breaks an include rule (above)"; failures=$((failures + 1)); }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
git -C "$scratch" init -q
mkdir -p "$scratch/store/src" "$scratch/util/src" "$scratch/crypto/src"
printf '#include <string>\n#include <openssl/evp.h>\n' >"$scratch/store/src/planted.cpp"
printf '// fine\n\n  #  include <rocksdb/db.h>\n' >"$scratch/util/src/planted.hpp"
printf '#include <openssl/evp.h>\n' >"$scratch/crypto/src/allowed.cpp"
git -C "$scratch" add -A
out=$("$check" "$scratch" 2>&1); status=$?
[ $status -eq 1 ] || { echo "FAIL: planted breaks gave exit $status, wanted 1"; failures=$((failures + 1)); }
grep -q '^store/src/planted.cpp:2: includes <openssl/' <<<"$out" || { echo "FAIL: the OpenSSL include in store/ is not named"; failures=$((failures + 1)); }
grep -q '^util/src/planted.hpp:3: includes <rocksdb/' <<<"$out" || { echo "FAIL: the RocksDB include in util/ is not named"; failures=$((failures + 1)); }
grep -q 'crypto/src/allowed.cpp' <<<"$out" && { echo "FAIL: an allowed include was reported"; failures=$((failures + 1)); }
echo "$out" | sed 's/^/    /'
[ $failures -eq 0 ] && echo "ok: include rules hold and a planted break is caught"
exit $((failures > 0))
