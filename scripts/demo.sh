#!/usr/bin/env bash
# The demo: builds capf, starts the daemon on loopback with a fresh data directory and its own
# CA, imports samples/csv/phones-demo.csv, runs the simulated phones against it, verifies every
# LSC with openssl, prints the results and stops the daemon.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh"
capf="${CAPF_BUILD_DIR:-$root/build}/app/capf"
csv="$root/samples/csv/phones-demo.csv"
run="$root/demo-run"
rm -rf "$run"
mkdir -p "$run"
data="$run/data" sim="$run/sim"
started=$(date +%s%N)

echo "== simulated manufacturer CA (the phones' MICs chain to it)"
"$capf" sim init --state "$sim"

echo "== capf serve on 127.0.0.1 (log: $run/daemon.log)"
"$capf" serve --data-dir "$data" --listen 127.0.0.1:0 --mic-root "$sim/manufacturer/capf-ca.pem" \
  --log-level info 2>"$run/daemon.log" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 300); do
  [ -s "$data/daemon.json" ] && break
  kill -0 $daemon 2>/dev/null || { cat "$run/daemon.log" >&2; exit 1; }
  sleep 0.1
done
port=$(sed -n 's/.*"port": *\([0-9]*\).*/\1/p' "$data/daemon.json" | head -1)
[ -n "$port" ] || { echo "capf: the daemon did not start" >&2; cat "$run/daemon.log" >&2; exit 1; }
"$capf" ca show --data-dir "$data"
"$capf" ca show --pem --data-dir "$data" >"$run/capf-ca.pem"

echo "== capf phones import $(basename "$csv")"
"$capf" phones import "$csv" --data-dir "$data"

echo "== capf sim: $(($(wc -l <"$csv") - 1)) phones connect to 127.0.0.1:$port over TLS"
"$capf" sim --server "127.0.0.1:$port" --ca "$run/capf-ca.pem" --csv "$csv" --state "$sim" \
  --table --expect installed

echo "== every LSC checked with openssl (chain to the CAPF CA, key usage, key match)"
verified=0 total=0
for lsc in "$sim"/phones/*.lsc.pem; do
  total=$((total + 1))
  name=$(basename "$lsc" .lsc.pem)
  openssl verify -x509_strict -purpose sslclient -CAfile "$run/capf-ca.pem" "$lsc" >/dev/null || { echo "NOT VERIFIED: $name"; continue; }
  openssl x509 -noout -ext keyUsage -in "$lsc" | grep -q "Digital Signature, Key Encipherment" || { echo "BAD KEY USAGE: $name"; continue; }
  key_pub=$(sed -n 's/.*"lsc_key": "\(.*\)",*$/\1/p' "$sim/phones/$name.json" | sed 's/\\n/\n/g' | openssl pkey -pubout 2>/dev/null)
  [ "$key_pub" = "$(openssl x509 -noout -pubkey -in "$lsc")" ] || { echo "KEY MISMATCH: $name"; continue; }
  verified=$((verified + 1))
done

echo "== capf phones list"
"$capf" phones list --data-dir "$data"

kill -TERM $daemon
wait $daemon || true
trap - EXIT
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
echo
echo "demo: $verified of $total phones hold an LSC verified by openssl; $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s from manufacturer CA to daemon stop"
[ "$verified" -eq "$(($(wc -l <"$csv") - 1))" ]
