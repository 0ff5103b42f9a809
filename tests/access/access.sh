#!/bin/bash
# Recorder access control, RTSPS and SRTP:
#  1. right credentials from an allowed address work; wrong password and no
#     credentials get 401; right credentials from an address not allowed for
#     that recorder are refused; a camera not granted is refused; an address
#     of no recorder cannot even talk RTSP;
#  2. ffprobe over rtsps:// works; a tls = required recorder is refused on
#     plain RTSP;
#  3. GStreamer's rtspsrc pulls over RTSPS with SRTP (MIKEY) and decodes; the
#     RTP payloads on the wire are not plaintext H.264; a recorder with
#     srtp = required cannot get plain RTP;
#  5. garbage, huge headers and a bad Authorization header get an error or a
#     closed connection while another recorder keeps streaming.
source "$(dirname "$0")/../media/lib.sh"
require_root
media_topology
netns_add rogue
netns_link gw core1 "198.18.4.1/24" rogue eth0 "198.18.4.6/24 198.18.4.7/24"
nsx rogue ip route add default via 198.18.4.1
FPS=10
secret "$WORK/nvr1.secret" nvr1-pass
secret "$WORK/nvr2.secret" nvr2-pass
secret "$WORK/sec.secret" sec-pass
tls_cert
start_testcam cam $CAM_IP --size 320x240 --fps $FPS --bitrate 400
cat >"$WORK/cordon.conf" <<CONF
[proxy]
listen = 0.0.0.0:554
user = nobody
status = 127.0.0.1:9554
tls-certificate = cert.pem
tls-key = key.pem
max-clients-per-address = 8
udp = true
[firewall]
mode = off
[camera:lobby]
url = rtsp://$CAM_IP/test
size = 320x240
framerate = $FPS
bitrate = 400
[camera:yard]
url = rtsp://$CAM_IP/Streaming/Channels/101
size = 320x240
framerate = $FPS
bitrate = 400
[recorder:nvr1]
address = $REC_IP
username = nvr1
password-file = nvr1.secret
cameras = lobby
[recorder:nvr2]
address = 198.18.4.6
username = nvr2
password-file = nvr2.secret
cameras = lobby, yard
[recorder:secure]
address = $REC_IP
username = secure
password-file = sec.secret
cameras = *
tls = required
srtp = required
CONF
start_cordon "$WORK/cordon.conf"
statusq wait lobby state live 20 || die "camera never live: $(tail -5 "$WORK/cordon.log")"

probe() { # NS URL [ffprobe options] -> stderr+stdout in $WORK/probe.txt, status
  local ns=$1 url=$2; shift 2
  nsx "$ns" timeout 20 ffprobe -v error "$@" -show_entries stream=codec_name -of csv=p=0 "$url" >"$WORK/probe.txt" 2>&1
}
G=$GW_CORE_IP
probe rec "rtsp://nvr1:nvr1-pass@$G/lobby" && pass "right credentials, allowed address: served" || fail "nvr1 refused: $(cat "$WORK/probe.txt")"
probe rec "rtsp://nvr1:wrong@$G/lobby"; grep -q 401 "$WORK/probe.txt" && pass "wrong password: 401" || fail "wrong password: $(cat "$WORK/probe.txt")"
probe rec "rtsp://$G/lobby"; grep -q 401 "$WORK/probe.txt" && pass "no credentials: 401" || fail "no credentials: $(cat "$WORK/probe.txt")"
probe rogue "rtsp://nvr1:nvr1-pass@198.18.4.1/lobby"; rc=$?
[ $rc != 0 ] && grep -q 403 "$WORK/probe.txt" && pass "nvr1's credentials from nvr2's address: 403" || fail "nvr1 from a wrong address: rc=$rc $(cat "$WORK/probe.txt")"
probe rec "rtsp://nvr1:nvr1-pass@$G/yard"; rc=$?
[ $rc != 0 ] && grep -q 404 "$WORK/probe.txt" && pass "camera not granted: 404" || fail "camera not granted: rc=$rc $(cat "$WORK/probe.txt")"
nsx rogue "$PY" - <<'PY' && pass "unknown address: connection closed before any answer" || fail "unknown address: answered"
import socket, sys
s = socket.socket(); s.bind(("198.18.4.7", 0)); s.settimeout(5); s.connect(("198.18.4.1", 554))
try:
    s.sendall(b"OPTIONS rtsp://198.18.4.1/lobby RTSP/1.0\r\nCSeq: 1\r\n\r\n")
    sys.exit(1 if s.recv(100) else 0)
