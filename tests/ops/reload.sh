#!/bin/bash
# Reload on SIGHUP:
#  - one camera added, one removed: a recorder on a third, unchanged camera
#    records without a gap (same session, no reconnect, continuous frames);
#    the added camera is served, the removed one is refused;
#  - a broken configuration: cordon keeps serving the old one and logs each
#    error.
source "$(dirname "$0")/../media/lib.sh"
require_root
media_topology
FPS=10
write_recorder_secret
start_testcam keep $CAM_IP --size 320x240 --fps $FPS --bitrate 400
start_testcam gone 198.18.1.11 --size 320x240 --fps $FPS --bitrate 400
start_testcam new 198.18.1.12 --size 320x240 --fps $FPS --bitrate 400

conf() { # CAMERAS...
  site_config off
  for c in "$@"; do
    case $c in keep) ip=$CAM_IP ;; gone) ip=198.18.1.11 ;; new) ip=198.18.1.12 ;; esac
    camera_config "$c" "rtsp://$ip/test" 320x240 $FPS 400
  done
}
conf keep gone >"$WORK/cordon.conf"
start_cordon "$WORK/cordon.conf"
statusq wait keep state live 20 || die "keep never live: $(tail -5 "$WORK/cordon.log")"
statusq wait gone state live 20 || die "gone never live"
since=$(statusq camera keep since)

# A 30 s recording in a container that keeps time stamps, across two reloads.
nsx rec timeout 60 ffmpeg -nostdin -hide_banner -loglevel error -rtsp_transport tcp -i "$(rec_url keep)" \
  -t 30 -c copy -f matroska "$WORK/keep.mkv" & recorder=$!
sleep 8

conf keep new >"$WORK/cordon.conf"
kill -HUP "$CORDON_PID"
wait_until 10 grep -q "reloaded" "$WORK/cordon.log" && pass "reload with one camera added, one removed" \
  || fail "no reload logged: $(tail -5 "$WORK/cordon.log")"
statusq wait new state live 20 && pass "added camera goes live" || fail "added camera not live"
got=$(nsx rec timeout 20 ffprobe -v error -rtsp_transport tcp -show_entries stream=codec_name -of csv=p=0 "$(rec_url new)")
[ "$got" = h264 ] && pass "added camera is served" || fail "added camera not served: '$got'"
if nsx rec timeout 20 ffprobe -v error -rtsp_transport tcp "$(rec_url gone)" >"$WORK/gone.txt" 2>&1; then
  fail "removed camera still served"
else
  pass "removed camera refused ($(head -c 120 "$WORK/gone.txt" | tr '\n' ' '))"
fi

# A broken file: the old configuration stays.
cp "$WORK/cordon.conf" "$WORK/good.conf"
printf '\n[camera:bad]\nurl = http://nowhere/\nbitrat = 5\n' >>"$WORK/cordon.conf"
kill -HUP "$CORDON_PID"
wait_until 10 grep -q "reload refused: still running" "$WORK/cordon.log" && pass "broken reload refused" \
  || fail "broken reload not refused"
grep -q "reload refused: .*\[camera:bad\] url: scheme must be rtsp" "$WORK/cordon.log" \
  && grep -q "reload refused: .*\[camera:bad\] bitrat: unknown key" "$WORK/cordon.log" \
  && pass "each error of the broken file is logged" || fail "errors of the broken file not all logged"
got=$(nsx rec timeout 20 ffprobe -v error -rtsp_transport tcp -show_entries stream=codec_name -of csv=p=0 "$(rec_url new)")
[ "$got" = h264 ] && pass "still serving after the broken reload" || fail "not serving after the broken reload"

wait $recorder && pass "recorder on the unchanged camera kept its session for 30 s" || fail "recorder on the unchanged camera failed"
[ "$(statusq camera keep since)" = "$since" ] && [ "$(statusq camera keep reconnects)" = 0 ] \
  && pass "unchanged camera's pipeline untouched (same since, no reconnect)" || fail "unchanged camera was restarted"
# No gap: frame count and largest step between packet time stamps.
n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$WORK/keep.mkv")
gap=$(ffprobe -v error -select_streams v:0 -show_entries packet=pts_time -of csv=p=0 "$WORK/keep.mkv" \
  | "$PY" -c 'import sys; t=sorted(float(x) for x in sys.stdin if x.strip() and x.strip()!="N/A"); print(max((b-a for a,b in zip(t,t[1:])), default=99))')
want=$(( 30 * FPS * 9 / 10 ))
[ "${n:-0}" -ge $want ] && pass "unchanged camera: $n frames in 30 s (>= $want)" || fail "unchanged camera: ${n:-0} frames, want >= $want"
"$PY" -c "import sys; sys.exit(0 if $gap < 0.5 else 1)" && pass "largest gap between frames: ${gap}s" \
  || fail "gap of ${gap}s in the recording across the reload"
finish
