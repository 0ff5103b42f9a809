#!/bin/bash
# camera_cannot_steer_connections: cameras that try to make cordon connect
# elsewhere, give them the password in clear, or feed it more than its
# bounds, beside a healthy camera. cordon runs with mode = off, so that what
# is proved is cordon's own behaviour, not the firewall's; the cordon
# namespace gets a default route toward the core, so that any connection or
# DNS query it made would leave and be seen.
#   redirect   DESCRIBE answered 302 to a host in the core namespace
#   dnsredir   302 to a DNS name
#   ctlurl     the SDP's control URL points at the core host
#   basic      401 demanding Basic only
#   basicok    the same camera mode, but [camera:basicok] says auth = basic
#              (control: its password does cross, base64, in the capture)
#   oversdp    SDP announces 7680x4320
#   overrate   the stream's SPS announces 120 fps
#   flood      sends 120 pictures a second while its SPS says 10, with
#              max-input-framerate = 30
#   toobig     a normal 640x360 camera with max-input-size = 480x270
# Proves, from tcpdump in the cordon and core namespaces: no SYN from cordon
# to anything but a camera's address:554, no DNS query at all, nothing from
# cordon reaches the core host, the digest-only cameras' password is in no
# capture; /status names each reason; the healthy camera stays live.
source "$(dirname "$0")/../media/lib.sh"
require_root
media_topology

FPS=10
CORE_HOST=$REC_IP
declare -A ADDR=(
  [healthy]=198.18.1.10 [redirect]=198.18.1.11 [dnsredir]=198.18.1.12 [basic]=198.18.1.13
  [basicok]=198.18.1.14 [oversdp]=198.18.1.15 [overrate]=198.18.1.16 [toobig]=198.18.1.17
  [flood]=198.18.1.18 [ctlurl]=198.18.1.19
)
declare -A MODE=(
  [redirect]="redirect --location rtsp://$CORE_HOST:554/core" [dnsredir]=redirect-name [basic]=basic-auth
  [basicok]=basic-auth [oversdp]=oversized-sdp [overrate]=over-rate [flood]=flood
  [ctlurl]="control-elsewhere --location rtsp://$CORE_HOST:554/core"
)
declare -A REASON=(
  [redirect]="the camera redirects \(RTSP 302\) elsewhere: it points to $CORE_HOST port 554, not the camera's address ${ADDR[redirect]} port 554"
  [dnsredir]="the camera redirects \(RTSP 302\) elsewhere: it names the host \"cordon-exfil.example.net\""
  [basic]="the camera asks for Basic authentication, which would send the password in clear"
  [oversdp]="camera sends 7680x4320, above max-input-size 4096x2160 \(its SDP\)"
  [overrate]="camera sends 120 fps, above max-input-framerate 60"
  [toobig]="camera sends 640x360, above max-input-size 480x270"
  [ctlurl]="the camera's SETUP URL is refused: it points to $CORE_HOST port 554, not the camera's address ${ADDR[ctlurl]} port 554"
  [flood]="camera sends 121 pictures in [0-9.]+ s, above max-input-framerate 30"
)
for a in 198.18.1.13 198.18.1.14 198.18.1.15 198.18.1.16 198.18.1.17 198.18.1.18 198.18.1.19; do
  ip -n "${NS[cam]}" addr add "$a/24" dev eth0
done
nsx gw ip route add default via "$CORE_HOST"

CAM_USER=admin
CAM_PASS="steer-$RANDOM$RANDOM-secret"
CTRL_PASS="basic-$RANDOM$RANDOM-control"
secret "$WORK/cam.secret" "$CAM_PASS"
secret "$WORK/ctrl.secret" "$CTRL_PASS"
write_recorder_secret
b64() { printf '%s' "$1" | base64 -w0; }