except (ConnectionResetError, BrokenPipeError):
    sys.exit(0)
PY
grep -q "failed login from $REC_IP (user \"nvr1\")" "$WORK/cordon.log" && pass "failed login logged with address and user" || fail "failed login not logged"
grep -qE "nvr1-pass|wrong|sec-pass" "$WORK/cordon.log" && fail "a password appears in the log" || pass "no password in the log"

# 2. RTSPS.
probe rec "rtsps://nvr1:nvr1-pass@$G:322/lobby" -tls_verify 0 && pass "ffprobe over rtsps:// works" || fail "rtsps: $(cat "$WORK/probe.txt")"
probe rec "rtsp://secure:sec-pass@$G/lobby"; grep -q 403 "$WORK/probe.txt" && pass "tls = required recorder refused on plain RTSP (403)" || fail "secure on plain RTSP: $(cat "$WORK/probe.txt")"

# 3. SRTP with MIKEY: rtspsrc decodes; the wire carries no plaintext H.264.
bg rec "$WORK/tcpdump1.log" tcpdump -i eth0 -U -w "$WORK/srtp.pcap" udp; dump=$LAST_PID
sleep 1
mkdir -p "$WORK/srtp-frames"
nsx rec timeout -s INT 8 gst-launch-1.0 -q -e rtspsrc location="rtsps://$G:322/lobby" user-id=secure user-pw=sec-pass \
  tls-validation-flags=0 protocols=udp ! rtph264depay ! h264parse ! avdec_h264 ! videoconvert ! jpegenc \
  ! multifilesink location="$WORK/srtp-frames/%05d.jpg" >"$WORK/rtspsrc.log" 2>&1
n=$(ls "$WORK/srtp-frames" | wc -l)
[ "$n" -ge 30 ] && pass "rtspsrc over RTSPS with SRTP (MIKEY) decoded $n frames in 8 s" \
  || fail "rtspsrc over RTSPS with SRTP decoded $n frames: $(tail -5 "$WORK/rtspsrc.log")"
stop_pid $dump
bg rec "$WORK/tcpdump2.log" tcpdump -i eth0 -U -w "$WORK/plain.pcap" udp; dump=$LAST_PID
sleep 1
nsx rec timeout 30 ffmpeg -nostdin -v error -rtsp_transport udp -i "rtsp://nvr1:nvr1-pass@$G/lobby" -t 4 -c copy -f null - \
  || fail "plain RTP/UDP control recording failed"
stop_pid $dump
read -r s_total s_plain s_frac < <("$PY" "$SRC/tests/access/rtppayload.py" "$WORK/srtp.pcap")
read -r p_total p_plain p_frac < <("$PY" "$SRC/tests/access/rtppayload.py" "$WORK/plain.pcap")
"$PY" -c "import sys; sys.exit(0 if $p_total > 20 and $p_frac > 0.9 else 1)" \
  && pass "control: plain RTP shows H.264 NAL headers ($p_plain of $p_total)" || fail "control capture odd: $p_plain of $p_total"
"$PY" -c "import sys; sys.exit(0 if $s_total > 20 and $s_frac < 0.2 else 1)" \
  && pass "SRTP on the wire: $s_plain of $s_total payloads look like H.264 (chance level)" \
  || fail "SRTP capture: $s_plain of $s_total payloads look like plaintext H.264"
