#!/bin/bash
# Faults: streams recover by themselves and isolation never lapses.
#   a. The camera network loses 10% of the camera's packets for 15 s, then
#      all of them for 10 s (tc netem on the camera's interface; where the
#      kernel has no netem, an equivalent random drop in an nftables table of
#      the camera namespace). The recorder stays connected (slate during the
#      silence), the camera goes offline and comes back live by itself.
#   b. cordon's media process is killed (-9) while a recorder streams. While
#      it is dead, table inet cordon stays loaded and the camera still reaches
#      neither the core network nor the internet. It is restarted as its
#      systemd unit would (Restart=, RestartSec= read from the unit), the
#      camera comes back live and a recorder gets frames again.
#   c. The log's disk is full (stderr to a full tmpfs): cordon keeps serving
#      without crashing or spinning and logs again once space is freed. The
#      firewall helper killed: cordon serves on, reloads are refused. The log
#      reader gone (a pipe, as when journald restarts): cordon lives on.
# cordon is started with SIGPIPE at its default disposition, as systemd
# would not guarantee for a daemon started elsewhere.
source "$(dirname "$0")/../media/lib.sh"
require_root
command -v socat >/dev/null || { echo "SKIP: socat missing"; exit 77; }
T0=$SECONDS
media_topology
netns_add net
netns_link gw inet0 "198.18.3.1/24" net eth0 "198.18.3.100/24"
nsx net ip route add default via 198.18.3.1
nsx gw sysctl -qw net.ipv4.ip_forward=1
LOGFS=$WORK/logfs
mkdir -p "$LOGFS"
# The tmpfs goes first (lazily: cordon may still hold its log open), then
# what netns_cleanup removes.
trap 'umount -l "$LOGFS" 2>/dev/null; netns_cleanup' EXIT

FPS=15
write_recorder_secret
start_testcam cam $CAM_IP --codec h264 --size 640x360 --fps $FPS --bitrate 800
{ site_config gateway; camera_config lobby "rtsp://$CAM_IP/Streaming/Channels/101" 320x240 $FPS 500; } \
  >"$WORK/cordon.conf"
for n in rec net; do
  ip=$([ $n = rec ] && echo "$REC_IP" || echo 198.18.3.100)
  bg $n "$WORK/listen-$n.log" socat TCP4-LISTEN:80,bind=$ip,fork,reuseaddr SYSTEM:'echo hi'
done
wait_until 5 nsx net sh -c "ss -ltn | grep -q ':80 '" || die "listener did not start"

# reach DEST: can the camera open a TCP connection to DEST:80 and read "hi"?
reach() {
  nsx cam "$PY" -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], 80), timeout=2)
    sys.exit(0 if s.recv(10).startswith(b"hi") else 1)
except OSError:
    sys.exit(1)' "$1"
}
pings() { nsx cam ping -c1 -W1 "$1" >/dev/null 2>&1; }
# Control: without table inet cordon the camera reaches both.
reach $REC_IP && reach 198.18.3.100 && pass "control: without cordon the camera reaches core and internet" \
  || die "control: the camera cannot reach core/internet even without cordon; the probes prove nothing"

