#!/bin/bash
# Hostile recorders. cordon (gateway mode) serves one test camera; nvr1
# records it with ffmpeg for the whole run while a raw-socket client
# (rtspclient.py) from other allowed addresses of the core network sends:
#   - malformed requests: binary garbage, bad request lines, no CSeq, absurd
#     or negative Content-Length, a body over the limit, a header block that
#     never ends (16 MiB; meanwhile other clients must still be answered);
#   - slowloris: a request dribbled one byte per second, headers never
#     finished, a connection that says nothing;
#   - hundreds of connections at once from one address and from six;
#   - teardown mid-SETUP: close right after SETUP, SETUP then TEARDOWN without
#     PLAY, PLAY then RST, repeated SETUP then RST, PLAY then never reading.
# Asserted: each bad request is answered 4xx or closed, and never lingers;
# half requests are closed within the idle bound (20 s + one 5 s sweep);
# connections per address are capped at max-clients-per-address and released
# when closed; cordon's memory does not follow a header flood; nvr1 gets
# >= 90% of its frames; afterwards the media process is back to its baseline
# descriptor count, /status shows only nvr1, and a fresh recorder plays.
source "$(dirname "$0")/../media/lib.sh"
require_root
media_topology
T0=$SECONDS
FPS=15
MAXC=8
IDLE_BOUND=27          # IDLE_LIMIT_US (20 s) + sweep period (5 s) + slack
REC_SECS=100
MAL=(198.18.2.20 198.18.2.21 198.18.2.22 198.18.2.23 198.18.2.24 198.18.2.25 198.18.2.26 198.18.2.27 198.18.2.28
     198.18.2.29)
for a in "${MAL[@]}"; do nsx rec ip addr add "$a/24" dev eth0; done
write_recorder_secret
secret "$WORK/mal.secret" mal-secret

start_testcam cam $CAM_IP --codec h264 --size 640x360 --fps $FPS --bitrate 800
cat >"$WORK/cordon.conf" <<CONF
[proxy]
listen = 0.0.0.0:554
user = nobody
status = 127.0.0.1:9554
max-clients-per-address = $MAXC

[firewall]
mode = gateway
camera-interface = cam0
core-interface = core0

[camera:lobby]
url = rtsp://$CAM_IP/Streaming/Channels/101
size = 320x240
framerate = $FPS
bitrate = 500

[recorder:nvr1]
address = $REC_IP, $REC2_IP
username = $REC_USER
password-file = nvr1.secret
cameras = *

[recorder:mal]
address = 198.18.2.16/28
username = mal
password-file = mal.secret
cameras = lobby
CONF
start_cordon "$WORK/cordon.conf"
statusq wait lobby state live 30 || die "camera never went live: $(tail -5 "$WORK/cordon.log")"
[ "$(cat /proc/$CORDON_PID/comm)" = cordon ] || die "pid $CORDON_PID is $(cat /proc/$CORDON_PID/comm), not cordon"
HELPER_PID=$(pgrep -P "$CORDON_PID" -x cordon-fwhelper | head -1)

fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
client() { nsx rec "$PY" "$SRC/tests/reliability/rtspclient.py" "$GW_CORE_IP" "$@"; }
# recorder_sessions: connections /status counts per recorder, "nvr1 mal".
recorder_sessions() { echo "$(statusq recorder nvr1 sessions) $(statusq recorder mal sessions)"; }

record rec $REC_SECS "$(rec_url lobby)" "$WORK/nvr1.h264" >"$WORK/nvr1.log" 2>&1 & recorder=$!
sleep 6
base_fds=$(fds "$CORDON_PID"); base_helper_fds=$(fds "$HELPER_PID"); base_rss=$(rss_kib "$CORDON_PID")
say "baseline with nvr1 streaming: $base_fds fds (helper $base_helper_fds), VmRSS $base_rss KiB, sessions $(recorder_sessions)"

# Malformed, slowloris and mid-SETUP run at once, each from its own address.
client malformed "${MAL[0]}" "${MAL[9]}" >"$WORK/malformed.txt" 2>&1 & p_mal=$!
client slow "${MAL[1]}" $IDLE_BOUND >"$WORK/slow.txt" 2>&1 & p_slow=$!
STALL_SECS=20 client midsetup "${MAL[2]}" mal mal-secret lobby >"$WORK/midsetup.txt" 2>&1 & p_mid=$!
peak_rss=$base_rss
while kill -0 $p_mal 2>/dev/null; do
  r=$(rss_kib "$CORDON_PID" 2>/dev/null || echo 0); [ "${r:-0}" -gt "$peak_rss" ] && peak_rss=$r
  sleep 0.5
done
wait $p_mal; rc_mal=$?
while read -r line; do say "malformed: $line"; done <"$WORK/malformed.txt"
for c in garbage bad-request-line no-request-line missing-cseq absurd-content-length negative-content-length \
         body-over-limit; do
  line=$(grep "^$c " "$WORK/malformed.txt")
  case "$line" in
    "$c ok "*) pass "malformed $c: refused or closed, did not linger (${line#$c ok })" ;;
    *) fail "malformed $c: ${line:-no result}" ;;
  esac
done
line=$(grep '^huge-header-block ' "$WORK/malformed.txt")
case "$line" in
  "huge-header-block ok "*) pass "endless header block closed by cordon (${line#huge-header-block ok })" ;;
  *) fail "endless header block: ${line:-no result}" ;;
esac
line=$(grep '^others-answered-during-header-block ' "$WORK/malformed.txt")
case "$line" in
  *" ok "*) pass "other clients answered while the header block was sent (${line#* ok })" ;;
  *) fail "other clients not answered during the header block: ${line:-no result}" ;;
