#!/bin/bash
# IPv6 end to end, the firewall on (gateway): a camera that has only an IPv6
# address on the camera network, cordon listening on [::]:554, and recorders
# on the core side over IPv6 and over IPv4 (one dual-stack socket).
#   - the camera goes live over IPv6 through the worker's jail and the
#     firewall's per-uid egress rule for its address and port;
#   - an IPv6 recorder and an IPv4 recorder each record decodable H.264 at the
#     configured size;
#   - the camera still reaches nothing on the core side over IPv6.
source "$(dirname "$0")/lib.sh"
require_root

CAM6=fd00:1::10
GW_CAM6=fd00:1::1
GW_CORE6=fd00:2::1
REC6=fd00:2::5
netns_add cam
netns_add gw
netns_add rec
netns_link cam eth0 "$CAM6/64" gw cam0 "$GW_CAM_IP/24 $GW_CAM6/64"
netns_link gw core0 "$GW_CORE_IP/24 $GW_CORE6/64" rec eth0 "$REC_IP/24 $REC6/64"
nsx rec ip route add default via "$GW_CORE_IP"
nsx rec ip -6 route add default via "$GW_CORE6"
nsx cam ip -6 route add default via "$GW_CAM6"
# gw routes, as a gateway does: only cordon's forward chain keeps the camera in.
nsx gw sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv4.ip_forward=1
# IPv6 addresses are usable once duplicate address detection is done.
for ns in cam gw rec; do
  wait_until 10 nsx $ns sh -c "! ip -6 addr show tentative | grep -q inet6" || die "DAD did not finish in $ns"
done

start_testcam v6 "[$CAM6]" --codec h264 --size 640x360 --fps 15 --bitrate 800
write_recorder_secret
REC_EXTRA_ADDRESSES=$REC6
{ site_config gateway; camera_config v6 "rtsp://[$CAM6]:554/Streaming/Channels/101" 640x360 15; } \
  | sed 's/^listen = 0.0.0.0:554$/listen = [::]:554/' >"$WORK/cordon.conf"
start_cordon "$WORK/cordon.conf"

v6_live() { [ "$(statusq camera v6 state)" = live ]; }
if wait_until 20 v6_live; then
  pass "an IPv6-only camera goes live through the jail and the firewall"
else
  fail "IPv6 camera not live: $(statusq camera v6 last_error)"
fi

for via in "[$GW_CORE6]" "$GW_CORE_IP"; do
  out="$WORK/rec-$(echo "$via" | tr -dc '0-9a-f').h264"
  record rec 4 "rtsp://$REC_USER:$REC_PASS@$via:554/v6" "$out"
  n=$(frames "$out" 2>/dev/null || echo 0)
  size=$(picture_size "$out")
  errors=$(decode_errors "$out")
  if [ "${n:-0}" -ge 45 ] && [ "$size" = 640x360 ] && [ -z "$errors" ]; then
    pass "a recorder on $via records the IPv6 camera ($n pictures, $size)"
  else
    fail "recorder on $via: ${n:-0} pictures, size '$size', decoder: $errors"
  fi
done

# The camera tries a core host's listening IPv6 port: the firewall drops it.
bg rec "$WORK/core-listener.log" "$PY" -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$REC6', 8080)); s.listen(4)
while True: s.accept()[0].close()"
wait_until 10 nsx rec sh -c "ss -ltn | grep -qF '[$REC6]:8080'" || die "core listener did not start"
if nsx cam timeout 3 bash -c "exec 3<>/dev/tcp/$REC6/8080" 2>/dev/null; then
  fail "the camera reached a core host over IPv6"
else
  pass "the camera reaches no core host over IPv6"
fi
finish