# The captures can see what they look for: a DNS query and a SYN toward the
# core, made by hand from the cordon namespace, appear in a control capture.
bg gw "$WORK/tcpdump-ctrl.log" tcpdump -n -U -i any -w "$WORK/ctrl.pcap" 'port 53 or tcp'
ctrl_pid=$LAST_PID
wait_until 10 grep -q "listening on" "$WORK/tcpdump-ctrl.log" || die "tcpdump did not start"
nsx gw timeout 3 getent hosts cordon-control.example.net >/dev/null 2>&1 || true
nsx gw timeout 2 bash -c "exec 3<>/dev/tcp/$CORE_HOST/554" 2>/dev/null || true
sleep 1
stop_pid "$ctrl_pid"
n_dns=$(tcpdump -nr "$WORK/ctrl.pcap" 'port 53' 2>/dev/null | wc -l)
n_syn=$(tcpdump -nr "$WORK/ctrl.pcap" "dst host $CORE_HOST and tcp[tcpflags] & tcp-syn != 0" 2>/dev/null | wc -l)
[ "$n_dns" -ge 1 ] && [ "$n_syn" -ge 1 ] && pass "control: the capture sees a DNS query ($n_dns) and a SYN to the core ($n_syn)" \
  || die "control: capture saw $n_dns DNS and $n_syn SYN packets from a hand-made lookup and connect; the test could not fail"

start_testcam healthy "${ADDR[healthy]}" --codec h264 --size 640x360 --fps $FPS --bitrate 600
start_testcam toobig "${ADDR[toobig]}" --codec h264 --size 640x360 --fps $FPS --bitrate 300
for cam in "${!MODE[@]}"; do
  # shellcheck disable=SC2086
  start_testcam "$cam" "${ADDR[$cam]}" --hostile ${MODE[$cam]} --size 320x240 --fps $FPS --bitrate 200
done

{
  site_config off
  camera_config healthy "rtsp://${ADDR[healthy]}/Streaming/Channels/101" 320x240 $FPS 300
  for cam in redirect dnsredir ctlurl basic basicok oversdp overrate toobig flood; do
    camera_config "$cam" "rtsp://${ADDR[$cam]}/Streaming/Channels/101" 320x240 $FPS 200
    printf 'username = %s\npassword-file = %s\n' "$CAM_USER" "$([ $cam = basicok ] && echo ctrl.secret || echo cam.secret)"
  done
} >"$WORK/cordon.conf"
# auth = basic for the control camera, max-input-size for toobig, max-input-framerate for flood.
sed -i -e "/^\[camera:basicok\]/a auth = basic" -e "/^\[camera:toobig\]/a max-input-size = 480x270" \
  -e "/^\[camera:flood\]/a max-input-framerate = 30" "$WORK/cordon.conf"

bg gw "$WORK/tcpdump-gw.log" tcpdump -n -U -i any -s 0 -w "$WORK/gw.pcap"
gw_dump=$LAST_PID
bg rec "$WORK/tcpdump-core.log" tcpdump -n -U -i eth0 -s 0 -w "$WORK/core.pcap"
core_dump=$LAST_PID
wait_until 10 grep -q "listening on" "$WORK/tcpdump-gw.log" || die "tcpdump (gw) did not start"
wait_until 10 grep -q "listening on" "$WORK/tcpdump-core.log" || die "tcpdump (core) did not start"

start_cordon "$WORK/cordon.conf"
statusq wait healthy state live 20 || die "healthy camera never went live: $(tail -20 "$WORK/cordon.log")"
statusq wait basicok state live 20 || fail "basicok (auth = basic) never went live: $(grep basicok "$WORK/cordon.log" | tail -3)"

# Each refused camera: the reason in /status and in the log, retried (>= 2 attempts).
for cam in redirect dnsredir ctlurl basic oversdp overrate toobig flood; do
  wait_until 30 sh -c "[ \$(ip netns exec ${NS[gw]} $PY $SRC/tests/lib/statusq.py camera $cam reconnects) -ge 2 ]" || true
  st=$(statusq camera "$cam" state); rc=$(statusq camera "$cam" reconnects); err=$(statusq camera "$cam" last_error)
  # flood is refused only once pictures have been counted, so it may be
  # live for a moment on each attempt; the others never decode a picture.
  want_state=offline; [ "$cam" = flood ] && [ "$st" = live ] && want_state=live
  if [ "$st" = "$want_state" ] && [ "${rc:-0}" -ge 2 ] && echo "$err" | grep -qE "${REASON[$cam]}"; then
    pass "$cam: $st after $rc attempts, last_error '$err'"
  else
    fail "$cam: state $st, reconnects $rc, last_error '$err'; want offline, >= 2, '${REASON[$cam]}'"
  fi
  grep -qE "$cam: refusing the camera: ${REASON[$cam]}" "$WORK/cordon.log" \
    && pass "$cam: logged as the camera's error" || fail "$cam: no 'refusing the camera' line in the log"
