#!/bin/bash
# Hostile ingest workers: cordon runs cordon-worker-hostile (built with
# -Dhostile_worker=true), which behaves normally for a normal camera URL and,
# for /hostile/VERB, misbehaves after its jail is in place (tests/jail/hostile.c).
#   worker_protocol_violations_are_killed: garbage, oversized, out-of-range
#     slot, a slot announced again while the daemon holds it, backwards time,
#     flood, stall: each worker is killed with the reason;
#   scribbled_slots_change_only_pixels: a worker rewriting the slots the daemon
#     encodes from stays live, its recorder gets cordon's H.264;
#   worker_cannot_escape: core-network host, the configuration and /etc/shadow,
#     exec of a shell, ptrace/kill of the daemon, fork: each refused;
#   worker_limits: memory (RLIMIT_AS) and threads (RLIMIT_NPROC) run out;
#   workers_run_confined: own uid from worker-uid-base, no capabilities,
#     no_new_privs, seccomp filter mode, no fd beyond the three it needs;
#   the launcher (cordon-worker --launcher, the workers' parent): one thread,
#     CAP_SETUID + CAP_SETGID only, the worker binary's image, and none of the
#     daemon's memory (the recorder password is nowhere in it);
#   daemon_and_other_cameras_unaffected: cordon stays up, the clean camera stays
#     live and records; recorders of hostile cameras get valid H.264 (the slate,
#     or cordon's encoding of scribbled slots).
source "$(dirname "$0")/../media/lib.sh"
require_root
HOSTILE=${CORDON_HOSTILE_WORKER:-$BUILD/pipeline/cordon-worker-hostile}
[ -x "$HOSTILE" ] || { echo "SKIP: $HOSTILE missing (configure with -Dhostile_worker=true)"; exit 77; }
media_topology

CORE_HOST=$REC2_IP
write_recorder_secret
start_testcam clean $CAM_IP --codec h264 --size 320x180 --fps 10 --bitrate 400 --pattern still

# Listeners a worker must not reach, on the core side; root on the gateway can.
bg rec "$WORK/listen-554.log" socat -u TCP-LISTEN:554,bind=$CORE_HOST,fork,reuseaddr OPEN:/dev/null
bg rec "$WORK/listen-80.log" socat -u TCP-LISTEN:80,bind=$CORE_HOST,fork,reuseaddr OPEN:/dev/null
wait_until 10 nsx gw timeout 2 socat -u OPEN:/dev/null TCP:$CORE_HOST:554 \
  && pass "control: root on the gateway reaches the core host's tcp/554" \
  || fail "control: the core host's listener is unreachable even for root; the connect checks prove nothing"

VERBS="garbage oversized badslot backwards flood stall reuse scribble connect/$CORE_HOST/80 open$WORK/cordon.conf exec ptrace signal fork hog threads"
{
  site_config gateway
  camera_config clean "rtsp://$CAM_IP/Streaming/Channels/101" 320x180 10 300
  i=0
  for v in $VERBS; do
    i=$((i + 1))
    camera_config "h$i" "rtsp://$CAM_IP/hostile/$v" 160x120 5 100
  done
} >"$WORK/cordon.conf"
chmod 644 "$WORK/cordon.conf"   # world-readable: only the jail keeps a worker out

CORDON_WORKER=$HOSTILE start_cordon "$WORK/cordon.conf"
statusq wait clean state live 30 || fail "clean camera never went live: $(tail -5 "$WORK/cordon.log")"

# name VERB → the camera of that verb
cam_of() { local i=0 v; for v in $VERBS; do i=$((i + 1)); case $v in "$1"*) echo "h$i"; return ;; esac; done; }
logged() { grep -E "^.*$1: .*$2" "$WORK/cordon.log" >/dev/null; }
expect_log() { # CAMERA PATTERN WHAT
  if wait_until 25 logged "$1" "$2"; then pass "$3"; else fail "$3: no log line '$1: ...$2'; last: $(grep " $1: " "$WORK/cordon.log" | tail -2)"; fi
}

