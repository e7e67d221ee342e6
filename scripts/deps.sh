#!/usr/bin/env bash
# Installs the Debian 12 packages capf builds and tests with (needs root; a no-op when present).
set -euo pipefail
packages=(cmake ninja-build g++ pkg-config ccache openssl tzdata sqlite3 bsdextrautils
  libboost-dev libboost-program-options-dev libboost-filesystem-dev libssl-dev librocksdb-dev
  libcurl4-openssl-dev libspdlog-dev libcsv-dev libhowardhinnant-date-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-aiosmtpd
  golang-cfssl)  # golang-cfssl: the real online CA (`cfssl serve`) the ca_online tests start
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
