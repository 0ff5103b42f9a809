#!/bin/bash
# The operator page in a real browser (Debian's headless Chromium), inside
# the test's namespace: two cameras (lobby live from cordon-testcam, gate
# offline), ffmpeg recording lobby, lobby phoning home. The DOM shows both
# cameras in the states /status reports, lobby's thumbnail is a non-blank
# JPEG of its output's aspect ratio, gate shows its slate, lobby's
# blocked-attempt table lists what it tried, and the page keeps to its
# Content-Security-Policy; dates are in the daemon's zone. With status on a
# non-loopback address the page needs the status credentials. Screenshots (laptop and tablet
# size) and the DOM go to the meson log folder.
source "$(dirname "$0")/../media/lib.sh"
require_root
source "$(dirname "$0")/lib.sh"
SHOT=$LOGDIR/operator-page.png
UI=http://127.0.0.1:9554/ui/

media_topology
netns_add inet
netns_link gw inet0 "198.18.3.1/24" inet eth0 "198.18.3.100/24"
nsx inet ip route add default via 198.18.3.1
nsx gw sysctl -qw net.ipv4.ip_forward=1
write_recorder_secret
start_testcam lobby $CAM_IP --size 640x360 --fps 10
# gate points at an address where nothing listens: it stays offline.
{ site_config gateway
  camera_config lobby "rtsp://$CAM_IP/test" 640x360 10 500
  camera_config gate "rtsp://198.18.1.11/test" 320x240 5 200; } >"$WORK/cordon.conf"
# The site's zone is the daemon's (Chatham: +13:45 or +12:45), the
# browser's another one: dates must come out in the site's.
SITE_TZ=Pacific/Chatham
bg gw "$WORK/cordon.log" env TZ=$SITE_TZ "$CORDON" run --config "$WORK/cordon.conf"
CORDON_PID=$LAST_PID
wait_until 20 status_json || die "cordon did not start: $(cat "$WORK/cordon.log")"
statusq wait lobby state live 30 || die "lobby never live: $(tail -5 "$WORK/cordon.log")"
statusq wait gate state offline 30 || die "gate never offline: $(tail -5 "$WORK/cordon.log")"

bg rec "$WORK/ffmpeg.log" timeout $((120 + ${UI_SCREENSHOT_AFTER:-0})) ffmpeg -nostdin -hide_banner -loglevel error -rtsp_transport tcp \
  -i "$(rec_url lobby)" -t $((100 + ${UI_SCREENSHOT_AFTER:-0})) -c copy -f h264 "$WORK/rec.h264"
REC_PID=$LAST_PID
wait_until 20 sh -c "[ \"\$(ip netns exec ${NS[gw]} $PY $SRC/tests/lib/statusq.py recorder nvr1 sessions)\" -ge 1 ]" \
  || fail "the recorder never had a session: $(cat "$WORK/ffmpeg.log")"

# lobby phones home: a DNS query for its vendor's cloud and a TCP connection.
nsx cam "$PY" - <<'PY'
import socket
q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"".join(
    bytes([len(p)]) + p.encode() for p in "p2p.vendor-cloud.example".split(".")) + b"\x00\x00\x01\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(q, ("198.18.3.100", 53)); s.close()
s = socket.socket(); s.settimeout(1)
try: s.connect(("198.18.3.100", 443))
except OSError: pass
s.close()
PY
have_attempts() {
  statusq json | "$PY" -c '
import json, sys
seen = {(a["protocol"], a["destination"], a["port"]) for a in json.load(sys.stdin)["firewall"]["attempts"] if a["camera"] == "lobby"}
sys.exit(0 if {("udp", "198.18.3.100", 53), ("tcp", "198.18.3.100", 443)} <= seen else 1)'
}
wait_until 10 have_attempts || fail "the phone-home attempts never reached /status"

# Headers: strict CSP, no sniffing, no framing; read-only.
nsx gw curl -sS -o /dev/null -D "$WORK/headers.txt" "$UI" || fail "GET $UI failed"
for h in "content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'" \
         "x-content-type-options: nosniff" "frame-ancestors 'none'"; do
  grep -qiF "$h" "$WORK/headers.txt" && pass "header: $h" || fail "header missing: $h ($(cat "$WORK/headers.txt"))"
done
code=$(nsx gw curl -sS -o /dev/null -w '%{http_code}' -X POST "$UI")
[ "$code" = 405 ] && pass "POST to the page is refused (405)" || fail "POST answered $code"
code=$(nsx gw curl -sS -o /dev/null -w '%{http_code}' -I "${UI}app.js")
[ "$code" = 200 ] && pass "HEAD is answered (200)" || fail "HEAD answered $code"
where=$(nsx gw curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "${UI%/}")
[ "$where" = "301 ${UI}" ] && pass "/ui redirects to /ui/" || fail "/ui answered $where"
code=$(nsx gw curl -sS --path-as-is -o /dev/null -w '%{http_code}' "${UI}../etc/passwd")
[ "$code" = 404 ] && pass "no path outside the bundle ($code)" || fail "${UI}../etc/passwd answered $code"
code=$(nsx gw curl -sS -o /dev/null -w '%{http_code}' "${UI}snapshot/nosuchcamera.jpg")
[ "$code" = 404 ] && pass "snapshot of an unknown camera: 404" || fail "unknown camera's snapshot answered $code"