# run_cordon LOG: cordon run with SIGPIPE at its default, stderr to LOG.
run_cordon() {
  bg gw "$1" env --default-signal=PIPE "$CORDON" run --config "$WORK/cordon.conf"
  CORDON_PID=$LAST_PID
  wait_until 20 status_json || die "cordon did not start: $(tail -5 "$1")"
}
helper_of() { pgrep -P "$1" -x cordon-fwhelper | head -1; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

run_cordon "$WORK/cordon.log"
statusq wait lobby state live 30 || die "camera never went live: $(tail -5 "$WORK/cordon.log")"
reach $REC_IP || reach 198.18.3.100 && fail "with cordon running the camera reaches core or internet" \
  || pass "with cordon running the camera reaches neither core nor internet"

# ---- a. loss, then silence, on the camera's network ----
LOSS_KIND=netem
loss() { # loss PERCENT (0 removes it)
  if [ $LOSS_KIND = netem ]; then
    nsx cam tc qdisc del dev eth0 root 2>/dev/null
    [ "$1" = 0 ] || nsx cam tc qdisc add dev eth0 root netem loss "$1%"
  else
    nsx cam nft delete table inet faults 2>/dev/null
    local match="numgen random mod 100 < $1"
    [ "$1" = 100 ] && match=""
    [ "$1" = 0 ] || nsx cam nft -f - <<NFT
table inet faults {
  chain out { type filter hook output priority 0; oifname "eth0" $match drop; }
}
NFT
  fi
}
if ! nsx cam tc qdisc add dev eth0 root netem loss 0% 2>/dev/null; then
  LOSS_KIND=nft-random-drop
  say "no netem in this kernel: random drop of the camera's egress packets with nftables instead"
fi
loss 0
A_SECS=40
record rec $A_SECS "$(rec_url lobby)" "$WORK/a.h264" >"$WORK/a.log" 2>&1 & recorder=$!
sleep 3
loss 10
sleep 15
live_after_loss=$(statusq camera lobby state)
loss 100
t=$SECONDS
statusq wait lobby state offline 9 && pass "silence ($LOSS_KIND 100%): camera offline after $((SECONDS - t)) s" \
  || fail "silence: camera not offline within 9 s (state $(statusq camera lobby state))"
sleep $(( 10 - (SECONDS - t) > 0 ? 10 - (SECONDS - t) : 0 ))
loss 0
t=$SECONDS
statusq wait lobby state live 25 && pass "loss removed: camera live again by itself after $((SECONDS - t)) s" \
  || fail "camera not live within 25 s of the network recovering (state $(statusq camera lobby state))"
if wait $recorder; then pass "recorder stayed connected through loss and silence"; else fail "recorder dropped: $(tail -3 "$WORK/a.log")"; fi
n=$(frames "$WORK/a.h264"); want=$(( A_SECS * FPS * 9 / 10 ))
say "camera state at the end of 15 s of 10% loss: $live_after_loss; reconnects $(statusq camera lobby reconnects)"
[ "${n:-0}" -ge $want ] && pass "recording through loss and silence: $n of $((A_SECS * FPS)) frames (>= $want, slate included)" \
  || fail "recording through loss and silence: ${n:-0} of $((A_SECS * FPS)) frames, want >= $want"

# ---- b. the media process killed ----
HELPER=$(helper_of "$CORDON_PID")
record rec 30 "$(rec_url lobby)" "$WORK/b.h264" >"$WORK/b.log" 2>&1 & recorder=$!
sleep 3
kill -KILL "$CORDON_PID"; wait "$CORDON_PID" 2>/dev/null
killed=$SECONDS
wait_until 5 sh -c "! kill -0 ${HELPER:-0} 2>/dev/null" && pass "firewall helper $HELPER exited with the media process" \
  || fail "firewall helper $HELPER outlived the killed media process"
nsx gw nft list table inet cordon >/dev/null 2>&1 && pass "cordon dead: table inet cordon still loaded" \
  || fail "cordon dead: table inet cordon is gone (isolation lapsed)"
reach $REC_IP && fail "cordon dead: the camera reaches the core network" || pass "cordon dead: camera cannot reach the core network (TCP)"
reach 198.18.3.100 && fail "cordon dead: the camera reaches the internet" || pass "cordon dead: camera cannot reach the internet (TCP)"
pings 198.18.3.100 && fail "cordon dead: the camera pings the internet" || pass "cordon dead: camera cannot ping the internet"
wait $recorder; say "recorder ended when cordon died (exit $?): a real NVR reconnects"

# What systemd would do (there is no systemd as PID 1 here, nor in CI): read
# Restart= and RestartSec= from the configured unit and act on them.
UNIT=$BUILD/systemd/cordon.service
restart=$(sed -n 's/^Restart=//p' "$UNIT"); restart_sec=$(sed -n 's/^RestartSec=//p' "$UNIT")
restart_sec=${restart_sec%s}; restart_sec=${restart_sec:-0.1}   # systemd's default is 100 ms
case "$restart" in
  always|on-failure|on-abnormal|on-abort) pass "unit restarts cordon after SIGKILL (Restart=$restart, RestartSec=${restart_sec}s)" ;;
  *) fail "unit does not restart cordon after a crash (Restart=${restart:-no})" ;;
esac
sleep "$(awk -v k=$killed -v n=$SECONDS -v r="$restart_sec" 'BEGIN { d = r - (n - k); print (d > 0 ? d : 0) }')"
mount -t tmpfs -o size=64k,mode=0755 cordon-log "$LOGFS" || die "cannot mount a tmpfs on $LOGFS"
run_cordon "$LOGFS/cordon.log"      # its log on the tiny disk, for part c
t=$SECONDS
statusq wait lobby state live 30 && pass "restarted cordon: camera live by itself $((SECONDS - t)) s after start" \
  || fail "restarted cordon: camera not live ($(tail -3 "$LOGFS/cordon.log"))"
record rec 8 "$(rec_url lobby)" "$WORK/b2.h264" >"$WORK/b2.log" 2>&1
n=$(frames "$WORK/b2.h264"); want=$(( 8 * FPS * 9 / 10 ))
[ "${n:-0}" -ge $want ] && pass "after the restart a recorder reconnects: $n frames in 8 s (>= $want)" \
  || fail "after the restart the recorder got ${n:-0} frames in 8 s, want >= $want: $(tail -2 "$WORK/b2.log")"