esac
grow=$(( (peak_rss - base_rss) / 1024 ))
[ "$grow" -le 32 ] && pass "cordon's memory stayed bounded under the header flood (VmRSS +$grow MiB, peak $((peak_rss / 1024)) MiB)" \
  || fail "cordon's memory grew by $grow MiB under a header flood (peak $((peak_rss / 1024)) MiB)"

wait $p_slow; rc_slow=$?
while read -r line; do say "slow: $line"; done <"$WORK/slow.txt"
for c in dribble-1-byte-per-s unfinished-headers silent-connection; do
  line=$(grep "^$c " "$WORK/slow.txt")
  case "$line" in
    "$c ok "*) pass "slowloris $c: closed within $IDLE_BOUND s (${line#$c ok })" ;;
    *) fail "slowloris $c: ${line:-no result}, want closed within $IDLE_BOUND s" ;;
  esac
done

wait $p_mid; rc_mid=$?
while read -r line; do say "midsetup: $line"; done <"$WORK/midsetup.txt"
[ $rc_mid = 0 ] && pass "teardown mid-SETUP, SETUP+TEARDOWN, PLAY+RST, a stalled reader: all handled ($(grep -c . "$WORK/midsetup.txt") cases)" \
  || fail "mid-SETUP cases: $(tr '\n' ';' <"$WORK/midsetup.txt")"

# Hundreds of connections at once: 300 from one address, then 40 from each
# of six. Each address is served exactly MAXC; the rest are closed.
client flood "${MAL[3]}" 300 3 >"$WORK/flood1.txt" 2>&1
while read -r line; do say "flood one address: $line"; done <"$WORK/flood1.txt"
served=$(sed -n "s/^${MAL[3]} served=\([0-9]*\).*/\1/p" "$WORK/flood1.txt")
held=$(sed -n 's/^held_open_after=//p' "$WORK/flood1.txt")
[ "${served:-x}" = $MAXC ] && [ "${held:-x}" = $MAXC ] \
  && pass "300 connections from one address: $served served and held, the rest closed (cap $MAXC)" \
  || fail "300 connections from one address: served=${served:-?} held=${held:-?}, want $MAXC and $MAXC"
six=$(IFS=,; echo "${MAL[*]:4:6}")
client flood "$six" 40 3 >"$WORK/flood6.txt" 2>&1
while read -r line; do say "flood six addresses: $line"; done <"$WORK/flood6.txt"
total=$(awk -F'served=' '/served=/ { split($2, a, " "); s += a[1] } END { print s + 0 }' "$WORK/flood6.txt")
each_ok=$(awk -F'served=' -v m=$MAXC '/served=/ { split($2, a, " "); if (a[1] != m) bad = 1 } END { print bad ? 0 : 1 }' "$WORK/flood6.txt")
[ "$each_ok" = 1 ] && [ "$total" = $((6 * MAXC)) ] \
  && pass "240 connections from six addresses: $total served ($MAXC each), the rest closed" \
  || fail "240 connections from six addresses: $total served, want $MAXC from each ($(tr '\n' ';' <"$WORK/flood6.txt"))"
# The cap is released when those connections close: the flooding address
# may play again.
out=$(client play "${MAL[3]}" mal mal-secret lobby 3 2>&1) \
  && pass "the flooding address plays again once its connections closed ($out)" \
  || fail "the flooding address cannot connect after its flood closed: $out"

kill -0 "$CORDON_PID" && pass "cordon survived every hostile recorder" || fail "cordon died: $(tail -20 "$WORK/cordon.log")"

# Back to baseline: nothing held for the hostile clients. Sessions that were
# set up but never torn down expire with the session timeout (60 s).
settle() { [ "$(fds "$CORDON_PID")" -le $((base_fds + 2)) ] && [ "$(recorder_sessions)" = "1 0" ]; }
t=$SECONDS
if wait_until 70 settle; then
  pass "back to baseline $((SECONDS - t)) s after the attacks: $(fds "$CORDON_PID") fds (baseline $base_fds), sessions nvr1/mal = $(recorder_sessions)"
else
  fail "not back to baseline: $(fds "$CORDON_PID") fds (baseline $base_fds), sessions nvr1/mal = $(recorder_sessions), want 1 0"
  ls -l "/proc/$CORDON_PID/fd" >"$WORK/fds-after.txt" 2>&1
fi
h=$(fds "$HELPER_PID")
[ "$h" = "$base_helper_fds" ] && pass "firewall helper untouched ($h fds)" || fail "firewall helper fds $base_helper_fds -> $h"

wait $recorder || fail "nvr1's recording failed: $(tail -3 "$WORK/nvr1.log")"
n=$(frames "$WORK/nvr1.h264"); want=$(( REC_SECS * FPS * 9 / 10 ))
[ "${n:-0}" -ge $want ] && pass "nvr1 recorded through every attack: $n frames in $REC_SECS s (>= $want)" \
  || fail "nvr1 disturbed: ${n:-0} frames in $REC_SECS s, want >= $want"

record rec 5 "rtsp://$REC_USER:$REC_PASS@$GW_CORE_IP:554/lobby" "$WORK/fresh.h264" >"$WORK/fresh.log" 2>&1 \
  || fail "a fresh recorder could not record: $(tail -3 "$WORK/fresh.log")"
n=$(frames "$WORK/fresh.h264"); want=$(( 5 * FPS * 9 / 10 ))
[ "${n:-0}" -ge $want ] && pass "a fresh recorder connects and plays afterwards ($n frames in 5 s)" \
  || fail "a fresh recorder got ${n:-0} frames in 5 s, want >= $want"
statusq json >"$WORK/status.json" && say "$(grep -o '"refused_connections": *[0-9]*' "$WORK/status.json")"
say "duration $((SECONDS - T0)) s"
finish