done

# The healthy camera kept streaming all along.
f1=$(statusq camera healthy frames_in); sleep 2; f2=$(statusq camera healthy frames_in)
st=$(statusq camera healthy state); rc=$(statusq camera healthy reconnects)
[ "$st" = live ] && [ "$rc" = 0 ] && [ "$f2" -gt "$f1" ] && pass "healthy: live, 0 reconnects, frames $f1 -> $f2" \
  || fail "healthy: state $st, reconnects $rc, frames $f1 -> $f2"
kill -0 "$CORDON_PID" && pass "cordon still running" || fail "cordon died: $(tail -20 "$WORK/cordon.log")"

stop_pid "$CORDON_PID"
sleep 1
stop_pid "$gw_dump"
stop_pid "$core_dump"

# No SYN from cordon but to a camera's RTSP port (and the test's own status
# queries on loopback); no DNS at all; nothing from cordon reaches the core.
cams=$(for a in "${ADDR[@]}"; do printf '%s.554\n' "$a"; done)
others=$(tcpdump -nr "$WORK/gw.pcap" 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2>/dev/null \
  | sed -nE 's/.* > ([0-9a-f.:]+): .*/\1/p' | grep -vxF -e "127.0.0.1.9554" $(printf -- '-e %s ' $cams) | sort | uniq -c)
n_syn=$(tcpdump -nr "$WORK/gw.pcap" 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2>/dev/null | wc -l)
[ -z "$others" ] && [ "$n_syn" -ge 10 ] && pass "cordon host: $n_syn SYNs, every one to a camera's address:554 (or the test's status query)" \
  || fail "cordon host: SYNs to other destinations: $others (of $n_syn)"
dns=$(tcpdump -nr "$WORK/gw.pcap" 'port 53 or port 5353 or port 5355' 2>/dev/null | head -3)
[ -z "$dns" ] && pass "cordon host: no DNS query (port 53, mDNS, LLMNR) in the capture" \
  || fail "cordon host: DNS in the capture: $dns"
core=$(tcpdump -nr "$WORK/core.pcap" "(ip and src host $GW_CORE_IP) or (ip6 and not icmp6)" 2>/dev/null | head -3)
[ -z "$core" ] && pass "core host ($CORE_HOST): nothing from cordon arrived" \
  || fail "core host: packets from cordon: $core"
grep -q "redirecting to rtsp://$CORE_HOST" "$WORK/testcam-redirect.log" \
  && pass "the redirect camera did answer DESCRIBE with 302 to the core host" \
  || fail "the redirect camera never redirected: $(tail -3 "$WORK/testcam-redirect.log")"

grep -q "SETUP" "$WORK/testcam-ctlurl.log" \
  && fail "the control-elsewhere camera got a SETUP: $(grep SETUP "$WORK/testcam-ctlurl.log" | head -1)" \
  || pass "the SETUP for the control URL elsewhere was never sent (not even to the camera)"

# The password: in no capture, plain or base64, for the digest-only cameras;
# the auth = basic control camera's is there (so the grep can see it).
leaks=0
for f in "$WORK/gw.pcap" "$WORK/core.pcap"; do
  for needle in "$CAM_PASS" "$(b64 "$CAM_USER:$CAM_PASS")"; do
    if grep -qaF "$needle" "$f"; then leaks=$((leaks + 1)); fi
  done
done
[ "$leaks" = 0 ] && pass "the password of the digest-only cameras is in no capture (plain or base64)" \
  || fail "the digest-only cameras' password is in a capture ($leaks hits)"
grep -qaF "$(b64 "$CAM_USER:$CTRL_PASS")" "$WORK/gw.pcap" \
  && pass "control: the auth = basic camera's password is in the capture, base64 (the grep sees it)" \
  || fail "control: the auth = basic camera's password is not in the capture: the password check could not fail"
grep -q "got Basic credentials" "$WORK/testcam-basic.log" \
  && fail "the basic camera received Basic credentials" \
  || pass "the basic camera never received credentials"

finish
