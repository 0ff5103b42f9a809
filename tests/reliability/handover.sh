#!/bin/bash
# A stalled recorder hands a camera over. gst-rtsp-server sends to TCP
# recorders from one thread per stream that sleeps while every recorder of
# the stream has a packet in flight. Recorder A is the only viewer of a
# camera and stops reading, long enough for both its RTP and its RTCP
# channel to have a packet stuck; recorder B sets up the same (shared)
# media; A vanishes (RST) with its packets unsent; B plays. Without the
# wake-up in proxy/server.c (wake_senders) nothing ever woke that thread
# and B, and every recorder after it, got its PLAY answered and then not
# one packet (seen as "no stream" recorders in the sanitizer soak).
# Asserted, ROUNDS times: B receives at least half the camera's bit rate.
source "$(dirname "$0")/../media/lib.sh"
require_root
media_topology
write_recorder_secret
ROUNDS=${HANDOVER_ROUNDS:-2}
STALL=12         # s; RTCP goes out every 2.5-7.5 s, so one is stuck by then
PLAY=6           # s that B counts RTP bytes
KBPS=800
start_testcam cam $CAM_IP --codec h264 --size 640x360 --fps 25 --bitrate $KBPS
{ site_config gateway; camera_config lobby "rtsp://$CAM_IP/Streaming/Channels/101" 640x360 25 $KBPS; } >"$WORK/cordon.conf"
start_cordon "$WORK/cordon.conf"
statusq wait lobby state live 40 || die "camera never went live: $(tail -5 "$WORK/cordon.log")"

want=$(( PLAY * KBPS * 1000 / 8 / 2 ))
for r in $(seq 1 "$ROUNDS"); do
  out=$(nsx rec "$PY" "$SRC/tests/reliability/rtspclient.py" "$GW_CORE_IP" handover "$REC_IP" "$REC_USER" "$REC_PASS" \
        lobby $STALL $PLAY 2>&1)
  say "round $r: $out"
  got=$(sed -n 's/.*bytes_b=\([0-9]*\).*/\1/p' <<<"$out")
  [ "${got:-0}" -ge $want ] && pass "round $r: B got $got bytes in $PLAY s after the stalled A vanished (>= $want)" \
    || fail "round $r: B got ${got:-0} bytes in $PLAY s after the stalled A vanished, want >= $want ($out)"
done
kill -0 "$CORDON_PID" && pass "cordon alive" || fail "cordon died: $(tail -20 "$WORK/cordon.log")"
finish