reach $REC_IP || reach 198.18.3.100 && fail "after the restart the camera reaches core or internet" \
  || pass "after the restart the camera reaches neither core nor internet"

# ---- c. the log's disk full ----
t0=$(ticks "$CORDON_PID"); sleep 5; idle_ticks=$(( $(ticks "$CORDON_PID") - t0 ))
dd if=/dev/zero of="$LOGFS/fill" bs=4k 2>/dev/null
avail=$(df --output=avail -k "$LOGFS" | tail -1 | tr -d ' ')
[ "$avail" = 0 ] || fail "could not fill the log's disk ($avail KiB left)"
size_full=$(stat -c %s "$LOGFS/cordon.log")
record rec 8 "$(rec_url lobby)" "$WORK/c.h264" >"$WORK/c.log" 2>&1 & recorder=$!
t0=$(ticks "$CORDON_PID")
for i in $(seq 1 10); do kill -HUP "$CORDON_PID"; sleep 0.5; done   # each reload logs lines
full_ticks=$(( $(ticks "$CORDON_PID") - t0 ))
wait $recorder
n=$(frames "$WORK/c.h264"); want=$(( 8 * FPS * 9 / 10 ))
[ "${n:-0}" -ge $want ] && pass "log disk full: a recorder still gets $n frames in 8 s (>= $want)" \
  || fail "log disk full: recorder got ${n:-0} frames, want >= $want"
kill -0 "$CORDON_PID" 2>/dev/null && st=$(statusq camera lobby state) \
  && pass "log disk full: cordon alive, /status answers (camera $st)" \
  || fail "log disk full: cordon dead or /status silent"
[ $full_ticks -le $((idle_ticks + 250)) ] \
  && pass "log disk full: no spinning ($full_ticks CPU ticks in 5 s vs $idle_ticks before)" \
  || fail "log disk full: cordon used $full_ticks CPU ticks in 5 s (before: $idle_ticks)"
before=$(grep -c 'reloaded' "$LOGFS/cordon.log")
# The premise: the disk really was full, so reload lines were lost (the
# log's last page takes a few before writes fail).
[ "$before" -lt 10 ] && pass "log disk full: $((10 - before)) of 10 reload lines could not be written (log stuck at $(stat -c %s "$LOGFS/cordon.log") bytes)" \
  || fail "log disk full: all 10 reload lines were written; the disk was not full"
rm -f "$LOGFS/fill"
kill -HUP "$CORDON_PID"
wait_until 5 sh -c "[ \$(grep -c reloaded '$LOGFS/cordon.log') -gt $before ]" \
  && pass "space freed: logging resumes (log $size_full -> $(stat -c %s "$LOGFS/cordon.log") bytes, last: $(tail -1 "$LOGFS/cordon.log" | cut -c1-60))" \
  || fail "space freed: nothing logged after a reload ($(tail -1 "$LOGFS/cordon.log"))"

# ---- c'. the firewall helper killed ----
HELPER=$(helper_of "$CORDON_PID")
kill -KILL "$HELPER"
sleep 1
kill -HUP "$CORDON_PID"
wait_until 5 grep -q 'reload refused' "$LOGFS/cordon.log" \
  && pass "helper killed: the next reload is refused ($(grep -m1 'reload refused' "$LOGFS/cordon.log" | cut -d' ' -f4- | cut -c1-70))" \
  || fail "helper killed: no refused reload logged"
record rec 4 "$(rec_url lobby)" "$WORK/c2.h264" >"$WORK/c2.log" 2>&1
n=$(frames "$WORK/c2.h264")
kill -0 "$CORDON_PID" && [ "${n:-0}" -ge $(( 4 * FPS * 9 / 10 )) ] && nsx gw nft list table inet cordon >/dev/null \
  && pass "helper killed: cordon serves on ($n frames in 4 s), table still loaded" \
  || fail "helper killed: cordon alive? frames ${n:-0}, table present?"

# ---- c''. the log reader gone (stderr a pipe whose reader exits) ----
stop_pid "$CORDON_PID"
mkfifo "$WORK/log.fifo"
bg - "$WORK/fifo.log" cat "$WORK/log.fifo"; reader=$LAST_PID
run_cordon "$WORK/log.fifo"
statusq wait lobby state live 30 || fail "cordon with a piped log: camera not live"
stop_pid "$reader"
for i in 1 2 3; do kill -HUP "$CORDON_PID" 2>/dev/null; sleep 0.5; done
sleep 1
if kill -0 "$CORDON_PID" 2>/dev/null && statusq camera lobby state >/dev/null; then
  pass "log reader gone: cordon survives writing to a broken pipe"
else
  wait "$CORDON_PID"; sig=$?
  fail "log reader gone: cordon died (exit $sig; 141 = SIGPIPE)"
fi
say "duration $((SECONDS - T0)) s"
finish
