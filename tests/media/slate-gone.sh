#!/bin/bash
# live_camera_keeps_no_slate_picture: a camera that is offline at first is
# on the slate; when it comes up, the slate goes, and with it every picture
# it drew. An appsink keeps the last picture it gave out for as long as it
# lives, so a slate pipeline that was only stopped kept a whole picture (and
# its copy for the encoder) per camera, 6 MiB at 1080p. GStreamer's leaks
# tracer lists the daemon's live buffers once the camera is live: none may
# be a picture of the configured size in the standard layout, which only the
# slate makes in the daemon (a camera picture is its whole slot, of the
# padded layout's size).
source "$(dirname "$0")/lib.sh"
require_root
media_topology
write_recorder_secret
W=640 H=360
# The tracer's log is written after the daemon has dropped to its user.
LOGDIR=$WORK/leaks
mkdir "$LOGDIR" && chmod 1777 "$LOGDIR" && chmod o+x "$WORK"
{ site_config off; camera_config late "rtsp://$CAM_IP/Streaming/Channels/101" ${W}x$H 25 800; } >"$WORK/cordon.conf"
GST_TRACERS="leaks(filters=GstBuffer)" GST_LEAKS_TRACER_SIG=1 GST_DEBUG="GST_TRACER:7" \
  GST_DEBUG_FILE="$LOGDIR/leaks.log" start_cordon "$WORK/cordon.conf"
statusq wait late state offline 20 || die "camera never shown offline: $(tail -5 "$WORK/cordon.log")"
# The slate has drawn and the encoder taken its pictures.
for _ in $(seq 1 20); do [ "$(statusq camera late frames_out)" -gt 25 ] 2>/dev/null && break; sleep 0.5; done
start_testcam c "$CAM_IP" --size ${W}x$H --fps 25
statusq wait late state live 40 || die "camera never live: $(tail -5 "$WORK/cordon.log")"
sleep 3
kill -USR1 "$CORDON_PID"
for _ in $(seq 1 20); do grep -q "object-alive, type-name=(string)GstBuffer" "$LOGDIR/leaks.log" 2>/dev/null && break; sleep 0.5; done
alive=$(grep -c "object-alive, type-name=(string)GstBuffer" "$LOGDIR/leaks.log" || true)
[ "${alive:-0}" -gt 0 ] && pass "the leaks tracer listed $alive live buffers" \
  || fail "the leaks tracer listed no buffer: the check below proves nothing"
picture=$(( W * H * 3 / 2 ))
held=$(grep "object-alive, type-name=(string)GstBuffer" "$LOGDIR/leaks.log" | grep -c "size $picture," || true)
[ "${held:-0}" -eq 0 ] && pass "live_camera_keeps_no_slate_picture: no ${W}x$H picture left of the slate" \
  || fail "live_camera_keeps_no_slate_picture: $held slate pictures of $picture bytes still held"
finish