expect_log "$(cam_of garbage)" "protocol violation" "worker_protocol_violations_are_killed: garbage messages"
expect_log "$(cam_of oversized)" "message of the wrong size" "worker_protocol_violations_are_killed: oversized message"
expect_log "$(cam_of badslot)" "slot index out of range" "worker_protocol_violations_are_killed: out-of-range slot"
expect_log "$(cam_of reuse)" "slot announced twice without a release" "worker_protocol_violations_are_killed: a slot the daemon holds announced again"
expect_log "$(cam_of backwards)" "time stamp going backwards" "worker_protocol_violations_are_killed: time going backwards"
expect_log "$(cam_of flood)" "message flood" "worker_protocol_violations_are_killed: flood"
expect_log "$(cam_of stall)" "the worker hangs" "worker_protocol_violations_are_killed: stall"
expect_log "$(cam_of stall)" "worker [0-9]+ stopped by cordon \(SIGKILL\)" "the stalled worker is really gone (SIGKILL, reaped)"
expect_log "$(cam_of exec)" "forbidden system call execve" "worker_cannot_escape: exec of a shell"
expect_log "$(cam_of ptrace)" "forbidden system call ptrace" "worker_cannot_escape: ptrace of the daemon"
expect_log "$(cam_of signal)" "forbidden system call kill" "worker_cannot_escape: SIGKILL to the daemon"
expect_log "$(cam_of fork)" "forbidden system call clone" "worker_cannot_escape: a new process"
expect_log "$(cam_of connect)" "hostile connect:" "hostile connect attempt reported"
expect_log "$(cam_of open)" "hostile open:" "hostile open attempt reported"

expect_log "$(cam_of hog)" "hostile hog: refused after" "worker_limits: memory"
expect_log "$(cam_of threads)" "hostile threads: refused after" "worker_limits: threads"
mib=$(sed -n 's/.*hostile hog: refused after \([0-9]*\) MiB.*/\1/p' "$WORK/cordon.log" | head -1)
[ -n "$mib" ] && [ "$mib" -le 2048 ] && pass "worker_limits: memory refused after $mib MiB (RLIMIT_AS 2 GiB)" \
  || fail "worker_limits: memory refused after '${mib}' MiB, want <= 2048"
nthr=$(sed -n 's/.*hostile threads: refused after \([0-9]*\).*/\1/p' "$WORK/cordon.log" | head -1)
[ -n "$nthr" ] && [ "$nthr" -lt 64 ] && pass "worker_limits: new threads refused after $nthr (RLIMIT_NPROC 64 for its uid)" \
  || fail "worker_limits: threads refused after '${nthr}', want < 64"
line=$(grep "hostile connect:" "$WORK/cordon.log" | head -1)
say "$line"
case $line in
  ""|*CONNECTED*|*"udp 53 sent"*) fail "worker_cannot_escape: a worker reached the core network (or said nothing): $line" ;;
  *) pass "worker_cannot_escape: core host tcp/80, tcp/554 (its camera's port) and udp/53 all refused" ;;
esac
line=$(grep "hostile open:" "$WORK/cordon.log" | head -1)
say "$line"
case $line in
  *READ*) fail "worker_cannot_escape: a worker read a file: $line" ;;
  *"conf EACCES; shadow EACCES; environ EACCES; root EACCES"*)
    pass "worker_cannot_escape: the configuration, /etc/shadow, the daemon's environ and / refused" ;;
  *) fail "worker_cannot_escape: unexpected open result: $line" ;;
esac

