#!/bin/bash
# /metrics is valid Prometheus text (strict parser) and its figures move:
# frames out grow while a recorder is connected; blocked packets grow when the
# camera tries to phone home. /status is valid JSON.
source "$(dirname "$0")/../media/lib.sh"
require_root
media_topology
netns_add inet
netns_link gw inet0 "198.18.3.1/24" inet eth0 "198.18.3.100/24"
nsx inet ip route add default via 198.18.3.1
nsx gw sysctl -qw net.ipv4.ip_forward=1
write_recorder_secret
start_testcam cam $CAM_IP --size 320x240 --fps 10
{ site_config gateway; camera_config lobby "rtsp://$CAM_IP/test" 320x240 10 300; } >"$WORK/cordon.conf"
start_cordon "$WORK/cordon.conf"
statusq wait lobby state live 20 || die "camera never live: $(tail -5 "$WORK/cordon.log")"
M="http://127.0.0.1:9554/metrics"
metric() { # NAME -> value for camera lobby
  nsx gw "$PY" "$SRC/tests/ops/metrics.py" "$M" "$1" | sed -n "s/^$1{camera=\"lobby\"} //p"
}
if nsx gw "$PY" "$SRC/tests/ops/metrics.py" "$M" cordon_camera_frames_out_total cordon_camera_up \
   cordon_firewall_blocked_packets_total cordon_recorder_sessions >"$WORK/m.txt"; then
  pass "/metrics parses as Prometheus text ($(wc -l <"$WORK/m.txt") samples checked)"
else
  fail "/metrics does not parse: $(cat "$WORK/m.txt")"
fi
statusq json >/dev/null && pass "/status is valid JSON" || fail "/status is not valid JSON"

sent() { nsx gw "$PY" "$SRC/tests/ops/metrics.py" "$M" cordon_recorder_sent_bytes_total | sed -n 's/^cordon_recorder_sent_bytes_total{recorder="nvr1"} //p'; }
s0=$(sent)
f0=$(metric cordon_camera_frames_out_total)
record rec 4 "$(rec_url lobby)" "$WORK/r.h264" || fail "recording failed"
f1=$(metric cordon_camera_frames_out_total)
"$PY" -c "import sys; sys.exit(0 if float('$f1') >= float('$f0') + 30 else 1)" \
  && pass "frames out grew while recording ($f0 -> $f1)" || fail "frames out did not grow ($f0 -> $f1)"
s1=$(sent)
"$PY" -c "import sys; sys.exit(0 if float('$s1') >= float('$s0') + 10000 else 1)" \
  && pass "bytes sent to the recorder grew ($s0 -> $s1)" || fail "bytes sent did not grow ($s0 -> $s1)"

b0=$(metric cordon_firewall_blocked_packets_total)
nsx cam "$PY" -c '
import socket
for i in range(20):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"x", ("198.18.3.100", 53 + i % 2 * 70)); s.close()'
# The counters are read off the main loop every 2 s (a scrape shows the last
# read): wait for a read after the packets.
grew() { b1=$(metric cordon_firewall_blocked_packets_total); "$PY" -c "import sys; sys.exit(0 if float('${b1:-0}') >= float('${b0:-0}') + 20 else 1)"; }
for _ in $(seq 1 24); do grew && break; sleep 0.5; done
grew \
  && pass "blocked packets grew when the camera phoned home (${b0} -> ${b1})" \
  || fail "blocked packets did not grow (${b0:-none} -> ${b1:-none})"
# Discovery multicast and broadcast (Hikvision SADP, Dahua) are refused and
# reported like any other attempt.
nsx cam "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.sendto(b"<Probe/>", ("239.255.255.250", 37020))
s.sendto(b"DHDiscover", ("198.18.1.255", 37810))'
sleep 1
statusq json >"$WORK/status.json"
"$PY" - "$WORK/status.json" <<'PY' && pass "SADP multicast and Dahua broadcast discovery are in the phone-home report" || fail "discovery attempts missing from the report: $(cat "$WORK/status.json")"
import json, sys
seen = {(a["destination"], a["port"]) for a in json.load(open(sys.argv[1]))["firewall"]["attempts"] if a["camera"] == "lobby"}
sys.exit(0 if {("239.255.255.250", 37020), ("198.18.1.255", 37810)} <= seen else 1)
PY
out=$(nsx gw "$CORDON" status --address 127.0.0.1:9554)
echo "$out" | grep -q "^lobby .*live" && pass "cordon status prints the camera table" || fail "cordon status: $out"
nsx gw setpriv --reuid=65534 --regid=65534 --clear-groups "$CORDON" status --config "$WORK/cordon.conf" --json \
  | "$PY" -c 'import json,sys; json.load(sys.stdin)' && pass "cordon status --json works without root" \
  || fail "cordon status --json without root failed"
# Reload after the privilege drop: the firewall change is applied by the
# CAP_NET_ADMIN helper (the media process itself holds no capability).
camera_config gate "rtsp://198.18.1.11/test" 320x240 10 >>"$WORK/cordon.conf"
kill -HUP "$CORDON_PID"
wait_until 10 grep -q "reloaded" "$WORK/cordon.log" || fail "reload not logged: $(tail -3 "$WORK/cordon.log")"
nsx gw nft list set inet cordon cameras4 | grep -q "198.18.1.11" \
  && pass "reload as an unprivileged process updated the firewall (new camera in cameras4)" \
  || fail "firewall not updated by reload: $(nsx gw nft list set inet cordon cameras4)"
finish
