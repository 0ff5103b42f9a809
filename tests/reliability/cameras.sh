#!/bin/bash
# Hostile cameras: one cordon (gateway mode) pulls one healthy camera and one
# camera per hostile mode of cordon-testcam (tests/testcam/README.md):
#   garbage, huge-headers, stall, lying-sdp-codec, lying-sdp-size,
#   h265-as-h264, no-keyframe, resolution-switch.
# While a recorder takes 45 s of the healthy camera through cordon:
#   - the healthy recording decodes to >= 90% of its frames, the camera stays
#     live without a reconnect;
#   - each failing hostile camera is offline and retrying (reconnects >= 1) in
#     /status, and cordon's log names it with a specific reason;
#   - a stalled camera is given up on within a bounded time;
#   - lying-sdp-size and resolution-switch stay live: cordon believes the
#     stream, not the SDP, and its recorder sees one constant size;
#   - recorders of failing cameras get the slate: H.264 at the configured size;
#   - cordon is still running, its memory bounded after 1 GiB of offered
#     headers, its file descriptors not growing with the retries.
source "$(dirname "$0")/../media/lib.sh"
require_root
media_topology

FPS=10
RUN_S=45
OUT=320x240
write_recorder_secret

declare -A ADDR=(
  [healthy]=198.18.1.10 [garbage]=198.18.1.11 [hugehdr]=198.18.1.12 [stall]=198.18.1.13
  [liecodec]=198.18.1.14 [liesize]=198.18.1.15 [h265ash264]=198.18.1.16 [nokey]=198.18.1.17
  [resswitch]=198.18.1.18
)
declare -A MODE=(
  [garbage]=garbage [hugehdr]=huge-headers [stall]=stall [liecodec]=lying-sdp-codec
  [liesize]=lying-sdp-size [h265ash264]=h265-as-h264 [nokey]=no-keyframe [resswitch]=resolution-switch
)
FAILING="garbage hugehdr stall liecodec h265ash264 nokey"
for a in 198.18.1.13 198.18.1.14 198.18.1.15 198.18.1.16 198.18.1.17 198.18.1.18; do
  ip -n "${NS[cam]}" addr add "$a/24" dev eth0
done

start_testcam healthy "${ADDR[healthy]}" --codec h264 --size 640x360 --fps $FPS --bitrate 800
for cam in "${!MODE[@]}"; do
  start_testcam "$cam" "${ADDR[$cam]}" --hostile "${MODE[$cam]}" --size 640x360 --fps $FPS --bitrate 600
done

{
  site_config gateway
  camera_config healthy "rtsp://${ADDR[healthy]}/Streaming/Channels/101" 640x360 $FPS 800
  for cam in "${!MODE[@]}"; do
    camera_config "$cam" "rtsp://${ADDR[$cam]}/Streaming/Channels/101" $OUT $FPS 300
  done
} >"$WORK/cordon.conf"
start_cordon "$WORK/cordon.conf"
statusq wait healthy state live 20 || die "healthy camera never went live: $(tail -20 "$WORK/cordon.log")"
fds_start=$(ls /proc/$CORDON_PID/fd | wc -l)

# Recorders: the healthy camera for the whole run; two failing cameras (one
# that fails in RTSP, one that fails in the stream) and the switching one.
record rec $RUN_S "$(rec_url healthy)" "$WORK/healthy.h264" & rec_healthy=$!
# The decoded size of the switching camera, sampled through the run: proof
# that it did switch.
( for _ in $(seq 1 $((RUN_S * 2))); do
    statusq camera resswitch input_width 2>/dev/null; sleep 0.5
  done ) >"$WORK/resswitch-widths" & sampler=$!
sleep 12
record rec 15 "$(rec_url garbage)" "$WORK/slate-garbage.h264" & rec_garbage=$!
record rec 15 "$(rec_url h265ash264)" "$WORK/slate-h265ash264.h264" & rec_h265=$!
record rec 20 "$(rec_url resswitch)" "$WORK/resswitch.h264" & rec_switch=$!
wait $rec_garbage || fail "recorder of the garbage camera failed or was dropped"
wait $rec_h265 || fail "recorder of the h265ash264 camera failed or was dropped"
wait $rec_switch || fail "recorder of the resswitch camera failed or was dropped"
wait $rec_healthy || fail "recorder of the healthy camera failed or was dropped"
wait $sampler
statusq json >"$WORK/status.json"

# 1. The healthy camera was not disturbed.
n=$(frames "$WORK/healthy.h264")
want=$(( RUN_S * FPS * 9 / 10 ))
[ "${n:-0}" -ge $want ] && pass "healthy: $RUN_S s recording holds $n frames (>= $want)" \
  || fail "healthy: $RUN_S s recording holds ${n:-0} frames, want >= $want"
st=$(statusq camera healthy state); rc=$(statusq camera healthy reconnects)
[ "$st" = live ] && [ "$rc" = 0 ] && pass "healthy: live, 0 reconnects" \
  || fail "healthy: state $st, reconnects $rc; want live, 0"

