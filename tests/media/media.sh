#!/bin/bash
# Media path, end to end: test cameras in a camera namespace, cordon in a
# gateway namespace, ffmpeg/ffprobe recorders on the core side.
#   - recorders see exactly one H.264 stream at the configured size (H.264 and
#     H.265 cameras), and a 10 s recording decodes to >= 90% of its frames;
#   - SEI and private-NAL markers, and every kind of camera metadata that
#     GStreamer turns into a meta or caps (A/53 captions, AFD, bar data, time
#     code, user data, HDR), reach a direct recording and never cordon's;
#   - cordon's recordings hold only slice, IDR, SPS, PPS and AUD NAL units;
#   - still pattern through cordon vs straight from the camera: SSIM >= 0.90;
#   - two recorders on one camera cost one encoder and one media;
#   - a corrupting camera beside healthy ones: their recordings are complete
#     and cordon lives on.
source "$(dirname "$0")/lib.sh"
require_root
media_topology

FPS=15
SEI=CORDON-SEI-MARKER-7f3a
NAL=CORDON-PRIVATE-NAL-MARKER-91c2
META=CORDON-CC-MARKER-4be0
secret "$WORK/cam.secret" camsecret
write_recorder_secret

start_testcam clean $CAM_IP --codec h264 --size 640x360 --fps $FPS --bitrate 1500 --pattern still --audio \
  --username admin --password-file "$WORK/cam.secret" --inject-sei $SEI --inject-private-nal $NAL \
  --inject-metadata $META
start_testcam hevc 198.18.1.11 --codec h265 --size 1280x720 --fps $FPS --bitrate 1500 \
  --inject-sei $SEI --inject-private-nal $NAL --inject-metadata $META
start_testcam broken 198.18.1.12 --codec h264 --size 640x360 --fps $FPS --corrupt-every 3

cat >"$WORK/cordon.conf" <<CONF
[proxy]
listen = 0.0.0.0:554
status = 127.0.0.1:9554
user = nobody

[firewall]
mode = off

[camera:clean]
url = rtsp://$CAM_IP/Streaming/Channels/101
username = admin
password-file = cam.secret
size = 640x360
framerate = $FPS
bitrate = 1500

[camera:withaudio]
url = rtsp://$CAM_IP/cam/realmonitor?channel=1&subtype=0
username = admin
password-file = cam.secret
size = 320x240
framerate = $FPS
bitrate = 400
audio = true

[camera:hevc]
url = rtsp://198.18.1.11/cam/realmonitor?channel=1&subtype=0
size = 320x240
framerate = $FPS
bitrate = 800

[camera:broken]
url = rtsp://198.18.1.12/test
size = 320x240
framerate = $FPS
bitrate = 500

[recorder:nvr1]
address = $REC_IP, $REC2_IP
username = $REC_USER
password-file = nvr1.secret
cameras = *
CONF
start_cordon "$WORK/cordon.conf"
statusq wait clean state live 20 || fail "clean camera never went live: $(tail -5 "$WORK/cordon.log")"
statusq wait hevc state live 20 || fail "hevc camera never went live: $(tail -5 "$WORK/cordon.log")"

# 1. One H.264 video stream at the configured size, whatever the camera sends.
probe() { # CAMERA -> "codec_type,codec_name,width,height" per stream
  nsx rec timeout 20 ffprobe -v error -rtsp_transport tcp -show_entries stream=codec_type,codec_name,width,height \
    -of csv=p=0 "$(rec_url "$1")"
}
got=$(probe clean)
[ "$got" = "h264,video,640,360" ] && pass "clean: one h264 640x360 stream (camera audio dropped)" \
  || fail "clean: ffprobe saw '$got', want exactly 'h264,video,640,360'"
got=$(probe withaudio | tr '\n' ' ')
[ "$got" = "h264,video,320,240 pcm_alaw,audio " ] && pass "audio = true: video plus re-encoded G.711 audio" \
  || fail "withaudio: ffprobe saw '$got', want h264 video and pcm_alaw audio"
got=$(probe hevc)
[ "$got" = "h264,video,320,240" ] && pass "hevc camera re-encoded to one h264 320x240 stream" \
  || fail "hevc: ffprobe saw '$got', want 'h264,video,320,240'"

