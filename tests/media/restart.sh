#!/bin/bash
# camera_restart_keeps_recorder_connected: the camera is killed for 10 s and
# restarted during a 40 s recording. The recorder never disconnects (the slate
# fills the gap with unchanged caps), /status shows the camera offline within
# 5 s and live again after, and camera frames arrive after the restart.
source "$(dirname "$0")/lib.sh"
require_root
media_topology
FPS=15
write_recorder_secret
{ site_config off; camera_config lobby "rtsp://$CAM_IP/Streaming/Channels/101" 640x360 $FPS 1000; } >"$WORK/cordon.conf"

start_testcam a $CAM_IP --codec h264 --size 640x360 --fps $FPS
start_cordon "$WORK/cordon.conf"
statusq wait lobby state live 20 || die "camera never went live: $(tail -5 "$WORK/cordon.log")"

record rec 40 "$(rec_url lobby)" "$WORK/rec.h264" & recorder=$!
sleep 10
stop_pid "$TESTCAM_PID_a" KILL
lost=$SECONDS
if statusq wait lobby state offline 5; then
  pass "camera shown offline within $((SECONDS - lost)) s of its loss"
else
  fail "camera not offline within 5 s of its loss"
fi
wait_s=$(( 10 - (SECONDS - lost) )); [ $wait_s -gt 0 ] && sleep $wait_s
before=$(statusq camera lobby frames_in)
start_testcam b $CAM_IP --codec h264 --size 640x360 --fps $FPS
statusq wait lobby state live 40 && pass "camera live again after restart" || fail "camera not live again after restart"
sleep 3
after=$(statusq camera lobby frames_in)
[ "$after" -gt "$((before + FPS))" ] && pass "camera frames arrive after the restart ($before -> $after)" \
  || fail "no camera frames after the restart ($before -> $after)"

if wait $recorder; then pass "recorder stayed connected for the whole 40 s"; else fail "recorder failed or disconnected"; fi
n=$(frames "$WORK/rec.h264")
want=$(( 40 * FPS * 9 / 10 ))
[ "${n:-0}" -ge $want ] && pass "40 s recording holds $n frames (>= $want, slate included)" \
  || fail "40 s recording holds ${n:-0} frames, want >= $want"
reconnects=$(statusq camera lobby reconnects)
# live → slate (x264's IDRs and cordon's skip frames) → live (x264's forced IDR first)
errors=$(decode_errors "$WORK/rec.h264")
[ -z "$errors" ] && pass "the recording decodes without errors across live, slate and live" \
  || fail "recording across the restart: decoder says: $errors"
# cordon's skip frames are a few dozen bytes; x264's first frame after them
# (a new slate picture, or the camera back) must be an IDR (an I frame after
# a scene cut is not enough), or its references and frame_num would not
# follow them.
after=$("$PY" "$SRC/tests/media/nalscan.py" after-skips "$WORK/rec.h264")
[[ "$after" =~ ^IDR:[1-9][0-9]*\ non-IDR:0$ ]] && pass "the first x264 frame after skip frames is an IDR each time ($after)" \
  || fail "x264 frames right after skip frames: $after; want only IDRs"
[ "$reconnects" -ge 1 ] && pass "reconnects counted ($reconnects)" || fail "reconnects not counted"
finish
