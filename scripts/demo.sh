#!/usr/bin/env bash
# The demo: builds capf, starts the daemon on loopback with a fresh data directory and its own
# CA, imports samples/csv/phones-demo.csv, starts the simulated fleet (phones connect only when
# triggered), submits a windowed, rate-limited job over a query, watches it, prints the report,
# verifies every LSC with openssl and stops everything.
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

# A loopback port nothing listens on.
free_port() {
  local p
  for p in $(shuf -i 20000-60000 -n 100); do
    (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
  done
  echo "capf: no free loopback port found" >&2
  exit 1
}
capf_port=$(free_port)
control_port=$(free_port)

pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== simulated manufacturer CA (the phones' MICs chain to it)"
"$capf" sim init --state "$sim"

echo "== capf serve on 127.0.0.1:$capf_port; Apply Config = POST http://127.0.0.1:$control_port/trigger/{name}"
"$capf" serve --data-dir "$data" --listen "127.0.0.1:$capf_port" --mic-root "$sim/manufacturer/capf-ca.pem" \
  --trigger-url "http://127.0.0.1:$control_port/trigger/{name}" --session-wait 30 --log-level info \
  2>"$run/daemon.log" &
pids+=($!)
for _ in $(seq 300); do
  [ -s "$data/daemon.json" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$run/daemon.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$data/daemon.json" ] || { echo "capf: the daemon did not start" >&2; exit 1; }
"$capf" ca show --data-dir "$data"
"$capf" ca show --pem --data-dir "$data" >"$run/capf-ca.pem"

echo "== capf phones import $(basename "$csv")"
"$capf" phones import "$csv" --data-dir "$data"

echo "== capf sim: $(($(wc -l <"$csv") - 1)) phones wait for Apply Config on 127.0.0.1:$control_port"
"$capf" sim --server "127.0.0.1:$capf_port" --ca "$run/capf-ca.pem" --csv "$csv" --state "$sim" \
  --control "127.0.0.1:$control_port" --control-port-file "$run/control.json" --table \
  >"$run/sim.out" 2>"$run/sim.err" &
pids+=($!)
for _ in $(seq 600); do [ -s "$run/control.json" ] && break; sleep 0.1; done

# A maintenance window that is open now: every day at this UTC hour, for two hours.
hour=$(date -u +%H)
window="0 $((10#$hour)) * * * 2h UTC"
query="device_pool = DP-HQ OR device_pool = DP-BRANCH1"
echo "== capf job submit --where \"$query\" --dry-run"
"$capf" job submit --where "$query" --operation install --window "$window" --rate 120/min --dry-run --data-dir "$data"

echo "== capf job submit: window \"$window\", 120/min, 8 in flight, canary of 5 (hold above 20 % failures)"
job=$("$capf" job submit --where "$query" --operation install --window "$window" --rate 120/min --burst 2 \
  --max-in-flight 8 --canary 5 --max-fail-pct 20 --description "demo fleet" --data-dir "$data" | tail -1)
echo "submitted $job"

echo "== capf job watch $job"
"$capf" job watch "$job" --interval 1 --data-dir "$data"

echo "== capf job report $job --format csv"
"$capf" job report "$job" --format csv --data-dir "$data" | column -s, -t | cut -c1-150

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

echo "== capf job show $job"
"$capf" job show "$job" --data-dir "$data"

cleanup
pids=()
trap - EXIT
echo "== the simulator's own summary"
tail -n 8 "$run/sim.out"
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
phones=$(($(wc -l <"$csv") - 1))
echo
echo "demo: $verified of $phones phones hold an LSC verified by openssl; $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s from manufacturer CA to daemon stop"
[ "$verified" -eq "$phones" ]