# workers_run_confined: every live worker process, from /proc.
field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$1"; }
workers=0
declare -A per_uid=()
# Each status file is read once into a copy: hostile workers are killed and
# restarted all the time, and one that exits between two reads of /proc
# would look like a worker without fields.
for proc_st in /proc/[0-9]*/status; do
  st=$WORK/proc-status
  cat "$proc_st" >"$st" 2>/dev/null || continue
  [ "$(field "$st" Name)" = cordon-worker-h ] || continue
  pid=${proc_st#/proc/}; pid=${pid%/status}
  read -r u _ < <(field "$st" Uid)
  workers=$((workers + 1))
  per_uid[$u]="${per_uid[$u]:-} $pid"
  [ "$(wc -w <<<"${per_uid[$u]}")" -le 1 ] \
    || fail "uid $u has worker processes${per_uid[$u]}: a killed worker lives on: $(ps -o pid,ppid,stat,etime,args -p "${per_uid[$u]// /,}" | tail -n +2 | tr '\n' ';')"
  [ "$u" -ge 61000 ] && [ "$u" -le 61015 ] || fail "worker $pid runs as uid $u, not 61000-61015"
  [ "$(field "$st" CapEff)" = 0000000000000000 ] && [ "$(field "$st" CapPrm)" = 0000000000000000 ] \
    || fail "worker $pid has capabilities: $(field "$st" CapEff)"
  [ "$(field "$st" NoNewPrivs)" = 1 ] || fail "worker $pid: NoNewPrivs is not set"
  case $(field "$st" Seccomp) in
    2) # 0-2 (/dev/null), 3 control, the camera socket, GLib's and GstPoll's wake-ups: no file.
       for fd in /proc/"$pid"/fd/*; do
         t=$(readlink "$fd") || continue  # closed meanwhile, or the worker is gone
         case $t in socket:*|anon_inode:*|/dev/null|pipe:*) ;; *) fail "worker $pid holds $fd → $t" ;; esac
       done ;;
    *) ;; # still starting (before its jail)
  esac
done
[ $workers -ge 2 ] && pass "workers_run_confined: $workers workers, each its own uid, no capabilities, no_new_privs, no file open" \
  || fail "workers_run_confined: found $workers worker processes"
clean_uid=$(for st in /proc/[0-9]*/status; do [ "$(field "$st" Name 2>/dev/null)" = cordon-worker-h ] && field "$st" Uid; done | awk '$1 == 61000 { print $1; exit }')
[ "$clean_uid" = 61000 ] && pass "the clean camera's worker runs as uid 61000 (worker-uid-base + 0)" \
  || fail "no worker with uid 61000 (the clean camera's)"

