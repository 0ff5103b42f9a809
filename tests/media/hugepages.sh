#!/bin/bash
# encoder_memory_in_small_pages: x264 asks for transparent huge pages
# (madvise) for its big buffers, and a huge page is resident whole once one
# byte of it is touched; cordon turns them off for its processes
# (proxy/daemon.c, PR_SET_THP_DISABLE). A 1280x720 camera that never answers
# is on the slate, so its encoder runs without a test camera: the daemon's
# memory holds x264's frames (more than 8 MiB anonymous) and none of it is in
# huge pages. On a host whose THP setting is "never" the check proves
# nothing, so the test is skipped there.
source "$(dirname "$0")/lib.sh"
require_root
thp=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
if [ -z "$thp" ] || [ "$thp" = never ]; then
  echo "SKIP: transparent huge pages are off on this host (${thp:-no THP}): nothing to prove"
  exit 77
fi
media_topology
write_recorder_secret
{ site_config off; camera_config away "rtsp://$CAM_IP/Streaming/Channels/101" 1280x720 25 1500; } >"$WORK/cordon.conf"
start_cordon "$WORK/cordon.conf"
statusq wait away state offline 20 || die "camera never shown offline: $(tail -5 "$WORK/cordon.log")"
# The slate's encoder has taken pictures (x264 allocates its frames on the first).
for _ in $(seq 1 20); do [ "$(statusq camera away frames_out)" -gt 0 ] 2>/dev/null && break; sleep 0.5; done
sleep 2
anon=$(awk '$1 == "Anonymous:" {print $2}' "/proc/$CORDON_PID/smaps_rollup")
huge=$(awk '$1 == "AnonHugePages:" {print $2}' "/proc/$CORDON_PID/smaps_rollup")
say "THP $thp; daemon: ${anon:-?} KiB anonymous, ${huge:-?} KiB of it in huge pages"
[ "${anon:-0}" -gt $(( 8 * 1024 )) ] && pass "the encoder's frames are allocated (${anon} KiB anonymous)" \
  || fail "only ${anon:-0} KiB anonymous: the encoder has not allocated, the check below proves nothing"
[ "${huge:-1}" -eq 0 ] && pass "encoder_memory_in_small_pages: no huge pages" \
  || fail "encoder_memory_in_small_pages: ${huge} KiB in transparent huge pages"
finish
