#!/bin/bash
# Sessions belong to the recorder that set them up, and the rest of the
# recorder-facing surface is closed:
#  1. another connection cannot PAUSE, TEARDOWN or GET_PARAMETER a recorder's
#     session, without credentials or as another recorder, nor stop it by
#     naming its id and hanging up; the recorder keeps receiving RTP;
#  2. RTP over UDP and RTSP-over-HTTP tunnels are off by default;
#  3. a tls = required recorder is refused on plain RTSP before its password
#     is looked at; RTSPS refuses TLS 1.1 and speaks TLS 1.2; a recorder with
#     client-certificate gets in only with that certificate (mutual TLS);
#  4. the brake: a connection that keeps guessing is closed after 3
#     failures; after 10 from one address that address gets no answer on
#     any connection, open ones included.
source "$(dirname "$0")/../media/lib.sh"
require_root
media_topology
FPS=10
secret "$WORK/nvr1.secret" nvr1-pass
secret "$WORK/nvr2.secret" nvr2-pass
secret "$WORK/sec.secret" sec-pass
tls_cert
for c in pinned other; do
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/$c.key" -out "$WORK/$c.pem" -days 2 \
    -subj "/CN=recorder-$c" >/dev/null 2>&1 && chmod 600 "$WORK/$c.key"
done
secret "$WORK/pin.secret" pin-pass
start_testcam cam $CAM_IP --size 320x240 --fps $FPS --bitrate 400
cat >"$WORK/cordon.conf" <<CONF
[proxy]
listen = 0.0.0.0:554
user = nobody
status = 127.0.0.1:9554
tls-certificate = cert.pem
tls-key = key.pem
[firewall]
mode = off
[camera:lobby]
url = rtsp://$CAM_IP/test
size = 320x240
framerate = $FPS
bitrate = 400
[recorder:nvr1]
address = $REC_IP
username = nvr1
password-file = nvr1.secret
cameras = lobby
[recorder:nvr2]
address = $REC2_IP
username = nvr2
password-file = nvr2.secret
cameras = lobby
[recorder:secure]
address = $REC_IP
username = secure
password-file = sec.secret
cameras = *
tls = required
[recorder:pinned]
address = $REC_IP
username = pinned
password-file = pin.secret
cameras = lobby
tls = required
client-certificate = pinned.pem
CONF
start_cordon "$WORK/cordon.conf"
statusq wait lobby state live 20 || die "camera never live: $(tail -5 "$WORK/cordon.log")"
G=$GW_CORE_IP

# case NAME ARGS...: runs sessions.py in namespace rec; one check per line.
case_() {
  local line
  while read -r line; do
    case "$line" in
      *" ok "* | *" ok") pass "$line" ;;
      *" BAD "* | *" BAD") fail "$line" ;;
      *) say "$line" ;;
    esac
  done < <(nsx rec env TLS_PASS=sec-pass timeout 120 "$PY" "$SRC/tests/access/sessions.py" "$G" "$@" 2>&1)
}
case_ hijack "$REC_IP" nvr1 nvr1-pass lobby "$REC2_IP" nvr2 nvr2-pass
case_ udp "$REC_IP" nvr1 nvr1-pass lobby
case_ tunnel "$REC_IP"
case_ tls-first "$REC_IP" secure lobby
case_ mtls "$REC_IP" pinned pin-pass lobby "$WORK/pinned.pem" "$WORK/pinned.key" "$WORK/other.pem" "$WORK/other.key" \
  nvr1 nvr1-pass

# SECLEVEL=0 lets the client offer TLS 1.1 at all: refusing it is cordon's job.
nsx rec timeout 10 openssl s_client -connect "$G:322" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null \
  >"$WORK/tls11.txt" 2>&1 && fail "RTSPS completed a TLS 1.1 handshake: $(grep -m1 Protocol "$WORK/tls11.txt")" \
  || pass "RTSPS refuses TLS 1.1"
nsx rec timeout 10 openssl s_client -connect "$G:322" -tls1_2 </dev/null >"$WORK/tls12.txt" 2>&1
grep -q "Protocol *: TLSv1.2" "$WORK/tls12.txt" && pass "RTSPS speaks TLS 1.2" \
  || fail "no TLS 1.2 handshake: $(tail -3 "$WORK/tls12.txt")"

case_ brake "$REC2_IP" nvr2 nvr2-pass lobby
grep -q 'address blocked for 60 s' "$WORK/cordon.log" && pass "the block is logged" || fail "no block in the log"
blocked=$(statusq recorder nvr2 blocked_addresses)
others=$(statusq recorder nvr1 blocked_addresses)
[ "$blocked" = "['$REC2_IP']" ] && [ "$others" = "[]" ] && pass "/status lists $REC2_IP as blocked for nvr2 only" \
  || fail "/status blocked addresses: nvr2 $blocked, nvr1 $others"
kill -0 "$CORDON_PID" && pass "cordon alive" || fail "cordon died: $(tail -20 "$WORK/cordon.log")"
finish
