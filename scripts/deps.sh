#!/usr/bin/env bash
# Installs the Debian 12 packages capf builds and tests with (needs root; a no-op when present).
set -euo pipefail
packages=(cmake ninja-build g++ pkg-config ccache openssl tzdata sqlite3 bsdextrautils
  libboost-dev libboost-program-options-dev libboost-filesystem-dev libssl-dev librocksdb-dev
  libcurl4-openssl-dev libspdlog-dev libcsv-dev libhowardhinnant-date-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-aiosmtpd  # the real SMTP server the certificate monitor test sends notices to
  golang-cfssl  # golang-cfssl: the real online CA (`cfssl serve`) the ca_online tests start
  dpkg-dev    # dpkg-shlibdeps for `cpack -G DEB` (the package test)
  clang-format-14 clang-tidy-14  # the style checks (scripts/check-style.sh, ctest ci_style)
  chromium)  # the web dashboard's browser test (tests/web/browser) drives Debian's chromium headless
# npm for the browser test's puppeteer-core; a machine whose Node.js already brings npm keeps it
# (Debian's npm would pull Debian's older nodejs over it).
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "capf: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
