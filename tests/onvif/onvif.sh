#!/bin/bash
# ONVIF with a real third-party client (npm `onvif`), in network namespaces:
#  1. WS-Discovery: a probe from the core network finds cordon (XAddr on the
#     core address); a probe from the camera network gets no answer at all,
#     and neither does an ONVIF request to cordon's camera-side address;
#  2. wrong credentials get a SOAP fault (NotAuthorized);
#  3. each recorder sees exactly its granted cameras, one profile each, with
#     the configured size, frame rate, bitrate and GOP;
#  4. every profile's stream URI plays in ffprobe at the profile's size, and
#     its snapshot URI (HTTP digest) decodes as a JPEG of that size, also for
#     a camera that is offline (the slate);
#  5. unknown calls get ActionNotSupported, NVR add-device calls a valid answer.
# The firewall is off here so that the responder's own interface check is
# what is tested (in gateway mode nftables drops camera-side probes too).
source "$(dirname "$0")/../media/lib.sh"
require_root
NODE_PATH=$("$SRC/tests/onvif/npm-install.sh") || exit $?
export NODE_PATH
CLIENT=$SRC/tests/onvif/client.js
SOAP=$SRC/tests/onvif/soap.py
media_topology
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
[firewall]
mode = off
camera-interface = cam0
core-interface = core0
[onvif]
listen = 0.0.0.0:8000
discovery = true
[camera:lobby]
url = rtsp://$CAM_IP/test
size = 320x240
framerate = $FPS
bitrate = 400
keyframe-interval = 2
[camera:yard]
url = rtsp://$CAM_IP/Streaming/Channels/101
size = 352x288
framerate = $FPS
bitrate = 500
[camera:gone]
url = rtsp://198.18.1.11/nothing-listens-here
size = 320x180
framerate = $FPS
bitrate = 300
[recorder:nvr1]
address = $REC_IP
username = nvr1
password-file = nvr1.secret
cameras = lobby, gone
[recorder:nvr2]
address = $REC2_IP
username = nvr2
password-file = nvr2.secret
cameras = yard
[recorder:secure]
address = $REC_IP
username = secure
password-file = sec.secret
cameras = lobby
tls = required
CONF
start_cordon "$WORK/cordon.conf"
statusq wait lobby state live 20 || die "lobby never live: $(tail -5 "$WORK/cordon.log")"
statusq wait yard state live 20 || die "yard never live: $(tail -5 "$WORK/cordon.log")"
G=$GW_CORE_IP
DEV=http://$G:8000/onvif/device_service
MEDIA=http://$G:8000/onvif/media_service

# 1. Discovery.
nsx rec node "$CLIENT" discover 3000 >"$WORK/disc-core.json" 2>&1
"$PY" - "$WORK/disc-core.json" "$G" <<'PY' && pass "discovery from the core network finds cordon at $G:8000" || fail "core discovery: $(cat "$WORK/disc-core.json")"
import json, sys
cams = json.load(open(sys.argv[1]))
sys.exit(0 if len(cams) == 1 and cams[0]["xaddrs"] == "http://%s:8000/onvif/device_service" % sys.argv[2]
         and cams[0]["urn"].startswith("urn:uuid:") else 1)
PY
nsx cam node "$CLIENT" discover 3000 >"$WORK/disc-cam.json" 2>&1
[ "$(cat "$WORK/disc-cam.json")" = "[]" ] && pass "discovery from the camera network gets nothing" || fail "camera-side probe answered: $(cat "$WORK/disc-cam.json")"
# A unicast probe to the camera-side address is not answered either.
nsx cam "$PY" - "$GW_CAM_IP" "$SRC/tests/onvif/probe.xml" <<'PY' && pass "unicast probe to cordon's camera-side address: no answer" || fail "unicast camera-side probe answered"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(open(sys.argv[2], "rb").read(), (sys.argv[1], 3702))
try:
    s.recvfrom(65536); sys.exit(1)
except socket.timeout:
    sys.exit(0)
PY

# The ONVIF service itself (listening on 0.0.0.0) does not answer the camera side.
nsx cam "$PY" "$SOAP" "http://$GW_CAM_IP:8000/onvif/device_service" GetSystemDateAndTime >"$WORK/camside.txt" 2>&1
grep -q "^closed" "$WORK/camside.txt" && grep -q "ONVIF request from 198.18.1.1[0-9]* refused: arrived on the camera interface" "$WORK/cordon.log" && pass "ONVIF request from the camera network: connection closed unanswered" \
  || fail "camera side answered: $(cat "$WORK/camside.txt")"

# 2. Wrong credentials.
nsx rec node "$CLIENT" device "$G" 8000 nvr1 wrong-pass >"$WORK/wrong.json" 2>&1
grep -q '"error":"GetDeviceInformation: ONVIF SOAP Fault: Sender not Authorized' "$WORK/wrong.json" \
  && pass "wrong password: SOAP fault NotAuthorized" || fail "wrong password: $(cat "$WORK/wrong.json")"
