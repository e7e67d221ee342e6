#!/usr/bin/env bash
# The demo: builds capf, starts the daemon on loopback with a fresh data directory and its own
# CA, imports samples/csv/phones-demo.csv, starts the simulated fleet (phones connect only when
# triggered), submits a windowed, rate-limited job over a query, watches it, prints the report,
# verifies every LSC with openssl and stops everything.
#
#   scripts/demo.sh            the CAPF CA signs (the default issuer)
#   scripts/demo.sh offline    Offline CA: capf exports the phones' CSRs as a round, another
#                              team signs them with `openssl ca`, capf imports them, the phones
#                              collect their LSCs on their next session
#   scripts/demo.sh cfssl      Online CA: a real `cfssl serve` on loopback signs each CSR
#                              inside the phone's session
# The web dashboard runs too; its address is printed. CAPF_DEMO_KEEP=1 keeps the daemon and the
# simulator running at the end so the job can be looked at in a browser.
set -euo pipefail
mode=${1:-capf}
case "$mode" in capf|offline|cfssl) ;; *) echo "usage: scripts/demo.sh [capf|offline|cfssl]" >&2; exit 2;; esac
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
web_port=$(free_port)

pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== simulated manufacturer CA (the phones' MICs chain to it)"
"$capf" sim init --state "$sim"

echo "== capf serve on 127.0.0.1:$capf_port; Apply Config = POST http://127.0.0.1:$control_port/trigger/{name}"
"$capf" serve --data-dir "$data" --listen "127.0.0.1:$capf_port" --mic-root "$sim/manufacturer/capf-ca.pem" \
  --trigger-url "http://127.0.0.1:$control_port/trigger/{name}" --session-wait 30 --log-level info \
  --web "127.0.0.1:$web_port" 2>"$run/daemon.log" &
pids+=($!)
for _ in $(seq 300); do
  [ -s "$data/daemon.json" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$run/daemon.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$data/daemon.json" ] || { echo "capf: the daemon did not start" >&2; exit 1; }
"$capf" ca show --data-dir "$data"
"$capf" ca show --pem --data-dir "$data" >"$run/capf-ca.pem"
lsc_ca="$run/capf-ca.pem"  # what the phones' LSCs must chain to
web_password=$(openssl rand -hex 6)
printf '%s\n%s\n' "$web_password" "$web_password" | "$capf" web passwd demo --data-dir "$data" >/dev/null
echo "== web dashboard: https://127.0.0.1:$web_port/  (user demo, password $web_password; its certificate"
echo "   is from this demo's CAPF CA: trust $run/capf-ca.pem in the browser, or accept the warning)"

sim_extra=()
job_extra=(--canary 5 --max-fail-pct 20)
case "$mode" in
offline)
  echo "== Certificate Issuer to Endpoint: Offline CA"
  "$capf" config set issuer offline-ca --data-dir "$data"
  # The other team's CA, made with openssl as they would; capf trusts it through CAPF-trust.
  other="$run/other-team"
  mkdir -p "$other/new"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$other/ca.key" -out "$other/ca.pem" -days 3650 \
    -subj "/O=Other Team/CN=Other Team LSC CA" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  : >"$other/index.txt"
  echo 1000 >"$other/serial"
  cat >"$other/ca.cnf" <<CNF
[ca]
default_ca = other
[other]
dir = $other
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir/new
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
default_md = sha256
default_days = 1825
policy = any
unique_subject = no
x509_extensions = lsc
[any]
commonName = supplied
[lsc]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
CNF
  "$capf" trust upload --store capf-trust "$other/ca.pem" --description "Other Team LSC CA" --data-dir "$data"
  lsc_ca="$other/ca.pem"
  sim_extra=(--lsc-ca "$lsc_ca")
  job_extra=()
  ;;
cfssl)
  echo "== Certificate Issuer to Endpoint: Online CA (cfssl serve on loopback)"
  online="$run/cfssl"
  mkdir -p "$online"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$online/ca.key" -out "$online/ca.pem" -days 3650 \
    -subj "/CN=Demo Online CA" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  key=$(openssl rand -hex 16)
  cat >"$online/config.json" <<JSON
{"signing": {"default": {"expiry": "43800h", "usages": ["digital signature", "key encipherment", "server auth", "client auth"]},
 "profiles": {"phone": {"expiry": "43800h", "auth_key": "k1",
   "usages": ["digital signature", "key encipherment", "server auth", "client auth"]}}},
 "auth_keys": {"k1": {"type": "standard", "key": "$key"}}}
JSON
  cfssl_port=$(free_port)
  (cd "$online" && exec cfssl serve -address 127.0.0.1 -port "$cfssl_port" -ca ca.pem -ca-key ca.key \
    -config config.json >"$online/cfssl.log" 2>&1) &
  pids+=($!)
  for _ in $(seq 100); do
    curl -s -o /dev/null -d '{"profile":"phone"}' "http://127.0.0.1:$cfssl_port/api/v1/cfssl/info" && break
    sleep 0.1
  done
  "$capf" config set online-ca-type cfssl --data-dir "$data"
  "$capf" config set online-ca-host 127.0.0.1 --data-dir "$data"
  "$capf" config set online-ca-port "$cfssl_port" --data-dir "$data"
  "$capf" config set online-ca-template phone --data-dir "$data"
  printf '%s\n' "$key" | "$capf" config set online-ca-auth-key --stdin --data-dir "$data"
  "$capf" config set issuer online-ca --data-dir "$data"
  lsc_ca="$online/ca.pem"
  sim_extra=(--lsc-ca "$lsc_ca")
  job_extra=(--key-order rsa)  # the Online CA signs RSA keys only
  ;;
