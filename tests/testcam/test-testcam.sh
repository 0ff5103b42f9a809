#!/bin/bash
# cordon-testcam serves H.264 and H.265 at the Hikvision and Dahua paths, asks
# for digest auth when told to, and its injected markers reach an RTSP client.
# 127.0.0.1 only; every wait is bounded.
set -u

bin=${CORDON_BUILD_DIR:?}/tests/testcam/cordon-testcam
tmp=$(mktemp -d)
pids=()
cleanup () {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do timeout 5 tail --pid="$pid" -f /dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
fail () { echo "FAIL: $*"; failures=$((failures + 1)); }
pass () { echo "ok: $*"; }

port=$((20000 + RANDOM % 30000))

# Starts the camera on the next port and waits until it accepts connections.
start_cam () {
  port=$((port + 1))
  "$bin" --listen "127.0.0.1:$port" "$@" 2>>"$tmp/testcam.log" &
  pids+=($!)
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  fail "testcam did not listen on port $port"
  return 1
}

probe () {  # URL -> "codec WxH"
  timeout 15 ffprobe -v error -rtsp_transport tcp -select_streams v:0 \
    -show_entries stream=codec_name,width,height -of csv=p=0:s=x "$1" 2>/dev/null |
    sed 's/^\([^x]*\)x/\1 /'
}

for codec in h264 h265; do
  want=$([ $codec = h264 ] && echo h264 || echo hevc)
  start_cam --codec $codec --size 640x360 --inject-sei "SEI-$codec-7f3a" \
    --inject-private-nal "PRIV-$codec-9c1e" || continue
  for path in /Streaming/Channels/101 '/cam/realmonitor?channel=1&subtype=0'; do
    got=$(probe "rtsp://127.0.0.1:$port$path")
    if [ "$got" = "$want 640x360" ]; then pass "$codec $path: $got"
    else fail "$codec $path: got '$got', want '$want 640x360'"; fi
  done
  out=$tmp/rec.$want
  timeout 20 ffmpeg -nostdin -v error -rtsp_transport tcp -i "rtsp://127.0.0.1:$port/test" \
    -t 3 -map 0:v -c copy -f $want -y "$out" 2>/dev/null
  for marker in "SEI-$codec-7f3a" "PRIV-$codec-9c1e"; do
    if grep -aq -- "$marker" "$out" 2>/dev/null; then pass "$codec marker $marker recorded"
    else fail "$codec marker $marker not in the recording"; fi
  done
done

printf 'right-pass\n' >"$tmp/password"
start_cam --username alice --password-file "$tmp/password" --size 320x240 && {
  url=127.0.0.1:$port/Streaming/Channels/101
  [ -z "$(probe "rtsp://$url")" ] && pass "auth: no credentials refused" || fail "auth: no credentials accepted"
  [ -z "$(probe "rtsp://alice:wrong-pass@$url")" ] && pass "auth: wrong password refused" ||
    fail "auth: wrong password accepted"
  got=$(probe "rtsp://alice:right-pass@$url")
  [ "$got" = "h264 320x240" ] && pass "auth: right password accepted" || fail "auth: right password: got '$got'"
  if grep -q right-pass "$tmp/testcam.log"; then fail "password in the log"; fi
}

# Clean exit on SIGTERM.
start_cam --size 320x240 && {
  pid=${pids[-1]}
  kill -TERM "$pid"
  if timeout 5 tail --pid="$pid" -f /dev/null && wait "$pid"; then pass "SIGTERM: clean exit"
  else fail "SIGTERM: no clean exit"; fi
}

[ $failures -eq 0 ] || { echo "--- testcam log"; cat "$tmp/testcam.log"; exit 1; }
