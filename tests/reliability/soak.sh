#!/bin/bash
# Sanitizer soak: cordon built with AddressSanitizer + LeakSanitizer (meson's
# -Db_sanitize=address, gcc, in build-asan/ beside build/) runs in gateway
# mode for SOAK_SECONDS (default 150) with three cameras: one stable, two
# flapping (their test cameras killed and restarted every 4-6 s, alternately
# SIGKILL and SIGTERM), short recorders connecting for 2-4 s and leaving in a
# loop (up to two at a time, round robin over the cameras), one long recorder
# throughout. Checks:
#   - no AddressSanitizer report from the daemon or its root firewall helper
#     (ASan stops the process at the first error: cordon must also be alive);
#   - no LeakSanitizer report when cordon stops on SIGTERM (the suppressions in
#     lsan.supp cover one-time GLib/GStreamer allocations only, each justified);
#   - open fds in the same quiet state (short recorders gone, flapping cameras
#     down, stable camera and long recorder on) after warm-up and at the end:
#     at most FD_SLACK apart;
#   - ASan's live heap (bytes allocated and not freed, read with gdb) in that
#     same state grows by at most HEAP_SLACK_KIB; resident memory, which also
#     holds the allocator's caches, grows below RSS_MAX_KIB_PER_MIN;
#   - the churn happened (reconnects, recorder sessions), every short recorder
#     got frames, the long recorder stayed connected, the stable camera never
#     reconnected.
# LeakSanitizer after the privilege drop: the drop to nobody leaves the daemon
# not dumpable, but LSan's StopTheWorld sets PR_SET_DUMPABLE itself for the
# check (and restores it), and its tracer has the same uid and no capability,
# so nothing in privileges.c is relaxed. The firewall helper (root with
# CAP_NET_ADMIN only) ends with _exit(), which skips LSan; in ASan builds only
# (__SANITIZE_ADDRESS__) it calls __lsan_do_leak_check() first (fwhelper.c).
# A longer run: SOAK_SECONDS=1800 (docs/reliability.md). The ASan build uses
# CORDON_ASAN_BUILD_DIR (default $CORDON_SOURCE_DIR/build-asan); the test
# cameras come from CORDON_BUILD_DIR (a normal build).
source "$(dirname "$0")/../media/lib.sh"
require_root

SOAK=${SOAK_SECONDS:-150}
WARM=${SOAK_WARMUP_SECONDS:-30}
FPS=10
SIZE=320x240
# Same quiet state at both ends, minimum of three samples: the count is exact
# up to a reconnect attempt in flight or a socket the kernel has not closed
# yet; 2 is well below what one leaked fd per camera reconnect (10-16 after
# the warm-up in the default run) or per recorder session (about 50) adds.
FD_SLACK=${SOAK_FD_SLACK:-2}
# The live heap is the precise measure: flat within ~100 KiB in the quiet
# state over 2-7 min; 1 MiB is ten leaked 320x240 frames. RSS is generous:
# it grew 1.6-4.1 MiB/min in runs whose live heap stayed flat (the ASan
# allocator taking fresh chunks as the quarantine cycles; a normal build's
# glibc heap grew 2.4 MiB/min the same way); 8 MiB/min catches a leak per
# frame, not a small one.
RSS_MAX_KIB_PER_MIN=${SOAK_RSS_MAX_KIB_PER_MIN:-8192}
HEAP_SLACK_KIB=${SOAK_HEAP_SLACK_KIB:-1024}
[ "$SOAK" -gt $((WARM + 30)) ] || die "SOAK_SECONDS must exceed the warm-up ($WARM s) by 30 s at least"

