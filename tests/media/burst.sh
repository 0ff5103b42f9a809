#!/bin/bash
# cpu_stall_loses_no_picture_uncounted: cordon is frozen (SIGSTOP) for 1.5 s
# in the middle of a 12 s recording, as a CPU burst on a loaded host would
# starve it. Every picture the camera sent in the recorded window either
# reached the recorder or is in cordon's frames_dropped:
#   received + dropped = sent, within 3 pictures.
# sent comes from the camera's own capture clock, drawn as a bar code into
# every picture (--timestamp-overlay): (last - first) / frame interval + 1.
# The tolerance: the camera stamps a picture when it renders it, so a stamp
# can be late by up to a frame interval under load at either end of the
# window (±1 each), plus one picture for the counter read racing the window's
# ends. The camera is not declared lost either (no slate picture, no
# reconnect): a stalled process is not a silent camera.
# idle_ring_slots_give_their_pages_back: the stall makes the worker fill
# every slot of its picture ring; once the daemon has caught up, the slots
# it no longer needs are given back (pipeline/handover.c, worker.c).
# The pictures the worker could not place during the stall are its drops,
# counted above.
source "$(dirname "$0")/lib.sh"
require_root
media_topology
FPS=25
SIZE=640x360
BARCODE_READ=$CORDON_BUILD_DIR/tests/testcam/barcode-read
write_recorder_secret
{ site_config off; camera_config lobby "rtsp://$CAM_IP/Streaming/Channels/101" $SIZE $FPS 1500; } >"$WORK/cordon.conf"

start_testcam a $CAM_IP --codec h264 --size $SIZE --fps $FPS --bitrate 1500 --timestamp-overlay
start_cordon "$WORK/cordon.conf"
statusq wait lobby state live 20 || die "camera never went live: $(tail -5 "$WORK/cordon.log")"

# Resident KiB of this daemon's worker's picture ring (its own mapping).
descendants() { local c; for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done; }
ring_kib() {
  local pid
  for pid in $(descendants "$CORDON_PID"); do
    [ "$(awk '$1 == "Name:" {print $2}' /proc/$pid/status 2>/dev/null)" = cordon-worker ] || continue
    awk '/memfd:cordon-picture-ring/ {r = 1; next} r && $1 == "Rss:" {s += $2; r = 0} END {print s + 0}' \
      /proc/$pid/smaps
    return
  done
  echo 0
}
SLOT_KIB=$(( 640 * 360 * 3 / 2 / 1024 ))

record rec 12 "$(rec_url lobby)" "$WORK/rec.h264" & recorder=$!
sleep 3
dropped0=$(statusq camera lobby frames_dropped)
reconnects0=$(statusq camera lobby reconnects)
kill -STOP "$CORDON_PID"
sleep 1.5
kill -CONT "$CORDON_PID"
ring_stall=$(ring_kib)
wait $recorder || fail "recorder failed: $(tail -3 "$WORK/cordon.log")"
dropped1=$(statusq camera lobby frames_dropped)
reconnects1=$(statusq camera lobby reconnects)
state=$(statusq camera lobby state)

ffmpeg -nostdin -v error -i "$WORK/rec.h264" -vf format=gray -f rawvideo - | "$BARCODE_READ" 640 360 >"$WORK/stamps"
received=$(wc -l <"$WORK/stamps")
unread=$(grep -c -v '^[0-9]' "$WORK/stamps" || true)
first=$(grep -m1 '^[0-9]' "$WORK/stamps")
last=$(grep '^[0-9]' "$WORK/stamps" | tail -1)
dupes=$(grep '^[0-9]' "$WORK/stamps" | sort | uniq -d | wc -l)
sent=$(( (last - first + 500 / FPS) * FPS / 1000 + 1 ))
dropped=$(( dropped1 - dropped0 ))
say "sent $sent (stamps $first..$last), received $received, dropped $dropped, unreadable $unread, duplicates $dupes"

[ "$received" -ge $(( 8 * FPS )) ] && pass "recorder got $received pictures" || fail "recorder got only $received pictures"
[ "$unread" -eq 0 ] && pass "every picture is a camera picture (no slate)" || fail "$unread pictures without the camera's bar code (slate?)"
[ "$dupes" -eq 0 ] && pass "no picture repeated" || fail "$dupes pictures repeated"
[ "$reconnects1" -eq "$reconnects0" ] && [ "$state" = live ] && pass "camera stayed live through the stall" \
  || fail "camera state $state, reconnects $reconnects0 -> $reconnects1"
ring_after=$(ring_kib)
say "picture ring resident: $ring_stall KiB right after the stall, $ring_after KiB at the end (slot $SLOT_KIB KiB)"
# What may stay in use once the daemon has caught up: 5 slots of pictures
# in flight (the worker's appsink, the hand-over, the encoder's queue), and
# the decoder's reference pictures, which it decodes in place in the slots
# (pipeline/decoder.c) and for which the ring has 4 slots more (ring.h).
keep=$(( 5 + 4 ))
[ "$ring_stall" -ge $(( (keep + 3) * SLOT_KIB )) ] && pass "the stall filled the ring ($ring_stall KiB)" \
  || fail "the stall left the ring at $ring_stall KiB, want >= $(( keep + 3 )) slots: the check below proves nothing"
[ "$ring_after" -le $(( keep * SLOT_KIB )) ] && pass "idle_ring_slots_give_their_pages_back: $ring_after KiB (<= $keep slots)" \
  || fail "idle_ring_slots_give_their_pages_back: $ring_after KiB resident, want <= $keep slots"
diff=$(( received + dropped - sent ))
if [ "${diff#-}" -le 3 ]; then
  pass "received + dropped = sent within 3 ($received + $dropped vs $sent)"
else
  fail "received + dropped = $((received + dropped)), sent $sent: $diff pictures unaccounted"
fi
finish