# Right credentials from the other recorder's address: refused too.
nsx rec "$PY" "$SOAP" "$DEV" GetDeviceInformation --user nvr2 --password nvr2-pass >"$WORK/addr.txt" 2>&1
grep -q "^400 NotAuthorized" "$WORK/addr.txt" && pass "nvr2's credentials from nvr1's address: NotAuthorized" || fail "address check: $(cat "$WORK/addr.txt")"

# 3 + 4. Each recorder's view, streams and snapshots.
check_recorder() { # USER PASS SOURCE-ADDR EXPECTED-NAMES
  local user=$1 pass=$2 from=$3 want=$4
  nsx rec ip route replace 198.18.2.0/24 dev eth0 src "$from"
  nsx rec node "$CLIENT" device "$G" 8000 "$user" "$pass" >"$WORK/$user.json" 2>&1
  names=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(",".join(sorted(p["name"] for p in d["profiles"])))' "$WORK/$user.json" 2>/dev/null)
  [ "$names" = "$want" ] && pass "$user sees exactly: $names" || { fail "$user sees '$names', want '$want': $(head -c 600 "$WORK/$user.json")"; return; }
  "$PY" - "$WORK/$user.json" "$WORK/cordon.conf" <<'PY' && pass "$user: profiles carry size, rate, bitrate, H264 and GOP from the config" || fail "$user: profile values: $(cat "$WORK/$user.json")"
import configparser, json, sys
d = json.load(open(sys.argv[1]))
c = configparser.ConfigParser(); c.read(sys.argv[2])
for p in d["profiles"]:
    cam = c["camera:" + p["name"]]
    w, h = cam["size"].split("x"); fps = int(cam["framerate"])
    gov = fps * int(cam.get("keyframe-interval", "2"))
    got = (int(p["width"]), int(p["height"]), int(p["fps"]), int(p["bitrate"]), p["encoding"], int(p["gov"]))
    if got != (int(w), int(h), fps, int(cam["bitrate"]), "H264", gov):
        print(p["name"], got, file=sys.stderr); sys.exit(1)
sys.exit(0 if d["info"]["manufacturer"] == "cordon" and d["info"]["serialNumber"] and d["sources"] == len(d["profiles"]) else 1)
PY
  "$PY" -c 'import json,sys
for p in json.load(open(sys.argv[1]))["profiles"]: print(p["name"], p["width"], p["height"], p["uri"], p["snapshot"])' "$WORK/$user.json" |
  while read -r name w h uri snap; do
    case $uri in rtsp://$G:554/$name) ;; *) fail "$name: stream URI $uri"; continue ;; esac
    size=$(nsx rec timeout 20 ffprobe -v error -rtsp_transport tcp -select_streams v:0 -show_entries stream=width,height \
      -of csv=p=0:s=x "rtsp://$user:$pass@${uri#rtsp://}" 2>&1 | head -1)
    [ "$size" = "${w}x$h" ] && pass "$name: stream URI plays in ffprobe at ${w}x$h" || fail "$name: ffprobe of $uri: $size"
    code=$(nsx rec curl -s --digest -u "$user:$pass" -o "$WORK/$name.jpg" -w '%{http_code}' "$snap")
    jsize=$(ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0:s=x "$WORK/$name.jpg" 2>&1 | head -1)
    [ "$code" = 200 ] && [ "$jsize" = "mjpegx${w}x$h" ] && pass "$name: snapshot is a ${w}x$h JPEG" \
      || fail "$name: snapshot $snap: HTTP $code, $jsize"
  done
}
check_recorder nvr1 nvr1-pass "$REC_IP" "gone,lobby"
check_recorder nvr2 nvr2-pass "$REC2_IP" "yard"
nsx rec ip route replace 198.18.2.0/24 dev eth0 src "$REC_IP"
statusq json | grep -q '"gone"' && [ "$(statusq json | "$PY" -c 'import json,sys; print([c["state"] for c in json.load(sys.stdin)["cameras"] if c["name"]=="gone"][0])')" = offline ] \
  && pass "camera gone is offline (its snapshot above was the slate)" || fail "camera gone is not offline"
code=$(nsx rec curl -s -o /dev/null -w '%{http_code}' --digest -u nvr1:nvr1-pass "http://$G:8000/onvif/snapshot/yard")
[ "$code" = 404 ] && pass "snapshot of a camera not granted: 404" || fail "ungranted snapshot: $code"
code=$(nsx rec curl -s -o /dev/null -w '%{http_code}' --digest -u nvr1:wrong "http://$G:8000/onvif/snapshot/lobby")
[ "$code" = 401 ] && pass "snapshot with a wrong password: 401" || fail "snapshot with wrong password: $code"