# The sanitizer build: configured once, brought up to date by ninja every run.
ASAN_BUILD=${CORDON_ASAN_BUILD_DIR:-$SRC/build-asan}
case $(gcc -print-file-name=libasan.so) in
  /*) ;;
  *) echo "SKIP: gcc has no libasan (Debian: libasan8, pulled in by gcc)"; exit 77 ;;
esac
t0=$SECONDS
if [ ! -f "$ASAN_BUILD/build.ninja" ]; then
  CC=gcc meson setup "$ASAN_BUILD" "$SRC" -Db_sanitize=address -Dbuildtype=debugoptimized \
    >"$WORK/asan-setup.log" 2>&1 || die "cannot configure $ASAN_BUILD: $(tail -20 "$WORK/asan-setup.log")"
fi
grep -q -- '-fsanitize=address' "$ASAN_BUILD/build.ninja" \
  || die "$ASAN_BUILD is not configured with -Db_sanitize=address"
ninja -C "$ASAN_BUILD" proxy/cordon >"$WORK/asan-build.log" 2>&1 \
  || die "cannot build the ASan cordon: $(tail -30 "$WORK/asan-build.log")"
say "ASan cordon ready in $((SECONDS - t0)) s ($ASAN_BUILD)"
CORDON=$ASAN_BUILD/proxy/cordon
[ -x "$TESTCAM" ] || die "no test camera at $TESTCAM (build $BUILD first)"

# Reports land in ASAN_DIR: written by the daemon as nobody and by the helper
# as a root without CAP_DAC_OVERRIDE, hence world-writable (sticky).
ASAN_DIR=$WORK/asan
mkdir -m 1777 "$ASAN_DIR"
# quarantine_size_mb: ASan keeps freed memory out of reuse for a while to
# catch use-after-free; the default 256 MiB fills slowly and would read as
# RSS growth. 16 MiB still spans many frames of every camera.
# fast_unwind_on_malloc=0: Debian's GLib and GStreamer have no frame pointers,
# so the fast unwinder stops at g_malloc and a leak report would not say who
# allocated (nor could lsan.supp match one narrowly). Costs CPU, not results.
ASAN_OPTS="log_path=$ASAN_DIR/asan:detect_leaks=1:quarantine_size_mb=16:fast_unwind_on_malloc=0"
ASAN_OPTS+="${SOAK_ASAN_OPTIONS:+:$SOAK_ASAN_OPTIONS}"
LSAN_OPTS="suppressions=$SRC/tests/reliability/lsan.supp:print_suppressions=0"

# forget PID: a process this test stopped and reaped, so that the cleanup trap
# never signals a pid the system may have reused.
forget() {
  local keep=() p
  for p in "${CORDON_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  CORDON_PIDS=("${keep[@]}")
}

media_topology
write_recorder_secret
declare -A CAM_ADDR=([lobby]=$CAM_IP [flap1]=198.18.1.11 [flap2]=198.18.1.12)
declare -A CAM_PID=() NEXT_FLAP=() FLAP_SIG=([flap1]=KILL [flap2]=TERM)
FLAPS=0

cam_up() {
  local c=$1
  bg cam "$WORK/testcam-$c.log" "$TESTCAM" --listen "${CAM_ADDR[$c]}:554" --codec h264 --size $SIZE --fps $FPS \
    --bitrate 300
  CAM_PID[$c]=$LAST_PID
  wait_until 15 nsx cam sh -c "ss -ltn | grep -q '${CAM_ADDR[$c]}:554'" \
    || die "testcam $c did not start: $(cat "$WORK/testcam-$c.log")"
}
cam_down() {
  local c=$1 sig=${2:-TERM}
  [ -n "${CAM_PID[$c]:-}" ] || return 0
  { stop_pid "${CAM_PID[$c]}" "$sig"; } 2>/dev/null # no "Killed" note from bash
  forget "${CAM_PID[$c]}"
  CAM_PID[$c]=
}

{
  site_config gateway
  for c in lobby flap1 flap2; do camera_config $c "rtsp://${CAM_ADDR[$c]}/Streaming/Channels/101" $SIZE $FPS 300; done
} >"$WORK/cordon.conf"
for c in lobby flap1 flap2; do cam_up $c; done

bg gw "$WORK/cordon.log" env ASAN_OPTIONS="$ASAN_OPTS" LSAN_OPTIONS="$LSAN_OPTS" "$CORDON" run --config "$WORK/cordon.conf"
CORDON_PID=$LAST_PID
wait_until 60 status_json || die "ASan cordon did not start: $(tail -20 "$WORK/cordon.log"; cat "$ASAN_DIR"/* 2>/dev/null)"
for c in lobby flap1 flap2; do
  statusq wait $c state live 40 || die "camera $c never went live: $(tail -5 "$WORK/cordon.log")"
done
say "cordon (ASan, pid $CORDON_PID) live with 3 cameras"

fds() { ls "/proc/$CORDON_PID/fd" 2>/dev/null | wc -l; }
# heap: ASan's count of live heap bytes in cordon (allocated and not freed;
# freed memory waiting in the quarantine not included), read by attaching gdb
# for a moment. RSS alone cannot tell a leak from the allocator's caches.
heap() {
  gdb -q -batch -nx -iex 'set debuginfod enabled off' -p "$CORDON_PID" \
    -ex 'call (unsigned long) __sanitizer_get_current_allocated_bytes ()' 2>/dev/null \
    | sed -n 's/^\$1 = \([0-9]\+\)$/\1/p'
}
# Can this machine's gdb call a function in a process at all? On some
# kernel and CPU pairs it cannot restore the registers after the call
# ("Couldn't write extended state status"), whatever the process.
gdb_can_call() {
  local p out
  sleep 30 2>/dev/null & p=$!
  out=$(gdb -q -batch -nx -iex 'set debuginfod enabled off' -p "$p" -ex 'call (int) getpid ()' 2>&1)
  kill "$p" 2>/dev/null; wait "$p" 2>/dev/null
  GDB_CALL_ERROR=$(printf '%s\n' "$out" | grep -m1 -i "couldn't\|cannot\|error" || true)
  printf '%s\n' "$out" | grep -q "^\$1 = $p\$"
}
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$CORDON_PID/status" 2>/dev/null; }
alive() { kill -0 "$CORDON_PID" 2>/dev/null; }

# The long recorder: stopped with SIGINT at the end (ffmpeg closes the file).
bg rec "$WORK/long.log" ffmpeg -nostdin -hide_banner -loglevel error -rtsp_transport tcp -i "$(rec_url lobby)" \
  -t 3600 -c copy -f h264 "$WORK/long.h264"
LONG_PID=$LAST_PID
long_start=$SECONDS

# Short recorders: subshells ending by themselves (ffmpeg -t, under timeout).
declare -A SHORT=()
SHORT_N=0 SHORT_OK=0 SHORT_BAD=()
ROTA=(lobby flap1 flap2)
next_short=$SECONDS
short_start() {
  local c=${ROTA[$((SHORT_N % 3))]} f="$WORK/short-$SHORT_N.h264"
  record rec $((2 + RANDOM % 3)) "$(rec_url "$c")" "$f" >"$f.log" 2>&1 &
  SHORT[$!]="$c $f $((SECONDS - soak_start))"
  SHORT_N=$((SHORT_N + 1))
}
short_reap() { # reap finished ones; with "all", wait for every one
  local p c f t n rc
  for p in "${!SHORT[@]}"; do
    if [ "${1:-}" != all ] && kill -0 "$p" 2>/dev/null; then continue; fi
    wait "$p"; rc=$?
    read -r c f t <<<"${SHORT[$p]}"
    n=$(frames "$f" 2>/dev/null)
    if [ "$rc" = 0 ] && [ "${n:-0}" -gt 0 ]; then
      SHORT_OK=$((SHORT_OK + 1))
    else
      SHORT_BAD+=("$c at t=${t}s: exit $rc, ${n:-0} frames: $(head -c 200 "$f.log" | tr '\n' ' ');")
    fi
    rm -f "$f" "$f.log"
    unset "SHORT[$p]"
  done
}

# churn SECONDS [sample]: flapping and recorder churn; "sample" prints fds/RSS
# every 10 s.
churn() {
  local end=$((SECONDS + $1)) c next_sample=$((SECONDS + 10))
  for c in flap1 flap2; do NEXT_FLAP[$c]=$((SECONDS + 4 + RANDOM % 3)); done
  while [ $SECONDS -lt $end ] && alive; do
    for c in flap1 flap2; do
      if [ $SECONDS -ge "${NEXT_FLAP[$c]}" ]; then
        cam_down $c "${FLAP_SIG[$c]}"
        [ "${FLAP_SIG[$c]}" = KILL ] && FLAP_SIG[$c]=TERM || FLAP_SIG[$c]=KILL
        cam_up $c
        FLAPS=$((FLAPS + 1))
        NEXT_FLAP[$c]=$((SECONDS + 4 + RANDOM % 3))
      fi
    done
    short_reap
    if [ $SECONDS -ge $next_short ] && [ ${#SHORT[@]} -lt 2 ]; then
      short_start
      next_short=$((SECONDS + 2))
    fi
    if [ "${2:-}" = sample ] && [ $SECONDS -ge $next_sample ]; then
      say "t=$((SECONDS - soak_start))s fds=$(fds) rss=$(rss) KiB"
      next_sample=$((SECONDS + 10))
    fi
    sleep 0.5
  done
}

# quiet: the state compared at both ends: short recorders finished, flapping
# cameras down and seen offline, stable camera and long recorder on. Sets
# Q_FDS (minimum of three samples) and Q_RSS (KiB).
quiet() {
  short_reap all
  cam_down flap1 TERM
  cam_down flap2 TERM
  statusq wait flap1 state offline 15 >/dev/null || fail "flap1 not offline 15 s after its camera stopped"
  statusq wait flap2 state offline 15 >/dev/null || fail "flap2 not offline 15 s after its camera stopped"
  sleep 3
  local a b c
  a=$(fds); sleep 1; b=$(fds); sleep 1; c=$(fds)
  Q_FDS=$(printf '%s\n' "$a" "$b" "$c" | sort -n | head -1)
  Q_RSS=$(rss)
  # gdb stops cordon while it attaches (seconds under ASan): the stable
  # camera may then see "no video frames for 1 s". Its reconnects are read
  # before the attach and counted from after the previous one.
  Q_R0=$(statusq camera lobby reconnects)
  Q_HEAP=$(heap)
  # What the fds are, for the report if the counts differ.
  find "/proc/$CORDON_PID/fd" -mindepth 1 -printf '%l\n' 2>/dev/null | sed 's/[0-9]\+]$/N]/' | sort >"$WORK/fds-$1"
}

soak_start=$SECONDS
churn "$WARM"
alive || die "cordon died during the warm-up: $(tail -20 "$WORK/cordon.log"; cat "$ASAN_DIR"/* 2>/dev/null)"
quiet warm
fds0=$Q_FDS rss0=$Q_RSS heap0=$Q_HEAP t_warm=$SECONDS
say "after warm-up (${WARM} s): fds=$fds0 rss=$rss0 KiB live heap=${heap0:-?} B"
statusq wait lobby state live 20 >/dev/null || fail "stable camera not live after the warm-up's heap reading"
r0_start=$(statusq camera lobby reconnects)
[ "$r0_start" = "$Q_R0" ] || say "stable camera reconnected while gdb held cordon ($Q_R0 -> $r0_start): not counted"
cam_up flap1
cam_up flap2
churn $((SOAK - WARM)) sample
alive_at_end=0; alive && alive_at_end=1
if [ $alive_at_end = 1 ]; then
  quiet end
  fds1=$Q_FDS rss1=$Q_RSS heap1=$Q_HEAP t_end=$SECONDS
  say "at the end (${SOAK} s): fds=$fds1 rss=$rss1 KiB live heap=${heap1:-?} B"
fi

# Outcomes from /status while cordon still runs.
if [ $alive_at_end = 1 ]; then
  pass "ASan cordon alive after ${SOAK} s of churn"
  r1=$(statusq camera flap1 reconnects) r2=$(statusq camera flap2 reconnects) r0=$((Q_R0 - r0_start))
  sessions=$(statusq recorder nvr1 sessions)
  [ "$r1" -ge 3 ] && [ "$r2" -ge 3 ] \
    && pass "flapping cameras reconnected $r1 and $r2 times ($FLAPS camera restarts)" \
    || fail "flapping cameras reconnected only $r1 and $r2 times ($FLAPS camera restarts); want >= 3 each"
  [ "$r0" = 0 ] && statusq wait lobby state live 20 >/dev/null \
    && pass "stable camera live throughout the churn, 0 reconnects" \
    || fail "stable camera: $r0 reconnects during the churn, state $(statusq camera lobby state)"
  say "recorder sessions now: $sessions"
else
  fail "cordon died during the soak: $(tail -20 "$WORK/cordon.log")"
fi
[ ${#SHORT_BAD[@]} = 0 ] && [ $SHORT_OK -ge 20 ] \
  && pass "$SHORT_OK short recorder sessions (2-4 s each) all got frames" \
  || fail "short recorders: $SHORT_OK ok, ${#SHORT_BAD[@]} bad: ${SHORT_BAD[*]:0:3}"

stop_pid "$LONG_PID" INT
forget "$LONG_PID"
long_secs=$((SECONDS - long_start))
n=$(frames "$WORK/long.h264")
want=$((long_secs * FPS * 8 / 10))
[ "${n:-0}" -ge $want ] && pass "long recorder: $n frames in ${long_secs} s (>= $want)" \
  || fail "long recorder: ${n:-0} frames in ${long_secs} s, want >= $want"

if [ $alive_at_end = 1 ]; then
  d=$((fds1 - fds0))
  [ ${d#-} -le "$FD_SLACK" ] && pass "open fds flat: $fds0 after warm-up, $fds1 at the end (|diff| $d <= $FD_SLACK)" \
    || fail "open fds: $fds0 after warm-up, $fds1 at the end (diff $d > $FD_SLACK): $(diff "$WORK/fds-warm" \
      "$WORK/fds-end" | grep '^[<>]' | sort | uniq -c | tr '\n' ';')"
  secs=$((t_end - t_warm))
  rate=$(( (rss1 - rss0) * 60 / secs ))
  [ $rate -le "$RSS_MAX_KIB_PER_MIN" ] \
    && pass "RSS growth: $rss0 -> $rss1 KiB in ${secs} s = $rate KiB/min (<= $RSS_MAX_KIB_PER_MIN)" \
    || fail "RSS growth: $rss0 -> $rss1 KiB in ${secs} s = $rate KiB/min (> $RSS_MAX_KIB_PER_MIN)"
  if [ -n "$heap0" ] && [ -n "$heap1" ]; then
    dh=$(( (heap1 - heap0) / 1024 ))
    [ $dh -le "$HEAP_SLACK_KIB" ] \
      && pass "live heap flat: $((heap0 / 1024)) -> $((heap1 / 1024)) KiB in ${secs} s ($dh KiB, <= $HEAP_SLACK_KIB)" \
      || fail "live heap grew: $((heap0 / 1024)) -> $((heap1 / 1024)) KiB in ${secs} s ($dh KiB > $HEAP_SLACK_KIB)"
  elif ! gdb_can_call; then
    say "skip: live heap not read: this machine's gdb cannot call a function in any process (${GDB_CALL_ERROR:-no output}); RSS growth above and LeakSanitizer below still apply"
  else
    fail "cannot read ASan's live heap size with gdb (installed? tools/install-deps.sh)"
  fi
fi

# SIGTERM: cordon stops cleanly and LeakSanitizer runs at exit.
helper=$(pgrep -P "$CORDON_PID" -x cordon-fwhelper || true)
kill -TERM "$CORDON_PID" 2>/dev/null
t_stop=$SECONDS
for _ in $(seq 1 600); do kill -0 "$CORDON_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$CORDON_PID" 2>/dev/null; then
  fail "cordon did not exit within 60 s of SIGTERM"
  kill -KILL "$CORDON_PID"
fi
wait "$CORDON_PID"; rc=$?
forget "$CORDON_PID"
[ $rc = 0 ] && pass "cordon exited 0 on SIGTERM in $((SECONDS - t_stop)) s (leak check included)" \
  || fail "cordon exit status $rc on SIGTERM: $(tail -5 "$WORK/cordon.log")"
[ -z "$helper" ] || ! kill -0 "$helper" 2>/dev/null || fail "firewall helper $helper still running"

reports=$(ls "$ASAN_DIR")
if [ -z "$reports" ]; then
  pass "no AddressSanitizer or LeakSanitizer report (daemon and firewall helper)"
else
  for r in $reports; do
    fail "sanitizer report $r:"
    head -c 20000 "$ASAN_DIR/$r" >&2
  done
fi
say "soak took $((SECONDS - soak_start)) s of churn and checks; whole test $((SECONDS - t0)) s"
finish