esac

echo "== capf phones import $(basename "$csv")"
"$capf" phones import "$csv" --data-dir "$data"

echo "== capf sim: $(($(wc -l <"$csv") - 1)) phones wait for Apply Config on 127.0.0.1:$control_port"
"$capf" sim --server "127.0.0.1:$capf_port" --ca "$run/capf-ca.pem" --csv "$csv" --state "$sim" \
  --control "127.0.0.1:$control_port" --control-port-file "$run/control.json" --table "${sim_extra[@]}" \
  >"$run/sim.out" 2>"$run/sim.err" &
pids+=($!)
for _ in $(seq 600); do [ -s "$run/control.json" ] && break; sleep 0.1; done

# A maintenance window that is open now: every day at this UTC hour, for two hours.
hour=$(date -u +%H)
window="0 $((10#$hour)) * * * 2h UTC"
query="device_pool = DP-HQ OR device_pool = DP-BRANCH1"
echo "== capf job submit --where \"$query\" --dry-run"
"$capf" job submit --where "$query" --operation install --window "$window" --rate 120/min --dry-run --data-dir "$data"

echo "== capf job submit: window \"$window\", 120/min, 8 in flight ${job_extra[*]}"
job=$("$capf" job submit --where "$query" --operation install --window "$window" --rate 120/min --burst 2 \
  --max-in-flight 8 "${job_extra[@]}" --description "demo fleet ($mode)" --data-dir "$data" | tail -1)
echo "submitted $job; follow it at https://127.0.0.1:$web_port/job?id=$job"

if [ "$mode" = offline ]; then
  selected=$("$capf" job show "$job" --json --data-dir "$data" | python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"])' 2>/dev/null || echo 0)
  echo "== waiting until the $selected phones have sent their CSRs (job state pending-ca)"
  for _ in $(seq 600); do
    waiting=$("$capf" job show "$job" --json --data-dir "$data" | python3 -c 'import json,sys; c=json.load(sys.stdin)["counts"]; print(sum(c.get(k,0) for k in ("pending-ca","succeeded","failed","expired","cancelled")))')
    [ "$waiting" -ge "$selected" ] && break
    sleep 0.5
  done
  "$capf" csr list --data-dir "$data" | head -5 || true  # head closes the pipe early
  echo "== capf offline export: round 1 for the other team"
  "$capf" offline export --out "$run/rounds" --data-dir "$data"
  echo "== the other team signs every CSR with openssl ca"
  mkdir -p "$run/signed"
  for csr in "$run"/rounds/round-001/*.csr.pem; do
    openssl ca -batch -notext -config "$other/ca.cnf" -in "$csr" -out "$run/signed/$(basename "$csr" .csr.pem).pem" 2>/dev/null
  done
  echo "== capf offline import: matched to their CSRs by public key; the phones are triggered again"
  "$capf" offline import "$run/signed" --data-dir "$data"
fi

echo "== capf job watch $job"
"$capf" job watch "$job" --interval 1 --data-dir "$data"

echo "== capf job report $job --format csv"
"$capf" job report "$job" --format csv --data-dir "$data" | column -s, -t | cut -c1-150

echo "== every LSC checked with openssl (chain to $(basename "$(dirname "$lsc_ca")")/$(basename "$lsc_ca"), key usage, key match)"
verified=0 total=0
for lsc in "$sim"/phones/*.lsc.pem; do
  total=$((total + 1))
  name=$(basename "$lsc" .lsc.pem)
  openssl verify -x509_strict -purpose sslclient -CAfile "$lsc_ca" "$lsc" >/dev/null || { echo "NOT VERIFIED: $name"; continue; }
  openssl x509 -noout -ext keyUsage -in "$lsc" | grep -q "Digital Signature, Key Encipherment" || { echo "BAD KEY USAGE: $name"; continue; }
  key_pub=$(sed -n 's/.*"lsc_key": "\(.*\)",*$/\1/p' "$sim/phones/$name.json" | sed 's/\\n/\n/g' | openssl pkey -pubout 2>/dev/null)
  [ "$key_pub" = "$(openssl x509 -noout -pubkey -in "$lsc")" ] || { echo "KEY MISMATCH: $name"; continue; }
  verified=$((verified + 1))
done

echo "== capf job show $job"
"$capf" job show "$job" --data-dir "$data"

if [ -n "${CAPF_DEMO_KEEP:-}" ]; then
  echo "== CAPF_DEMO_KEEP: the daemon and the simulator keep running; dashboard https://127.0.0.1:$web_port/ (Ctrl-C stops them)"
  wait "${pids[0]}" || true
fi
cleanup
pids=()
trap - EXIT
echo "== the simulator's own summary"
tail -n 8 "$run/sim.out"
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
phones=$(($(wc -l <"$csv") - 1))
echo
echo "demo ($mode): $verified of $phones phones hold an LSC verified by openssl; $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s from manufacturer CA to daemon stop"
[ "$verified" -eq "$phones" ]
