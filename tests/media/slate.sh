#!/bin/bash
# offline_slate_keeps_the_configured_rate: a camera that never answers is on
# the slate from the start; a recorder records 10 s of it, and the recording
# holds the configured 25 frames a second: 250 frames within 3 (the
# recording's ends fall between frames; RTP time stamps are cordon's arrival
# times at the egress, so a faster or slower slate shows as more or fewer
# frames in the 10 s). The slate draws one picture a second; x264 encodes it
# as an IDR and cordon writes an all-skip P picture for every other frame
# (pipeline/skipframe.c): the recording decodes without a single error, and
# about one frame a second is an I frame. The camera stays offline and
# nothing is counted as dropped.
source "$(dirname "$0")/lib.sh"
require_root
media_topology
FPS=25
SECS=10
write_recorder_secret
# Nothing listens on the camera's address: connection refused, slate.
{ site_config off; camera_config away "rtsp://$CAM_IP/Streaming/Channels/101" 640x360 $FPS 1000; } >"$WORK/cordon.conf"
start_cordon "$WORK/cordon.conf"
statusq wait away state offline 20 || die "camera never shown offline: $(tail -5 "$WORK/cordon.log")"

dropped0=$(statusq camera away frames_dropped)
record rec $SECS "$(rec_url away)" "$WORK/rec.h264" || fail "recorder failed: $(tail -3 "$WORK/cordon.log")"
n=$(frames "$WORK/rec.h264")
want=$(( SECS * FPS ))
diff=$(( ${n:-0} - want ))
[ "${diff#-}" -le 3 ] && pass "slate recording: $n frames in $SECS s (want $want ± 3)" \
  || fail "slate recording: ${n:-0} frames in $SECS s, want $want ± 3"
errors=$(decode_errors "$WORK/rec.h264")
[ -z "$errors" ] && pass "slate recording decodes without errors" || fail "slate recording: decoder says: $errors"
types=$(ffprobe -v error -select_streams v:0 -show_entries frame=pict_type -of csv=p=0 "$WORK/rec.h264" | sort | uniq -c | tr -s ' \n' ' ')
intra=$(ffprobe -v error -select_streams v:0 -show_entries frame=pict_type -of csv=p=0 "$WORK/rec.h264" | grep -c '^I' || true)
[ "$intra" -ge $(( SECS - 2 )) ] && [ "$intra" -le $(( SECS + 2 )) ] \
  && pass "one x264 picture a second, the rest cordon's skip frames ($types)" \
  || fail "slate frames by type: $types; want about $SECS I frames in $SECS s"
size=$(picture_size "$WORK/rec.h264")
[ "$size" = "640x360" ] && pass "slate at the configured size" || fail "slate size $size, want 640x360"
dropped1=$(statusq camera away frames_dropped)
[ "$dropped1" -eq "$dropped0" ] && pass "no slate picture dropped" || fail "slate pictures dropped: $dropped0 -> $dropped1"
[ "$(statusq camera away state)" = offline ] && pass "camera still offline" || fail "camera not offline"
finish