# 2-5. Recordings: two recorders on clean, one on hevc, direct ones from the
# cameras (made from the gateway, which may reach them).
record rec 10 "$(rec_url clean)" "$WORK/via-clean-a.h264" & r1=$!
nsx rec timeout 45 ffmpeg -nostdin -hide_banner -loglevel error -rtsp_transport tcp -i "rtsp://$REC_USER:$REC_PASS@$GW_CORE_IP:554/clean" \
  -t 10 -c copy -f h264 "$WORK/via-clean-b.h264" & r2=$!
record rec 10 "$(rec_url hevc)" "$WORK/via-hevc.h264" & r3=$!
nsx gw timeout 40 ffmpeg -nostdin -hide_banner -loglevel error -rtsp_transport tcp \
  -i "rtsp://admin:camsecret@$CAM_IP/Streaming/Channels/101" -t 8 -map 0:v -c copy -f h264 "$WORK/direct-clean.h264" & r4=$!
nsx gw timeout 40 ffmpeg -nostdin -hide_banner -loglevel error -rtsp_transport tcp \
  -i "rtsp://198.18.1.11/cam/realmonitor?channel=1&subtype=0" -t 6 -c copy -f hevc "$WORK/direct-hevc.h265" & r5=$!
sleep 5
encoders=$(statusq camera clean encoders); media=$(statusq camera clean media)
sessions=$(statusq recorder nvr1 sessions)
for p in $r1 $r2 $r3 $r4 $r5; do wait $p || fail "a recording (pid $p) failed"; done

[ "$encoders" = 1 ] && [ "$media" = 1 ] && [ "$sessions" -ge 3 ] \
  && pass "two recorders on clean: encoders=$encoders media=$media (recorder sessions=$sessions)" \
  || fail "two recorders on clean: encoders=$encoders media=$media sessions=$sessions; want 1, 1, >=3"

want=$(( 10 * FPS * 9 / 10 ))
for f in via-clean-a via-clean-b via-hevc; do
  n=$(frames "$WORK/$f.h264")
  [ "${n:-0}" -ge $want ] && pass "$f: $n frames decoded (>= $want)" || fail "$f: ${n:-0} frames decoded, want >= $want"
done

has() { "$PY" -c 'import sys; sys.exit(0 if open(sys.argv[1],"rb").read().find(sys.argv[2].encode())>=0 else 1)' "$1" "$2"; }
for m in $SEI $NAL; do
  has "$WORK/direct-clean.h264" $m && has "$WORK/direct-hevc.h265" $m && pass "marker $m present straight from the cameras" \
    || fail "marker $m missing from a direct recording: the test camera did not inject it"
  for f in via-clean-a via-clean-b via-hevc; do
    has "$WORK/$f.h264" $m && fail "marker $m leaked through cordon into $f" || pass "marker $m absent from $f"
  done
done

