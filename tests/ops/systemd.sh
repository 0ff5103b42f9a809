#!/bin/bash
# systemd integration: the installed units pass `systemd-analyze verify`, and
# `cordon run` under a notify socket sends READY=1 only once the firewall is
# applied and the RTSP port is open, then WATCHDOG=1 from the main loop.
source "$(dirname "$0")/../media/lib.sh"
require_root

# Units as meson configured them, pointed at this build's binary.
mkdir -p "$WORK/units"
for u in cordon.service cordon-firewall.service; do
  sed "s|/[^ ]*/bin/cordon|$CORDON|g" "$BUILD/systemd/$u" >"$WORK/units/$u"
done
if out=$(systemd-analyze verify --man=no "$WORK/units/cordon-firewall.service" "$WORK/units/cordon.service" 2>&1); then
  pass "systemd-analyze verify: units are clean"
else
  # verify also reports on units it pulls in; only lines about ours count.
  ours=$(printf '%s\n' "$out" | grep -E 'cordon(-firewall)?\.service' | grep -v 'Failed to prepare' || true)
  [ -z "$ours" ] && pass "systemd-analyze verify: no findings on cordon's units" || fail "systemd-analyze verify: $ours"
fi

# The drop-in `cordon firewall unit-addresses` makes from a configuration
# loads, and systemd takes every address in it.
mkdir -p "$WORK/units/cordon.service.d"
"$CORDON" firewall unit-addresses --config "$SRC/tests/firewall/gateway.conf" >"$WORK/units/cordon.service.d/ip.conf"
out=$(systemd-analyze verify --man=no "$WORK/units/cordon.service" 2>&1)
bad=$(printf '%s\n' "$out" | grep 'cordon.service.d/ip.conf' || true)
grep -q '^IPAddressAllow=198.19.0.0/16 ' "$WORK/units/cordon.service.d/ip.conf" && [ -z "$bad" ] \
  && pass "unit-addresses: a drop-in systemd loads without a finding" || fail "unit-addresses drop-in: $bad"
rm -r "$WORK/units/cordon.service.d"

media_topology
write_recorder_secret
start_testcam cam $CAM_IP --size 320x240 --fps 10
{ site_config gateway; camera_config lobby "rtsp://$CAM_IP/test" 320x240 10; } >"$WORK/cordon.conf"
if nsx gw "$PY" "$SRC/tests/ops/notify.py" "$CORDON" "$WORK/cordon.conf" 554; then
  pass "READY=1 only after firewall and RTSP port; watchdog pings"
else
  fail "sd_notify order wrong (see above)"
fi
finish
