#!/bin/bash
# sub_stream_from_one_decode: a camera with sub-stream = 640x360 serves its
# main stream at /NAME and a second, smaller one at /NAME/sub, both made
# from one pull of the camera (one RTSP connection to it) and one decode:
#   - ffprobe sees 1280x720 H.264 on /lobby and 640x360 H.264 on /lobby/sub;
#   - 6 s recordings of both, made at the same time, hold >= 90% of their
#     frames and only slice/IDR/SPS/PPS/AUD NAL units;
#   - the camera has exactly one TCP connection (from cordon) throughout;
#   - /status counts two encoders for the camera; a camera without a sub
#     stream has no /NAME/sub (the main stream's mount does not take it).
source "$(dirname "$0")/lib.sh"
require_root
media_topology
FPS=15
write_recorder_secret
{
  site_config off
  camera_config lobby "rtsp://$CAM_IP/Streaming/Channels/101" 1280x720 $FPS 1500
  printf 'sub-stream = 640x360\nsub-bitrate = 400\n'
  camera_config plain "rtsp://198.18.1.11/Streaming/Channels/101" 320x240 $FPS 300
} >"$WORK/cordon.conf"

start_testcam a $CAM_IP --codec h264 --size 1280x720 --fps $FPS --bitrate 1500
start_testcam b 198.18.1.11 --codec h264 --size 320x240 --fps $FPS --bitrate 300
start_cordon "$WORK/cordon.conf"
statusq wait lobby state live 20 || die "camera never went live: $(tail -5 "$WORK/cordon.log")"

probe() {
  nsx rec timeout 20 ffprobe -v error -rtsp_transport tcp -select_streams v:0 \
    -show_entries stream=codec_name,width,height -of csv=p=0 "$1" 2>&1 | head -1
}
got=$(probe "$(rec_url lobby)")
[ "$got" = "h264,1280,720" ] && pass "/lobby: $got" || fail "/lobby: got '$got', want h264,1280,720"
got=$(probe "$(rec_url lobby)/sub")
[ "$got" = "h264,640,360" ] && pass "/lobby/sub: $got" || fail "/lobby/sub: got '$got', want h264,640,360"

record rec 6 "$(rec_url lobby)" "$WORK/main.h264" & main=$!
record rec 6 "$(rec_url lobby)/sub" "$WORK/sub.h264" & sub=$!
sleep 3
conns=$(nsx cam ss -Htn state established src "$CAM_IP:554" | wc -l)
[ "$conns" -eq 1 ] && pass "one connection to the camera while both streams are recorded" \
  || fail "$conns connections to the camera while both streams are recorded, want 1"
wait $main || fail "main recording failed"
wait $sub || fail "sub recording failed"
want=$(( 6 * FPS * 9 / 10 ))
for f in main sub; do
  n=$(frames "$WORK/$f.h264")
  [ "${n:-0}" -ge $want ] && pass "$f: $n frames in 6 s (>= $want)" || fail "$f: ${n:-0} frames in 6 s, want >= $want"
  types=$("$PY" "$SRC/tests/media/nalscan.py" types "$WORK/$f.h264")
  other=$(tr ' ' '\n' <<<"$types" | grep -Ev '^(1|5|7|8|9):' | tr '\n' ' ')
  [ -n "$types" ] && [ -z "$other" ] && pass "$f: only allowed NAL types ($types)" \
    || fail "$f: NAL types outside slice/IDR/SPS/PPS/AUD: ${other:-no NAL units} (all: $types)"
done
size=$(picture_size "$WORK/sub.h264")
[ "$size" = "640x360" ] && pass "sub recording is 640x360" || fail "sub recording is $size"
enc=$(statusq camera lobby encoders)
[ "$enc" = 2 ] && pass "two encoders for the camera with a sub stream" || fail "$enc encoders, want 2"
got=$(probe "$(rec_url plain)/sub")
[ "$got" != "h264,640,360" ] && [ "$got" != "h264,320,240" ] && pass "/plain/sub is not served (${got:0:60})" \
  || fail "/plain/sub served: $got"
finish