# The launcher: a child of the daemon, a fresh image of the worker binary
# (not the daemon's, so none of its memory: configuration, secrets), named
# cordon-launcher, the parent of every worker, CAP_SETUID + CAP_SETGID only
# in every set (bounding and ambient too), no_new_privs, not dumpable, none
# of the daemon's descriptors (stdio, its socket, its signalfd).
launcher=$(for st in /proc/[0-9]*/status; do
  [ "$(field "$st" Name 2>/dev/null)" = cordon-launcher ] && [ "$(field "$st" PPid)" = "$CORDON_PID" ] && { p=${st#/proc/}; echo "${p%/status}"; }
done | head -1)
if [ -n "$launcher" ]; then
  st=$WORK/launcher-status
  cat /proc/"$launcher"/status >"$st"
  nfd=$(ls /proc/"$launcher"/fd | wc -l)
  exe=$(readlink /proc/"$launcher"/exe)
  caps_ok=1
  for c in CapEff CapPrm CapBnd CapAmb; do [ "$(field "$st" $c)" = 00000000000000c0 ] || caps_ok=0; done
  [ $caps_ok = 1 ] && [ "$(field "$st" NoNewPrivs)" = 1 ] && [ "$nfd" -le 5 ] \
    && pass "launcher $launcher: CAP_SETUID and CAP_SETGID only (effective, permitted, bounding, ambient), no_new_privs, $nfd descriptors" \
    || fail "launcher $launcher: $(grep -E '^(Cap|NoNewPrivs)' "$st" | tr '\n\t' '  ')fds: $(ls -l /proc/"$launcher"/fd | tail -n +2 | awk '{print $NF}' | tr '\n' ' ')"
  ntask=$(ls /proc/"$launcher"/task | wc -l)
  [ "$ntask" = 1 ] && pass "launcher $launcher: one thread (GStreamer and the plugins loaded started none)" \
    || fail "launcher $launcher has $ntask threads: its forks would inherit broken locks"
  [ "$exe" = "$(readlink -f "$HOSTILE")" ] && [ "$exe" != "$(readlink /proc/"$CORDON_PID"/exe)" ] \
    && pass "launcher $launcher holds none of the daemon's memory: its image is $exe, not the daemon's" \
    || fail "launcher $launcher runs $exe (daemon: $(readlink /proc/"$CORDON_PID"/exe)), want $(readlink -f "$HOSTILE")"
  # The daemon read the recorder's password before it forked the launcher:
  # a launcher that kept the daemon's memory holds it somewhere.
  found=$(python3 "$(dirname "$0")/memscan.py" "$launcher" "$REC_PASS" 2>&1)
  case $found in
    "absent "*) pass "launcher $launcher: the recorder password is nowhere in its memory ($found)" ;;
    *) fail "launcher $launcher: $found" ;;
  esac
  found=$(python3 "$(dirname "$0")/memscan.py" "$CORDON_PID" "$REC_PASS" 2>&1)
  case $found in
    "present "*) pass "control: the daemon's memory holds the recorder password ($found)" ;;
    *) fail "control: the recorder password not found in the daemon's memory, the launcher check proves nothing: $found" ;;
  esac
  nw=0 others=0
  for c in $(pgrep -P "$launcher"); do
    [ "$(awk '$1 == "Name:" {print $2}' /proc/"$c"/status 2>/dev/null)" = cordon-worker-h ] && nw=$((nw + 1)) || others=$((others + 1))
  done
  [ $nw -ge 2 ] && pass "the workers are the launcher's forks: $nw children named cordon-worker-h ($others starting)" \
    || fail "launcher $launcher has $nw worker children"
else
  fail "no cordon-launcher child of the daemon: $(ps -o pid,comm --ppid "$CORDON_PID" | tr '\n' ';')"
fi

# daemon_and_other_cameras_unaffected
kill -0 "$CORDON_PID" && pass "daemon_and_other_cameras_unaffected: cordon is up" || fail "cordon died: $(tail -20 "$WORK/cordon.log")"
record rec 6 "$(rec_url clean)" "$WORK/clean.h264" || fail "recording the clean camera failed"
n=$(frames "$WORK/clean.h264")
[ "${n:-0}" -ge 48 ] && pass "daemon_and_other_cameras_unaffected: clean camera recorded $n frames in 6 s (>= 48)" \
  || fail "clean camera: ${n:-0} frames in 6 s, want >= 48"
c=$(cam_of scribble)
statusq camera "$c" state | grep -qx live && pass "scribbled_slots_change_only_pixels: $c is live" \
  || fail "scribbled_slots_change_only_pixels: $c is $(statusq camera "$c" state): $(grep " $c: " "$WORK/cordon.log" | tail -2)"
logged "$c" "protocol violation" && fail "scribbled_slots_change_only_pixels: $c was killed: $(grep " $c: " "$WORK/cordon.log" | tail -1)" \
  || pass "scribbled_slots_change_only_pixels: rewriting held slots is no protocol violation"
for v in reuse scribble exec flood; do
  c=$(cam_of "$v")
  got=$(nsx rec timeout 20 ffprobe -v error -rtsp_transport tcp -show_entries stream=codec_name,width,height \
    -of csv=p=0 "$(rec_url "$c")" | tr '\n' ' ')
  [ "$got" = "h264,160,120 " ] && pass "recorder of $c ($v) gets cordon's H.264 160x120" \
    || fail "recorder of $c ($v): ffprobe saw '$got'"
done
statusq camera clean state | grep -qx live && pass "clean camera still live" || fail "clean camera not live at the end"
kill -0 "$CORDON_PID" && pass "cordon still up at the end" || fail "cordon died"
grep -q "$REC_PASS" "$WORK/cordon.log" && fail "a recorder password appears in cordon's log" || true
finish