# 5. Calls outside the facade.
expect() { # WANT ARGS...
  local want=$1; shift
  got=$(nsx rec "$PY" "$SOAP" "$@" 2>&1)
  [ "$got" = "$want" ] && pass "$2: $got" || fail "$2: got '$got', want '$want'"
}
A=(--user nvr1 --password nvr1-pass)
expect "500 ActionNotSupported" "$DEV" GetFrobnicator "${A[@]}"
expect "500 ActionNotSupported" "$DEV" SystemReboot "${A[@]}"
expect "500 ActionNotSupported" "$DEV" CreateUsers "${A[@]}"
expect "500 ActionNotSupported" "$MEDIA" SetVideoEncoderConfiguration --ns http://www.onvif.org/ver10/media/wsdl "${A[@]}"
expect "500 MaxNVTProfiles" "$MEDIA" CreateProfile --ns http://www.onvif.org/ver10/media/wsdl "${A[@]}"
expect "200 GetOSDOptionsResponse" "$MEDIA" GetOSDOptions --ns http://www.onvif.org/ver10/media/wsdl "${A[@]}"
expect "200 GetOSDsResponse" "$MEDIA" GetOSDs --ns http://www.onvif.org/ver10/media/wsdl "${A[@]}"
expect "200 GetAudioSourcesResponse" "$MEDIA" GetAudioSources --ns http://www.onvif.org/ver10/media/wsdl "${A[@]}"
expect "200 GetNetworkInterfacesResponse" "$DEV" GetNetworkInterfaces "${A[@]}" --save "$WORK/nics.xml"
grep -q "<tt:Name>core0</tt:Name>" "$WORK/nics.xml" && grep -q "<tt:Address>$G</tt:Address><tt:PrefixLength>24<" "$WORK/nics.xml" \
  && pass "GetNetworkInterfaces: core0 with $G/24 (the interface the client reached)" || fail "network interfaces: $(cat "$WORK/nics.xml")"
expect "401 NotAuthorized" "$DEV" GetNetworkInterfaces
M=(--ns http://www.onvif.org/ver10/media/wsdl)
P="<ProfileToken>prof_lobby</ProfileToken>"
expect "200 GetCapabilitiesResponse" "$DEV" GetCapabilities
expect "200 GetServiceCapabilitiesResponse" "$MEDIA" GetServiceCapabilities "${M[@]}"
expect "200 GetScopesResponse" "$DEV" GetScopes "${A[@]}"
expect "200 GetProfileResponse" "$MEDIA" GetProfile "${M[@]}" --inner "$P" "${A[@]}"
expect "200 GetVideoSourceConfigurationsResponse" "$MEDIA" GetVideoSourceConfigurations "${M[@]}" "${A[@]}"
expect "200 GetVideoEncoderConfigurationsResponse" "$MEDIA" GetVideoEncoderConfigurations "${M[@]}" "${A[@]}"
expect "200 GetVideoEncoderConfigurationResponse" "$MEDIA" GetVideoEncoderConfiguration "${M[@]}" \
  --inner "<ConfigurationToken>enc_lobby</ConfigurationToken>" "${A[@]}"
expect "200 GetVideoEncoderConfigurationOptionsResponse" "$MEDIA" GetVideoEncoderConfigurationOptions "${M[@]}" \
  --inner "$P" "${A[@]}" --save "$WORK/options.xml"
grep -q "<tt:ResolutionsAvailable><tt:Width>320</tt:Width><tt:Height>240</tt:Height></tt:ResolutionsAvailable><tt:GovLengthRange><tt:Min>20</tt:Min><tt:Max>20</tt:Max>" "$WORK/options.xml" \
  && pass "encoder options: exactly 320x240, GOP 20" || fail "encoder options: $(cat "$WORK/options.xml")"

# A recorder with tls = required is handed rtsps://, which plays.
expect "200 GetStreamUriResponse" "$MEDIA" GetStreamUri "${M[@]}" --inner "$P" --user secure --password sec-pass \
  --save "$WORK/secure-uri.xml"
uri=$(sed -n 's|.*<tt:Uri>\([^<]*\)</tt:Uri>.*|\1|p' "$WORK/secure-uri.xml")
size=$(nsx rec timeout 20 ffprobe -v error -tls_verify 0 -select_streams v:0 -show_entries stream=width,height \
  -of csv=p=0:s=x "rtsps://secure:sec-pass@${uri#rtsps://}" 2>&1 | head -1)
[ "$uri" = "rtsps://$G:322/lobby" ] && [ "$size" = 320x240 ] && pass "tls = required recorder: $uri plays at 320x240" \
  || fail "tls = required recorder: URI $uri, ffprobe $size"
expect "400 NoProfile" "$MEDIA" GetStreamUri --ns http://www.onvif.org/ver10/media/wsdl --inner "<ProfileToken>prof_yard</ProfileToken>" "${A[@]}"
grep -qE "nvr1-pass|nvr2-pass|wrong-pass" "$WORK/cordon.log" && fail "a password appears in the log" || pass "no password in the log"
kill -0 "$CORDON_PID" && pass "cordon still running" || fail "cordon died: $(tail -5 "$WORK/cordon.log")"
[ "$FAILURES" = 0 ] || grep -i onvif "$WORK/cordon.log" | tail -20 >&2
finish