probe rec "rtsps://secure:sec-pass@$G:322/lobby" -tls_verify 0; rc=$?
[ $rc != 0 ] && grep -q 461 "$WORK/probe.txt" && pass "srtp = required recorder cannot get plain RTP (461)" \
  || fail "srtp = required recorder got plain RTP: rc=$rc $(cat "$WORK/probe.txt")"

# 5. Hostile requests while nvr1 records.
record rec 10 "rtsp://nvr1:nvr1-pass@$G/lobby" "$WORK/during.h264" & recorder=$!
sleep 1
nsx rec "$PY" - "$G" <<'PY' && pass "garbage, huge headers and bad Authorization: error or close each" || fail "a hostile request was not answered with an error or close"
import socket, sys, os
host = sys.argv[1]
def attempt(data):
    s = socket.create_connection((host, 554), timeout=5)
    try:
        s.sendall(data)
        reply = s.recv(200)
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        reply = b""
    s.close()
    return reply
ok = True
for name, data in (
    ("garbage", os.urandom(4096)),
    ("huge header", b"DESCRIBE rtsp://%s/lobby RTSP/1.0\r\nCSeq: 1\r\nX-Big: " % host.encode() + b"A" * 200000 + b"\r\n\r\n"),
    ("bad authorization", b"DESCRIBE rtsp://%s/lobby RTSP/1.0\r\nCSeq: 2\r\nAuthorization: Digest username=\"nvr1\", realm=\"\x01\xff, nonce=,,,, response=\r\n\r\n" % host.encode()),
    ("basic auth refused", b"DESCRIBE rtsp://%s/lobby RTSP/1.0\r\nCSeq: 3\r\nAuthorization: Basic bnZyMTpudnIxLXBhc3M=\r\n\r\n" % host.encode()),
):
    reply = attempt(data)
    good = reply == b"" or reply.startswith(b"RTSP/1.0 4")
    print(("ok" if good else "BAD"), name, reply[:40])
    ok = ok and good
sys.exit(0 if ok else 1)
PY
nsx rec "$PY" - "$G" <<'PY' && pass "connections per address are bounded (9th of 9 refused)" || fail "connections per address not bounded"
import socket, sys, time
host = sys.argv[1]
held = []
for i in range(8):   # the recorder's own recording holds one more
    s = socket.create_connection((host, 554), timeout=5)
    held.append(s)
time.sleep(0.5)
extra = socket.create_connection((host, 554), timeout=5)
extra.settimeout(5)
try:
    extra.sendall(b"OPTIONS rtsp://%s/lobby RTSP/1.0\r\nCSeq: 1\r\n\r\n" % host.encode())
    refused = extra.recv(100) == b""
except (ConnectionResetError, BrokenPipeError):
    refused = True
print("extra connection refused:", refused)
sys.exit(0 if refused else 1)
PY
wait $recorder && n=$(frames "$WORK/during.h264") || n=0
[ "${n:-0}" -ge $(( 10 * FPS * 9 / 10 )) ] && pass "recorder kept streaming through hostile requests ($n frames)" \
  || fail "recorder disturbed by hostile requests (${n:-0} frames)"
# Slowloris: half a request, then silence; the connection is closed.
nsx rec "$PY" - "$G" <<'PY' && pass "a half-sent request is closed after the idle limit" || fail "a half-sent request stayed open"
import socket, sys, time
s = socket.create_connection((sys.argv[1], 554), timeout=40)
s.sendall(b"DESCRIBE rtsp://x/lobby RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: slow")
start = time.monotonic()
try:
    data = s.recv(100)
except (ConnectionResetError, socket.timeout):
    data = b"" if time.monotonic() - start < 39 else b"timeout"
print("closed after %.0f s" % (time.monotonic() - start))
sys.exit(0 if data == b"" else 1)
PY
kill -0 "$CORDON_PID" && pass "cordon alive" || fail "cordon died"
finish