# Camera metadata: the test camera logs, per kind, bytes only it writes.
nalscan() { "$PY" "$SRC/tests/media/nalscan.py" "$@"; }
for cam in clean:direct-clean.h264:via-clean-a,via-clean-b hevc:direct-hevc.h265:via-hevc; do
  label=${cam%%:*} rest=${cam#*:}; direct=${rest%%:*} vias=${rest#*:}
  kinds=$(sed -n 's/.*metadata \([a-z0-9-]*\) \([0-9a-f]*\)$/\1:\2/p' "$WORK/testcam-$label.log")
  [ -n "$kinds" ] || fail "$label: the test camera logged no metadata it injects"
  for k in $kinds; do
    kind=${k%%:*} hex=${k#*:}
    nalscan find "$hex" "$WORK/$direct" && pass "$label: $kind present straight from the camera" \
      || fail "$label: $kind missing from the direct recording: the test camera did not inject it"
    for f in ${vias//,/ }; do
      nalscan find "$hex" "$WORK/$f.h264" && fail "$label: camera $kind leaked through cordon into $f" \
        || pass "$label: camera $kind absent from $f"
    done
  done
done
# Only the NAL unit types cordon's encoder is meant to emit reach a recorder.
for f in via-clean-a via-clean-b via-hevc; do
  types=$(nalscan types "$WORK/$f.h264")
  other=$(tr ' ' '\n' <<<"$types" | grep -Ev '^(1|5|7|8|9):' | tr '\n' ' ')
  [ -n "$types" ] && [ -z "$other" ] && pass "$f: only allowed NAL types ($types)" \
    || fail "$f: NAL types outside slice/IDR/SPS/PPS/AUD reached the recorder: ${other:-no NAL units at all} (all: $types)"
done

# The allow-list is the second layer: with captions kept out of the encoder
# (pixels only), it has only x264's own version SEI to drop, not one caption
# SEI per picture.
for c in clean hevc; do
  dropped=$(statusq camera $c nal_units_dropped); out=$(statusq camera $c frames_out)
  [ "${dropped:-x}" -le 2 ] 2>/dev/null && [ "$out" -ge 150 ] \
    && pass "$c: the NAL allow-list dropped $dropped of the encoder's units in $out frames (x264's version SEI)" \
    || fail "$c: the NAL allow-list dropped '${dropped}' units in $out frames: camera metadata reached the encoder"
done
grep -q "type 6 (SEI) are left out" "$WORK/cordon.log" && pass "the dropped SEI is logged" \
  || fail "no log line for the SEI the allow-list dropped: $(grep 'left out' "$WORK/cordon.log")"

# 3. Quality: the still pattern straight from the camera vs through cordon.
ffmpeg -nostdin -v error -i "$WORK/direct-clean.h264" -vf "select=gte(n\,30)" -frames:v 1 -y "$WORK/direct.png"
ffmpeg -nostdin -v error -i "$WORK/via-clean-a.h264" -vf "select=gte(n\,100)" -frames:v 1 -y "$WORK/via.png"
# SSIM in YUV 4:2:0 (as the codecs see the picture), all planes weighted.
ssim=$(ffmpeg -nostdin -v info -i "$WORK/direct.png" -i "$WORK/via.png" \
  -lavfi "[0]format=yuv420p[a];[1]format=yuv420p[b];[a][b]ssim" -f null - 2>&1 | sed -n 's/.*All:\([0-9.]*\).*/\1/p')
if [ -n "$ssim" ] && "$PY" -c "import sys; sys.exit(0 if float('$ssim') >= 0.90 else 1)"; then
  pass "still pattern SSIM through cordon = $ssim (>= 0.90)"
else
  fail "still pattern SSIM through cordon = '${ssim}', want >= 0.90"
fi

# 7. Process layout: the daemon holds no connection to any camera; each
# camera's connection belongs to an ingest worker with its own uid, no
# capabilities, no_new_privs and a seccomp filter.
conns=$(nsx gw ss -Htnp state established dst 198.18.1.0/24)
daemon_conns=$(grep -c "pid=$CORDON_PID," <<<"$conns" || true)
worker_conns=$(grep -c '"cordon-worker"' <<<"$conns" || true)
[ "$daemon_conns" = 0 ] && [ "$worker_conns" -ge 3 ] \
  && pass "the daemon holds no camera connection; $worker_conns belong to ingest workers" \
  || fail "camera connections: daemon $daemon_conns, workers $worker_conns: $conns"
# Only this daemon's workers (other tests may run cordons at the same time).
# A worker caught between its fork and its jail (the corrupting camera's is
# restarted now and then) is read again a second later.
descendants() { local c; for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done; }
confined() {
  awk '$1 == "Uid:" { if ($2 < 61000) exit 1 } $1 == "CapEff:" || $1 == "CapPrm:" { if ($2 != "0000000000000000") exit 1 }
       $1 == "NoNewPrivs:" { if ($2 != 1) exit 1 } $1 == "Seccomp:" { if ($2 != 2) exit 1 }' "$1"
}
bad=0 seen=0
for pid in $(descendants "$CORDON_PID"); do
  st=/proc/$pid/status
  [ "$(awk '$1 == "Name:" {print $2}' "$st" 2>/dev/null)" = cordon-worker ] || continue
  seen=$((seen + 1))
  confined "$st" 2>/dev/null && continue
  sleep 1
  confined "$st" 2>/dev/null || { [ -e "$st" ] && { bad=1; cat "$st" >&2; }; }
done
[ $seen -ge 3 ] && [ $bad = 0 ] && pass "$seen ingest workers: own uids >= 61000, no capabilities, no_new_privs, seccomp" \
  || fail "ingest workers: $seen seen, confinement wrong: $bad"

# 6. The corrupting camera did not take cordon (or anything else) down.
kill -0 "$CORDON_PID" && pass "cordon alive beside a corrupting camera" || fail "cordon died: $(tail -20 "$WORK/cordon.log")"
statusq camera clean state | grep -qx live && pass "clean camera still live" || fail "clean camera not live at the end"
grep -q camsecret "$WORK/cordon.log" && fail "a camera password appears in cordon's log" || pass "no password in the log"
grep -q "$REC_PASS" "$WORK/cordon.log" && fail "a recorder password appears in cordon's log" || true
finish