# Two history samples (one every 10 s) so that the plots have a line.
samples() {
  nsx gw curl -sS "${UI}site.json" | "$PY" -c 'import json, sys; sys.exit(0 if len(json.load(sys.stdin)["history"].get("lobby", [])) >= 2 else 1)'
}
wait_until 35 samples || fail "site.json never had two history samples for lobby"

# UI_SCREENSHOT_AFTER=SECONDS: a longer history for the docs' screenshot.
sleep "${UI_SCREENSHOT_AFTER:-0}"
statusq json >"$WORK/status.json"
browser gw --window-size=1280,1700 --dump-dom "$UI" >"$WORK/dom.html" 2>"$WORK/chromium-dom.log" || fail "chromium --dump-dom failed: $(tail -5 "$WORK/chromium-dom.log")"
browser gw --window-size=1280,1700 --hide-scrollbars --screenshot="$SHOT" "$UI" >"$WORK/chromium-shot.log" 2>&1 \
  || fail "chromium --screenshot failed: $(tail -5 "$WORK/chromium-shot.log")"
browser gw --window-size=820,1180 --hide-scrollbars --screenshot="$LOGDIR/operator-page-tablet.png" "$UI" \
  >"$WORK/chromium-tablet.log" 2>&1 || fail "chromium --screenshot at tablet size failed"
cp "$WORK/dom.html" "$LOGDIR/operator-page.html"
say "screenshot: $SHOT"
[ -s "$SHOT" ] && [ "$(head -c 8 "$SHOT" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
  && pass "screenshot written ($(stat -c %s "$SHOT") bytes)" || fail "no PNG screenshot at $SHOT"
if grep -iE "Content Security Policy|Refused to (load|execute|apply)|Uncaught" "$WORK"/chromium-*.log; then
  fail "the browser reported a CSP violation or a script error"
else
  pass "no CSP violation or script error in the browser's console"
fi

# What the browser drew, against what /status says.
statusq json >"$WORK/status-after.json"
SITE_TZ=$SITE_TZ "$PY" "$SRC/tests/ui/checkdom.py" "$WORK/dom.html" "$WORK/status.json" "$WORK/status-after.json" >"$WORK/dom-checks.txt" 2>&1
rc=$?
cat "$WORK/dom-checks.txt" >&2
[ $rc = 0 ] || fail "the page's DOM does not show what /status reports"

# The thumbnails the page shows: real JPEGs of each camera's output aspect.
for cam in lobby:640:360:camera gate:320:240:slate; do
  IFS=: read -r name w h kind <<<"$cam"
  t=$(nsx gw curl -sS -o "$WORK/$name.jpg" -w '%{time_total}' "${UI}snapshot/$name.jpg") || fail "$name: no snapshot"
  say "$name: snapshot answered in ${t} s"
  "$PY" "$SRC/tests/ui/checkjpeg.py" "$WORK/$name.jpg" "$w" "$h" >"$WORK/$name-jpeg.txt" 2>&1 \
    && pass "$name: $kind snapshot is a non-blank JPEG with a $w:$h aspect ($(cat "$WORK/$name-jpeg.txt"))" \
    || fail "$name: $kind snapshot: $(cat "$WORK/$name-jpeg.txt")"
done
cmp -s "$WORK/lobby.jpg" "$WORK/gate.jpg" && fail "lobby's and gate's snapshots are the same picture"

stop_pid "$REC_PID"

# With status on a non-loopback address, /status and the page are behind the
# status credentials (config.c requires them there): 401 without, the page
# with them.
netns_add wide
nsx wide ip addr add 198.18.9.1/32 dev lo
secret "$WORK/wide-status.secret" wide-status-pass
printf '[proxy]\nlisten = 127.0.0.1:8554\nuser = nobody\nstatus = 198.18.9.1:9554\nstatus-username = ops\nstatus-password-file = wide-status.secret\n\n[firewall]\nmode = off\n' >"$WORK/wide.conf"
camera_config yard "rtsp://198.18.9.20/test" 320x240 5 >>"$WORK/wide.conf"
bg wide "$WORK/wide.log" "$CORDON" run --config "$WORK/wide.conf"
WIDE_PID=$LAST_PID
wait_until 20 nsx wide curl -sSf -u ops:wide-status-pass -o /dev/null http://198.18.9.1:9554/status || fail "second daemon did not start: $(tail -3 "$WORK/wide.log")"
for path in /ui/ /ui/site.json /ui/snapshot/yard.jpg; do
  code=$(nsx wide curl -sS -o /dev/null -w '%{http_code}' "http://198.18.9.1:9554$path")
  [ "$code" = 401 ] && pass "status off loopback: $path without credentials answers 401" \
    || fail "status off loopback: $path without credentials answered $code"
  code=$(nsx wide curl -sS -u ops:wrong -o /dev/null -w '%{http_code}' "http://198.18.9.1:9554$path")
  [ "$code" = 401 ] && pass "status off loopback: $path with a wrong password answers 401" \
    || fail "status off loopback: $path with a wrong password answered $code"
done
code=$(nsx wide curl -sS -u ops:wide-status-pass -o "$WORK/wide.html" -w '%{http_code}' http://198.18.9.1:9554/ui/)
[ "$code" = 200 ] && grep -qi "<html" "$WORK/wide.html" \
  && pass "status off loopback: the page is served with the status credentials" \
  || fail "status off loopback: /ui/ with credentials answered $code"
stop_pid "$WIDE_PID"
[ $FAILURES = 0 ] || cat "$WORK/wide.log" >&2
finish
