#!/usr/bin/env bash
# Usage: deb_test.sh BUILD_DIR CAPF_BINARY
# Builds the .deb with cpack into a scratch directory, lists it (dpkg-deb -c), unpacks it into
# a scratch root (dpkg -x) and checks: the binary runs, the unit starts `capf serve` with the
# packaged configuration, the configuration names every serve option and service parameter,
# and `capf serve --check-config` accepts it.
set -euo pipefail
build=$1
capf=$2
scratch=$(mktemp -d /tmp/capf-deb-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$scratch/out" >"$scratch/cpack.log" 2>&1) || { cat "$scratch/cpack.log" >&2; fail "cpack -G DEB"; }
deb=$(ls "$scratch"/out/capf_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no capf_*.deb in $scratch/out"
echo "package: $(basename "$deb")"

listing=$(dpkg-deb -c "$deb")
for f in ./usr/bin/capf ./usr/lib/systemd/system/capf.service ./etc/capf/capf.conf ./usr/share/doc/capf/config.md; do
  grep -q " $f\$" <<<"$listing" || fail "$f not in the package"
done
grep -q -- '-rwxr-xr-x .* ./usr/bin/capf$' <<<"$listing" || fail "/usr/bin/capf is not 0755"

control=$(dpkg-deb -I "$deb")
grep -q '^ Package: capf$' <<<"$control" || fail "control: Package"
grep -q '^ Depends:.*adduser' <<<"$control" || fail "control: Depends lacks adduser"
grep -q '^ Depends:.*libssl3' <<<"$control" || fail "control: Depends lacks libssl3 (shlibdeps)"
dpkg-deb -e "$deb" "$scratch/control"
grep -qx '/etc/capf/capf.conf' "$scratch/control/conffiles" || fail "capf.conf is not a conffile"
[ -x "$scratch/control/postinst" ] || fail "no postinst"

root=$scratch/root
dpkg -x "$deb" "$root"
"$root/usr/bin/capf" --help | grep -q 'serve' || fail "the packaged binary does not run"

unit=$root/usr/lib/systemd/system/capf.service
grep -qx 'ExecStart=/usr/bin/capf serve --config /etc/capf/capf.conf --data-dir /var/lib/capf' "$unit" || fail "ExecStart"
for key in 'User=capf' 'StateDirectory=capf' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'WantedBy=multi-user.target'; do
  grep -qx "$key" "$unit" || fail "unit lacks $key"
done
if command -v systemd-analyze >/dev/null; then
  # The unit parses (the binary path is checked against the scratch root).
  systemd-analyze verify --root="$root" /usr/lib/systemd/system/capf.service >"$scratch/verify.log" 2>&1 || true
  if grep -qi 'unknown key\|unknown section\|invalid' "$scratch/verify.log"; then cat "$scratch/verify.log" >&2; fail "systemd-analyze verify"; fi
fi

conf=$root/etc/capf/capf.conf
# Every option of `capf serve --help` and every service parameter appears, commented, as "# name =".
options=$("$capf" serve --help | sed -n 's/^  --\([a-z0-9-]*\).*/\1/p' | sort -u)
[ -n "$options" ] || fail "no options in capf serve --help"
for o in $options; do
  case $o in config|check-config|help|json) continue ;; esac
  grep -q "^# $o =" "$conf" || fail "capf.conf lacks '# $o ='"
done
for p in issuer validity-days key-size keygen-timeout keygen-attempts keep-alive enable-ipv6 online-ca-host \
         online-ca-port online-ca-template online-ca-type online-ca-username online-ca-password; do
  grep -q "^# $p =" "$conf" || fail "capf.conf lacks service parameter $p"
done
grep -qx '# keep-alive = 15' "$conf" || fail "keep-alive default"
grep -qx '# validity-days = 1825' "$conf" || fail "validity-days default"
# The file as shipped is accepted, and so is every line uncommented (defaults and examples).
"$capf" serve --config "$conf" --check-config >/dev/null || fail "capf serve --check-config rejects the packaged file"
sed -n 's/^# \([a-z0-9-]* = .*\)$/\1/p' "$conf" | grep -v '^\(data-dir\|mic-root\|trigger-\|log-file\|listen\)' \
  | grep -v ' = *$' >"$scratch/uncommented.conf"
"$capf" serve --config "$scratch/uncommented.conf" --check-config >"$scratch/check.out" 2>&1 \
  || { cat "$scratch/check.out" >&2; fail "the commented values are not accepted"; }
echo "ok: $(grep -c . <<<"$listing") entries, unit and configuration checked"
