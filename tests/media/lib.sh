# Helpers for cordon's media tests: a camera namespace, a cordon namespace and
# recorder namespaces, wired like a site (camera VLAN | cordon | core).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/netns.sh"

CAM_IP=198.18.1.10
GW_CAM_IP=198.18.1.1
GW_CORE_IP=198.18.2.1
REC_IP=198.18.2.5
REC2_IP=198.18.2.6

# media_topology: namespaces cam, gw, rec (and rec2) with addresses above.
media_topology() {
  netns_add cam
  netns_add gw
  netns_add rec
  netns_link cam eth0 "$CAM_IP/24 198.18.1.11/24 198.18.1.12/24" gw cam0 "$GW_CAM_IP/24"
  netns_link gw core0 "$GW_CORE_IP/24" rec eth0 "$REC_IP/24 $REC2_IP/24"
  nsx rec ip route add default via "$GW_CORE_IP"
  nsx cam ip route add default via "$GW_CAM_IP"
}

# start_testcam LABEL ADDR ARGS...: a test camera on ADDR:554 in namespace cam.
start_testcam() {
  local label=$1 addr=$2; shift 2
  bg cam "$WORK/testcam-$label.log" "$TESTCAM" --listen "$addr:554" "$@"
  eval "TESTCAM_PID_$label=$LAST_PID"
  wait_until 15 nsx cam sh -c "ss -ltn | grep -qF '$addr:554'" || die "testcam $label did not start: $(cat "$WORK/testcam-$label.log")"
}

# write_recorder_secret: recorder credentials used by ffmpeg below.
REC_USER=nvr1
REC_PASS=nvr1-secret
write_recorder_secret() { secret "$WORK/nvr1.secret" "$REC_PASS"; }

# tls_cert: a self-signed certificate and key for RTSPS in $WORK (cert.pem,
# key.pem), the key private.
tls_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 \
    -subj /CN=cordon-test >/dev/null 2>&1 && chmod 600 "$WORK/key.pem"
}

# start_cordon CONFIG: cordon run in namespace gw; waits for the status port.
start_cordon() {
  bg gw "$WORK/cordon.log" "$CORDON" run --config "$1"
  CORDON_PID=$LAST_PID
  wait_until 20 status_json || die "cordon did not start: $(cat "$WORK/cordon.log")"
}

# statusq ARGS...: tests/lib/statusq.py against cordon's status port in gw.
statusq() { nsx gw "$PY" "$SRC/tests/lib/statusq.py" "$@"; }
status_json() { statusq json; }

# site_config MODE: [proxy], [firewall] (gateway: cam0 → core0) and the nvr1
# recorder allowed every camera (from REC_IP, and REC_EXTRA_ADDRESSES when
# set); append [camera:NAME] groups with camera_config.
site_config() {
  printf '[proxy]\nlisten = 0.0.0.0:554\nuser = nobody\nstatus = 127.0.0.1:9554\n\n[firewall]\nmode = %s\n' "$1"
  [ "$1" = off ] || printf 'camera-interface = cam0\ncore-interface = core0\n'
  printf '\n[recorder:nvr1]\naddress = %s\nusername = %s\npassword-file = nvr1.secret\ncameras = *\n' "$REC_IP${REC_EXTRA_ADDRESSES:+, $REC_EXTRA_ADDRESSES}" "$REC_USER"
}

# camera_config NAME URL SIZE FPS [BITRATE]
camera_config() {
  printf '\n[camera:%s]\nurl = %s\nsize = %s\nframerate = %s\n' "$1" "$2" "$3" "$4"
  [ -z "${5:-}" ] || printf 'bitrate = %s\n' "$5"
}

rec_url() { echo "rtsp://$REC_USER:$REC_PASS@$GW_CORE_IP:554/$1"; }

# record NS SECONDS URL OUT: ffmpeg records SECONDS of the stream with -c copy.
record() {
  nsx "$1" timeout $(( $2 + 30 )) ffmpeg -nostdin -hide_banner -loglevel error -rtsp_transport tcp \
    -i "$3" -t "$2" -c copy -f h264 "$4"
}

# frames FILE: decoded frame count of an H.264/H.265 elementary stream.
frames() {
  ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$1" | head -1
}

# picture_size FILE: WIDTHxHEIGHT of the first video stream of FILE.
picture_size() {
  ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x "$1" 2>/dev/null | head -1
}

# decode_errors FILE: what ffmpeg says decoding the H.264 stream FILE with
# every error fatal (empty when it decodes cleanly).
decode_errors() {
  ffmpeg -nostdin -v error -err_detect explode -xerror -f h264 -i "$1" -f null - 2>&1 | head -3
}