# 2. Failing cameras: offline and retrying, with a specific reason in the log.
declare -A REASON=(
  [garbage]="answer is not RTSP"
  [hugehdr]="no complete RTSP response within 10 s although the camera sent [0-9.]+ [kMG]B"
  [stall]="stopped answering: no RTSP response within 5 s"
  [liecodec]="no decodable H.265 in [0-9]+ RTP packets"
  [h265ash264]="no decodable H.264 in [0-9]+ RTP packets"
  [nokey]="no key frame within 10 s"
)
for cam in $FAILING; do
  st=$(statusq camera "$cam" state); rc=$(statusq camera "$cam" reconnects)
  err=$(statusq camera "$cam" last_error)
  [ "$st" = offline ] && [ "${rc:-0}" -ge 1 ] && pass "$cam (${MODE[$cam]}): offline, $rc reconnects, last_error '$err'" \
    || fail "$cam (${MODE[$cam]}): state $st, reconnects $rc; want offline and >= 1"
  line=$(grep -E "$cam: (offline|still offline): .*${REASON[$cam]}" "$WORK/cordon.log" | head -1)
  [ -n "$line" ] && pass "$cam: log says '${line#*$cam: }'" \
    || fail "$cam: no log line with '${REASON[$cam]}': $(grep -E "$cam: " "$WORK/cordon.log" | head -3 | tr '\n' '|')"
done

# 3. Bounded give-up and backoff: the stalled camera was retried, each wait
# about twice the one before (1 2 4 8 ...), never hanging on one attempt.
waits=$(grep -oE "stall: (offline|still offline): .*retrying in [0-9]+ s" "$WORK/cordon.log" \
  | sed -E 's/.*retrying in ([0-9]+) s/\1/' | tr '\n' ' ')
set -- $waits
doubling=1; prev=0
for w in "$@"; do
  [ "$prev" = 0 ] || [ "$w" = $((prev * 2)) ] || [ "$w" = 30 ] || doubling=0
  prev=$w
done
[ $# -ge 3 ] && [ "$doubling" = 1 ] && pass "stall: $# attempts given up on, backoff waits: $waits" \
  || fail "stall: backoff waits '$waits'; want >= 3 attempts, each wait doubling"

# 4. Believe the stream, not the SDP: lying-sdp-size and resolution-switch
# stay live at the configured output size.
st=$(statusq camera liesize state); rc=$(statusq camera liesize reconnects)
in_size="$(statusq camera liesize input_width)x$(statusq camera liesize input_height)"
[ "$st" = live ] && [ "$rc" = 0 ] && [ "$in_size" = 640x360 ] \
  && pass "liesize: live, 0 reconnects, decoded $in_size (the SDP claimed 3840x2160)" \
  || fail "liesize: state $st, reconnects $rc, decoded $in_size; want live, 0, 640x360"
widths=$(sort -un "$WORK/resswitch-widths" | tr '\n' ' ')
st=$(statusq camera resswitch state); rc=$(statusq camera resswitch reconnects)
[ "$st" = live ] && [ "$rc" = 0 ] && [ "$(echo $widths | wc -w)" -ge 2 ] \
  && pass "resswitch: live, 0 reconnects while the camera switched between widths $widths" \
  || fail "resswitch: state $st, reconnects $rc, widths seen '$widths'; want live, 0, >= 2 widths"

# 5. Recorders: one constant size whatever the camera does; the slate for
# cameras that fail.
sizes() { ffprobe -v error -select_streams v:0 -show_entries frame=width,height -of csv=p=0 "$1" | sort -u | tr '\n' ' '; }
check_rec() { # FILE SECONDS WHAT
  local n s want=$(( $2 * FPS * 9 / 10 ))
  n=$(frames "$1"); s=$(sizes "$1")
  [ "${n:-0}" -ge $want ] && [ "$s" = "${OUT/x/,} " ] && pass "$3: $n frames (>= $want), all ${OUT}" \
    || fail "$3: ${n:-0} frames (want >= $want), sizes '$s' (want only ${OUT})"
}
check_rec "$WORK/resswitch.h264" 20 "resswitch recorder"
check_rec "$WORK/slate-garbage.h264" 15 "garbage recorder gets the slate"
check_rec "$WORK/slate-h265ash264.h264" 15 "h265ash264 recorder gets the slate"

# 6. cordon survived, its connections to the cameras did not pile up (one
# attempt at a time per camera), nor its descriptors or memory.
kill -0 "$CORDON_PID" && pass "cordon still running" || fail "cordon died: $(tail -20 "$WORK/cordon.log")"
piled=""
for cam in "${!MODE[@]}"; do
  n=$(nsx gw ss -tnH state established dst "${ADDR[$cam]}" | wc -l)
  [ "$n" -le 1 ] || piled="$piled $cam=$n"
done
[ -z "$piled" ] && pass "at most one connection per hostile camera at the end" \
  || fail "connections piled up:$piled"
fds_end=$(ls /proc/$CORDON_PID/fd | wc -l)
[ "$fds_end" -le $((fds_start + 12)) ] && pass "cordon file descriptors: $fds_start after start, $fds_end at the end" \
  || fail "cordon file descriptors grew: $fds_start -> $fds_end"
hwm=$(awk '/VmHWM/ {print $2}' /proc/$CORDON_PID/status)
offered=$(sed -nE 's/.*closed after ([0-9]+) bytes/\1/p' "$WORK/testcam-hugehdr.log" | awk '{s+=$1} END {print int(s/1e6)}')
[ "$hwm" -le 400000 ] && pass "cordon peak memory $((hwm / 1024)) MB (huge-headers camera sent >= $offered MB)" \
  || fail "cordon peak memory $((hwm / 1024)) MB, want <= 390 MB"

finish
