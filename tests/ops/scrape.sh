#!/bin/bash
# A /metrics scrape never waits on the firewall helper: the drop counters are
# read by a thread of the daemon and the scrape shows the last answer. The
# helper is stopped (SIGSTOP) for a few seconds, well inside its own
# time-out; scrapes and /status are answered meanwhile, and once the helper
# runs again a reload still goes through it.
source "$(dirname "$0")/../media/lib.sh"
require_root
media_topology
write_recorder_secret
start_testcam cam $CAM_IP --size 320x240 --fps 10 --bitrate 300
{ site_config gateway; camera_config lobby "rtsp://$CAM_IP/test" 320x240 10 300; } >"$WORK/cordon.conf"
start_cordon "$WORK/cordon.conf"
statusq wait lobby state live 30 || die "camera never live: $(tail -5 "$WORK/cordon.log")"
scrape() { nsx gw curl -sf --max-time "$1" -o "$WORK/metrics.txt" http://127.0.0.1:9554/metrics; }

wait_until 15 sh -c "nsx() { ip netns exec ${NS[gw]} \"\$@\"; }; nsx curl -sf http://127.0.0.1:9554/metrics | grep -q '^cordon_firewall_blocked_packets_total{camera=\"lobby\"}'" \
  && pass "drop counters reach /metrics" || fail "no drop counters in /metrics: $(grep blocked "$WORK/metrics.txt")"
helper=$(ps -o pid=,uid= --ppid "$CORDON_PID" | awk '$2 == 0 { print $1 }' | head -1)
[ -n "$helper" ] || die "no firewall helper found under $CORDON_PID"
kill -STOP "$helper"
sleep 4   # the counter thread (every 2 s) is now waiting on the stopped helper
scrape 4 && grep -q '^cordon_camera_up{camera="lobby"} 1' "$WORK/metrics.txt" \
  && pass "/metrics answered while the helper is stopped" || fail "/metrics waited on the stopped helper"
statusq json >/dev/null && pass "/status answered while the helper is stopped" || fail "/status waited on the stopped helper"
kill -CONT "$helper"
kill -HUP "$CORDON_PID"
wait_until 20 sh -c "ip netns exec ${NS[gw]} curl -sf http://127.0.0.1:9554/metrics | grep -q '^cordon_reloads_total 1'" \
  && pass "a reload after the stall still goes through the helper" \
  || fail "reload failed after the stall: $(grep -i reload "$WORK/cordon.log" | tail -3)"
kill -0 "$helper" && pass "the helper survived" || fail "the helper is gone"
kill -0 "$CORDON_PID" && pass "cordon alive" || fail "cordon died: $(tail -20 "$WORK/cordon.log")"
finish
