#!/bin/bash
# cordon benchmark (issues #6, #14): builds an optimised cordon and measures, on
# this machine, in network namespaces (cam | gw | rec, 198.18.0.0/15 only):
#   0. quality vs cost: SSIM/PSNR against the source clip and CPU per
#      stream-second of cordon's encoder settings, per x264 preset;
#   1. overhead: CPU per stream-second, cordon vs ffmpeg (libx264, same
#      settings) vs a plain gst-launch decode → encode, all pulling the same
#      replay camera at once over the same windows, per preset;
#   2. capacity: most 720p25 / 1080p25 cameras kept at real time for 60 s,
#      default preset and a cheaper one (if its still-pattern SSIM >= 0.90);
#   3. fan-out: cordon CPU with 0, 1 and 10 recorders on one camera;
#   4. glass-to-glass latency: bar-coded capture time read back after
#      decoding, through cordon vs straight from the camera;
#   5. memory (RSS and PSS) with 1, 4 and 16 cameras, and per 1080p camera;
#   6. still pattern: SSIM through cordon against a direct decode, per preset;
#   7. sub stream: CPU and PSS of a 640x360 sub stream against a second camera;
#   8. slate: CPU and output rate of an offline camera;
#   9. jail: one 720p camera, the ingest-worker layout vs an in-process cordon
#      (BENCH_INPROCESS=path to a cordon binary without workers) or, without
#      one, vs plain gst-launch: CPU, PSS of every process, hand-over latency.
# The cameras of every phase but the still-pattern SSIM, latency and 720p
# memory (cordon-testcam) are tests/bench/replaycam.py: it replays
# pre-encoded clips (noisy moving test pattern, made once with ffmpeg and
# cached in results/cache/) without re-encoding, at ~0.03 CPU, so the figures
# measure the contenders, not the test camera.
# It reports figures; it never fails on speed. Raw data: tests/bench/results/.
#
#   sudo tests/bench/run.sh                 # full run (about 25 min on 2 cores)
#   sudo BENCH_QUICK=1 tests/bench/run.sh   # short windows, for development
#   BENCH_PHASES="quality ssim overhead fanout latency memory substream slate capacity jail profile" selects phases
#   ("profile": perf over cordon, plain and ffmpeg side by side; PROFILE_CAM=m720|m1080,
#   PROFILE_PRESET, PROFILE_FREQ (Hz, 499) and PROFILE_PERF_ARGS, e.g. "--call-graph dwarf",
#   are passed to perf record).
#   The report replaces the bench:begin/bench:end part of docs/performance.md
#   (BENCH_DOC=FILE for another file); BENCH_BUDGET=seconds bounds the run.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$HERE/../.." && pwd)
export CORDON_SOURCE_DIR=${CORDON_SOURCE_DIR:-$SRC_DIR}
export CORDON_BUILD_DIR=${CORDON_BUILD_DIR:-$SRC_DIR/build-bench}
START=$SECONDS
QUICK=${BENCH_QUICK:-0}
PHASES=${BENCH_PHASES:-quality ssim overhead fanout latency memory substream slate capacity jail profile}
RESULTS=${BENCH_RESULTS:-$HERE/results}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$RESULTS/$STAMP
mkdir -p "$OUT"

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: the benchmark needs root for network namespaces"
  exit 77
fi

# ---- build (release, assertions off) ----
if [ ! -f "$CORDON_BUILD_DIR/build.ninja" ]; then
  meson setup "$CORDON_BUILD_DIR" "$CORDON_SOURCE_DIR" -Dbuildtype=release -Db_ndebug=true >"$OUT/build.log" 2>&1 \
    || { cat "$OUT/build.log"; exit 1; }
fi
ninja -C "$CORDON_BUILD_DIR" >>"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
buildtype=$(meson introspect --buildoptions "$CORDON_BUILD_DIR" 2>/dev/null \
  | /usr/bin/python3 -c 'import json,sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}["buildtype"])')
PROBE=$CORDON_BUILD_DIR/tests/bench/latency-probe
if [ ! -x "$PROBE" ]; then
  # tests/bench/meson.build not hooked into the build: compile the probe here.
  PROBE=$OUT/latency-probe
  cc -O2 -o "$PROBE" "$HERE/latency-probe.c" "$CORDON_SOURCE_DIR/tests/testcam/barcode.c" \
    -I"$CORDON_SOURCE_DIR/tests/testcam" \
    $(pkg-config --cflags --libs gstreamer-1.0 gstreamer-app-1.0 gstreamer-video-1.0) || exit 1
fi

# The ingest worker cordon starts for each camera (not installed here).
export CORDON_WORKER=${CORDON_WORKER:-$CORDON_BUILD_DIR/pipeline/cordon-worker}
source "$CORDON_SOURCE_DIR/tests/media/lib.sh"
media_topology
write_recorder_secret
BENCH=$HERE/bench.py
STATUS_URL=http://127.0.0.1:9554/status
TICK=$(getconf CLK_TCK)
NPROC=$(nproc)
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
FPS=25
BITRATE=2000             # cordon's default output bit rate (config.c)
PRESET=veryfast          # cordon's default x264 preset (config.c)
CAM720_KBIT=3000         # camera-like input bit rates
CAM1080_KBIT=6000
# BUDGET: the capacity search stops probing when the next probe would end
# the run past it (seconds since start, build included).
PRESETS="veryfast ultrafast" # the overhead phase's presets (cordon's default first)
if [ "$QUICK" = 1 ]; then
  WIN=4; ROUNDS=2; CAP_WIN=10; LAT_SECS=8; CAP_MAX_PROBES=2; BUDGET=${BENCH_BUDGET:-300}
  # 60 s: the fan-out phase (three stages on one camera) outlasts 40 s, and a
  # clip that ends makes the camera end the stream mid-window.
  CLIP_SECS=60; QUALITY_SECS=3
else
  WIN=8; ROUNDS=3; CAP_WIN=60; LAT_SECS=15; CAP_MAX_PROBES=3; BUDGET=${BENCH_BUDGET:-2100}
  CLIP_SECS=100; QUALITY_SECS=10
fi
CACHE=${BENCH_CACHE:-$RESULTS/cache}

log() { printf '# [%4ds] %s\n' $((SECONDS - START)) "$*" >&2; }
bench() { /usr/bin/python3 "$BENCH" "$@"; }
gwbench() { nsx gw /usr/bin/python3 "$BENCH" "$@"; }
calc() { /usr/bin/python3 -c "print($1)"; }

# tree PID...: the processes and all their descendants (cordon's ingest
# workers are the children of its launcher, a child of the daemon).
tree() {
  local pid c
  for pid in "$@"; do
    echo "$pid"
    for c in $(pgrep -P "$pid" 2>/dev/null); do tree "$c"; done
  done
}
# cpu_ticks PID...: utime+stime of the processes and their descendants.
cpu_ticks() {
  local pid all=() total=0 t
  all=($(tree "$@"))
  for pid in "${all[@]}"; do
    t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

# ---- cameras and cordon ----
# Cameras (cordon-testcam, one shared media each: any number of pulls cost one encode).
declare -A CAM_ADDR=([m720]=198.18.1.10 [m1080]=198.18.1.11 [s720]=198.18.1.12 [s1080]=198.18.1.13
                     [t720]=198.18.1.14 [t1080]=198.18.1.15 [f720]=198.18.1.16)
ip -n "${NS[cam]}" addr add 198.18.1.13/24 dev eth0
ip -n "${NS[cam]}" addr add 198.18.1.14/24 dev eth0
ip -n "${NS[cam]}" addr add 198.18.1.15/24 dev eth0
ip -n "${NS[cam]}" addr add 198.18.1.16/24 dev eth0
declare -A CAM_PID=()
cam_start() { # LABEL ARGS...
  local label=$1; shift
  [ -n "${CAM_PID[$label]:-}" ] && return 0
  start_testcam "$label" "${CAM_ADDR[$label]}" --codec h264 --fps $FPS "$@"
  CAM_PID[$label]=$LAST_PID
}
cam_stop() { [ -n "${CAM_PID[$1]:-}" ] && stop_pid "${CAM_PID[$1]}"; unset "CAM_PID[$1]"; }
# clip SIZE CODEC KBIT: path of a CLIP_SECS s noisy moving test pattern
# (testsrc2 with temporal noise), encoded once like a camera would (no
# B-frames, GOP 2 s) and cached.
# clip SIZE CODEC KBIT [NOISE]: the replay clip (testsrc2 + temporal noise of
# strength NOISE, 12 unless given), made once and cached.
clip() {
  local noise=${4:-12}
  local f=$CACHE/clip-$1-$FPS-$3k-${CLIP_SECS}s$([ "$noise" = 12 ] || echo "-noise$noise").$2 enc
  if [ ! -s "$f" ]; then
    mkdir -p "$CACHE"
    case $2 in
      h264) enc="-c:v libx264 -preset superfast -profile:v main" ;;
      h265) enc="-c:v libx265 -preset ultrafast" ;;
    esac
    log "making the $1 $2 replay clip ($CLIP_SECS s, cached in $CACHE)"
    nice ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=$1:rate=$FPS,noise=alls=$noise:allf=t+u" -t "$CLIP_SECS" \
      $enc -tune zerolatency -b:v "${3}k" -maxrate "${3}k" -bufsize "${3}k" -g $((FPS * 2)) -bf 0 \
      -f "$([ "$2" = h264 ] && echo h264 || echo hevc)" -y "$f.part" && mv "$f.part" "$f"
  fi
  echo "$f"
}
# cam_moving LABEL: the replay camera (m720, m1080: noisy moving clip at a
# camera-like bit rate; BENCH_CODEC=h265 for H.265 clips).
cam_moving() {
  local size kbit
  [ -n "${CAM_PID[$1]:-}" ] && return 0
  case $1 in
    m720) size=1280x720 kbit=$CAM720_KBIT ;;
    m1080) size=1920x1080 kbit=$CAM1080_KBIT ;;
  esac
  local f=$(clip $size "${BENCH_CODEC:-h264}" $kbit)
  bg cam "$WORK/replaycam-$1.log" /usr/bin/python3 "$HERE/replaycam.py" --listen "${CAM_ADDR[$1]}:554" \
    --file "$f" --codec "${BENCH_CODEC:-h264}" --fps $FPS
  CAM_PID[$1]=$LAST_PID
  wait_until 15 nsx cam sh -c "ss -ltn | grep -q '${CAM_ADDR[$1]}:554'" || die "replaycam $1 did not start: $(cat "$WORK/replaycam-$1.log")"
}
cam_url() { echo "rtsp://${CAM_ADDR[$1]}/Streaming/Channels/101"; }
size_of() { case $1 in *1080) echo 1920x1080 ;; *) echo 1280x720 ;; esac; }

# conf_head > FILE; conf_cam NAME CAMLABEL [PRESET [FPS]] >> FILE
# ENC_THREADS=N: [proxy] encoder-threads for the next configurations (default auto).
ENC_THREADS=""
conf_head() {
  if [ -n "$ENC_THREADS" ]; then site_config off | sed "/^\[proxy\]/a encoder-threads = $ENC_THREADS"; else site_config off; fi
}
conf_cam() {
  # A query string per camera: cordon refuses two cameras with one URL, and
  # the test camera serves one media whatever the path.
  printf '\n[camera:%s]\nurl = %s?stream=%s\nsize = %s\nframerate = %s\nbitrate = %s\npreset = %s\n' \
    "$1" "$(cam_url "$2")" "$1" "$(size_of "$2")" "${4:-$FPS}" "$BITRATE" "${3:-$PRESET}"
}
# cordon_up CONF COUNT: start cordon and wait until COUNT cameras are live.
cordon_up() {
  start_cordon "$1"
  gwbench waitlive "$STATUS_URL" "$2" 30 || { tail -20 "$WORK/cordon.log" >&2; return 1; }
}
cordon_down() { stop_pid "$CORDON_PID"; CORDON_PID=; }

# plain_start CAMLABEL N [PRESET]: the same pull → decode → encode as cordon
# with gst-launch-1.0, in gw; sets LAST_PID.
plain_start() {
  local size=$(size_of "$1") n=$2 p=${3:-$PRESET} c=${BENCH_CODEC:-h264} thr=""
  # ENC_THREADS: the threading cordon's encoder-threads = N gives (output.c).
  [ -z "$ENC_THREADS" ] || thr="threads=$ENC_THREADS sliced-threads=false"
  bg gw "$WORK/plain-$n.log" gst-launch-1.0 -v \
    rtspsrc location="$(cam_url "$1")" protocols=tcp latency=200 ! rtp${c}depay ! ${c}parse ! avdec_${c} \
    ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=400000000 ! videoconvert ! "video/x-raw,format=I420,width=${size%x*},height=${size#*x}" \
    ! x264enc tune=zerolatency speed-preset=$p pass=cbr bitrate=$BITRATE vbv-buf-capacity=1000 \
      key-int-max=$((FPS * 2)) bframes=0 b-adapt=false $thr \
    ! video/x-h264,profile=main ! h264parse config-interval=-1 \
    ! fpsdisplaysink video-sink=fakesink text-overlay=false sync=false signal-fps-measurements=true fps-update-interval=100
}
# ffmpeg_start CAMLABEL N [PRESET]: the same with ffmpeg (libx264, cordon's
# settings: CBR cap with a 1 s VBV, GOP 2 s, no B-frames, Main); sets LAST_PID.
ffmpeg_start() {
  local p=${3:-$PRESET} thr=()
  # ENC_THREADS: the same x264 threading as cordon's encoder-threads = N.
  [ -z "$ENC_THREADS" ] || thr=(-x264-params "threads=$ENC_THREADS:sliced-threads=0")
  rm -f "$WORK/ffmpeg-$2.progress"
  bg gw "$WORK/ffmpeg-$2.log" ffmpeg -nostdin -v error -progress "$WORK/ffmpeg-$2.progress" -stats_period 0.1 \
    -rtsp_transport tcp -i "$(cam_url "$1")" -an -fps_mode passthrough \
    -c:v libx264 -preset "$p" -tune zerolatency "${thr[@]}" -b:v "${BITRATE}k" -maxrate "${BITRATE}k" -bufsize "${BITRATE}k" \
    -g $((FPS * 2)) -bf 0 -profile:v main -f null -
}

# cordon_frames_out: pictures encoded so far, every camera of cordon.
cordon_frames_out() { gwbench frames "$STATUS_URL" | awk '{ s += $4 } END { print s + 0 }'; }
# last_sum FILE-PREFIX FILE-SUFFIX SED-EXPR N: the sum over files 1..N of the
# last number SED-EXPR prints from each (a counter its writer updates).
last_sum() {
  local i total=0 f
  for i in $(seq 1 "$4"); do
    f=$(sed -n "$3" "$1$i$2" 2>/dev/null | tail -1)
    total=$((total + ${f:-0}))
  done
  echo "$total"
}
# plain_frames N: pictures the plain pipelines 1..N put out so far (their
# fpsdisplaysink's last message, every 100 ms).
plain_frames() { last_sum "$WORK/plain-" .log 's/.*rendered: \([0-9]*\).*/\1/p' "$1"; }
# ffmpeg_frames N: pictures encoded so far by ffmpeg 1..N (their -progress files).
ffmpeg_frames() { last_sum "$WORK/ffmpeg-" .progress 's/^frame=//p' "$1"; }

# ---- report ----
REPORT=$OUT/report.md
report() { printf '%s\n' "$*" >>"$REPORT"; printf '%s\n' "$*"; }
{
  echo "## Run $STAMP"
  echo
  echo "- command: \`sudo tests/bench/run.sh\`$([ "$QUICK" = 1 ] && echo ' (BENCH_QUICK=1: short windows, indicative only)')"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: nproc $NPROC, $CPU_MODEL, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- build: $CORDON_BUILD_DIR ($buildtype, b_ndebug=true); GStreamer $(gst-launch-1.0 --gst-version | awk '{print $NF}'); commit $(git -C "$CORDON_SOURCE_DIR" rev-parse --short HEAD 2>/dev/null)$(git -C "$CORDON_SOURCE_DIR" diff --quiet HEAD -- pipeline proxy 2>/dev/null || echo ' + uncommitted changes')"
  echo "- cameras: the replay camera (tests/bench/replaycam.py: pre-encoded ${BENCH_CODEC:-h264} clips of testsrc2 with temporal noise, 720p25 $CAM720_KBIT kbit/s and 1080p25 $CAM1080_KBIT kbit/s, no re-encode) for quality, overhead, fan-out, capacity, 1080p memory and jail; cordon-testcam (still card, bar-coded capture time) for the still-pattern SSIM, latency and 720p memory phases"
  echo "- cordon: the default config unless a table says otherwise: $BITRATE kbit/s CBR, preset $PRESET, Main, GOP 2 s, encoder-threads = auto"
  echo
} >"$REPORT"
cat "$REPORT"

declare -A FIG=() # headline figures of this run, for results/history.tsv
CHEAP=""         # cheaper preset that keeps SSIM >= 0.90 (set by the ssim phase)
declare -A CPU_PER_STREAM=()  # "size preset" -> cordon CPU-s per stream-second

# ---- phase: SSIM of the still pattern (default and cheaper presets) ----
phase_ssim() {
  log "ssim: still pattern through cordon, presets $PRESET ultrafast superfast"
  local conf=$WORK/ssim.conf p c
  for c in s720 s1080; do
    cam_start $c --size "$(size_of $c)" --bitrate $([ $c = s720 ] && echo $CAM720_KBIT || echo $CAM1080_KBIT) --pattern still
    conf_head >"$conf"
    for p in $PRESET ultrafast superfast; do conf_cam "$c-$p" $c $p >>"$conf"; done
    cordon_up "$conf" 3 || { log "ssim: cordon did not bring the cameras up"; cordon_down; cam_stop $c; continue; }
    local pids=()
    nsx gw timeout 30 ffmpeg -nostdin -v error -rtsp_transport tcp -i "$(cam_url $c)" -t 4 -an -c copy \
      -f h264 -y "$OUT/ssim-direct-$c.h264" & pids+=($!)
    for p in $PRESET ultrafast superfast; do
      record rec 5 "$(rec_url "$c-$p")" "$OUT/ssim-$c-$p.h264" & pids+=($!)
    done
    wait "${pids[@]}"
    cordon_down
    cam_stop $c
  done
  report "### 6. Quality: SSIM of the still pattern through cordon (vs a direct decode, same size)"
  report ""
  report "| size | preset | SSIM (YUV 4:2:0, All) | >= 0.90 |"
  report "| --- | --- | --- | --- |"
  declare -A ok=()
  for p in $PRESET ultrafast superfast; do ok[$p]=1; done
  for c in s720 s1080; do
    ffmpeg -nostdin -v error -i "$OUT/ssim-direct-$c.h264" -vf "select=gte(n\,40)" -frames:v 1 -y "$OUT/ssim-direct-$c.png"
    for p in $PRESET ultrafast superfast; do
      ffmpeg -nostdin -v error -i "$OUT/ssim-$c-$p.h264" -vf "select=gte(n\,40)" -frames:v 1 -y "$OUT/ssim-$c-$p.png"
      local s=$(bench ssim "$OUT/ssim-direct-$c.png" "$OUT/ssim-$c-$p.png")
      local pass=$(calc "'yes' if '$s' != 'nan' and float('$s') >= 0.90 else 'no'")
      [ "$pass" = yes ] || ok[$p]=0
      report "| $(size_of $c) | $p | $s | $pass |"
    done
  done
  if [ "${ok[ultrafast]}" = 1 ]; then CHEAP=ultrafast
  elif [ "${ok[superfast]}" = 1 ]; then CHEAP=superfast
  fi
  report ""
  report "Cheaper preset used for capacity: ${CHEAP:-none (no cheaper preset kept SSIM >= 0.90)}"
  report ""
}

# ---- phase: overhead ratio, cordon vs plain gst-launch, same windows ----
# Both run at once, pulling the same camera; CPU is sampled over the same
# windows, so machine load hits both alike.
overhead_one() { # CAMLABEL N PRESET [NOTE]
  local cam=$1 n=$2 p=$3 note=${4:-} conf=$WORK/overhead.conf i
  cam_moving "$cam"
  conf_head >"$conf"
  for i in $(seq 1 "$n"); do conf_cam "o$i" "$cam" "$p" >>"$conf"; done
  cordon_up "$conf" "$n" || { cordon_down; return; }
  local plain=() ff=()
  for i in $(seq 1 "$n"); do
    plain_start "$cam" "$i" "$p"; plain+=("$LAST_PID")
    ffmpeg_start "$cam" "$i" "$p"; ff+=("$LAST_PID")
  done
  # ffmpeg first reads 5 s of the stream (analyzeduration), then catches up.
  sleep 12
  # CPU per stream-second = CPU over a window per FPS pictures each
  # contender put out in it: a contender that falls behind, or ffmpeg
  # still catching up on its start-up backlog, is charged for the pictures
  # it made, not for the seconds.
  local rc=() rp=() rf=() rt=() r c0 p0 f0c t0 c1 p1 f1c t1 w0 w1 f0 f1 n0 n1
  f0=$(gwbench frames "$STATUS_URL")
  local pfr=() ffr=()
  for r in $(seq 1 "$ROUNDS"); do
    w0=$(date +%s.%N); c0=$(cpu_ticks "$CORDON_PID"); p0=$(cpu_ticks "${plain[@]}"); f0c=$(cpu_ticks "${ff[@]}"); t0=$(cpu_ticks "${CAM_PID[$cam]}")
    n0="$(cordon_frames_out) $(plain_frames "$n") $(ffmpeg_frames "$n")"
    sleep "$WIN"
    w1=$(date +%s.%N); c1=$(cpu_ticks "$CORDON_PID"); p1=$(cpu_ticks "${plain[@]}"); f1c=$(cpu_ticks "${ff[@]}"); t1=$(cpu_ticks "${CAM_PID[$cam]}")
    n1="$(cordon_frames_out) $(plain_frames "$n") $(ffmpeg_frames "$n")"
    local secs=$(calc "$w1 - $w0")
    set -- $n0 $n1 # cordon plain ffmpeg, at the start and at the end
    rc+=($(calc "($c1 - $c0) / $TICK / (max($4 - $1, 1) / $FPS)"))
    rp+=($(calc "($p1 - $p0) / $TICK / (max($5 - $2, 1) / $FPS)"))
    rf+=($(calc "($f1c - $f0c) / $TICK / (max($6 - $3, 1) / $FPS)"))
    pfr+=($(calc "($5 - $2) / ($n * $secs)"))
    ffr+=($(calc "($6 - $3) / ($n * $secs)"))
    rt+=($(calc "($t1 - $t0) / $TICK / $secs"))
  done
  f1=$(gwbench frames "$STATUS_URL")
  # Did every stream keep up? cordon: its counters; the others: pictures
  # per second over the windows (ffmpeg never drops: behind, or catching
  # up, it makes fewer or more pictures than the rate).
  local drops=$(paste <(echo "$f0") <(echo "$f1") | awk '{ d += $10 - $5 } END { print d + 0 }')
  local plainfps=$(bench stats "${pfr[@]}") ffspeed=$(bench stats "${ffr[@]}")
  plainfps=$(calc "round(${plainfps%% *}, 2)") ffspeed=$(calc "round(${ffspeed%% *}, 2)")
  for pid in "${plain[@]}" "${ff[@]}"; do stop_pid "$pid"; done
  cordon_down
  local ratios=() fr=() k
  for k in "${!rc[@]}"; do ratios+=($(calc "${rc[$k]} / ${rp[$k]}")); fr+=($(calc "${rc[$k]} / max(${rf[$k]}, 1e-9)")); done
  local sc=$(bench stats "${rc[@]}") sp=$(bench stats "${rp[@]}") sf=$(bench stats "${rf[@]}") sr=$(bench stats "${ratios[@]}")
  local sfr=$(bench stats "${fr[@]}") st=$(bench stats "${rt[@]}")
  [ -z "$note" ] && CPU_PER_STREAM["$(size_of "$cam") $p"]=${sc%% *}
  CAMCPU[$cam]=${st%% *}
  echo "$cam $n $p cordon ${rc[*]} ffmpeg ${rf[*]} plain ${rp[*]} camera ${rt[*]} drops $drops plainfps $plainfps ffspeed $ffspeed" >>"$OUT/overhead.txt"
  set -- $sc; local cm=$1 cl=$2 ch=$3
  set -- $sf; local fm=$1 fl=$2 fh=$3
  set -- $sp; local pm=$1 pl=$2 ph=$3
  set -- $sr; local rm=$1 rl=$2 rh=$3
  set -- $sfr; local xm=$1 xl=$2 xh=$3
  if [ -z "$note" ]; then FIG[overhead_ratio_$cam]=$rm; FIG[ffmpeg_ratio_${cam}_$p]=$xm; else FIG[ffmpeg_ratio_${cam}_${p}_threads1_alike]=$xm; fi
  report "| $(size_of "$cam")p$FPS | $p${note:+, $note} | $n | $cm ($cl–$ch) | $fm ($fl–$fh) | $pm ($pl–$ph) | **$xm** ($xl–$xh) | $rm ($rl–$rh) | ${drops} | ${ffspeed:-?} | ${plainfps:-?} |"
}
declare -A CAMCPU=()
phase_overhead() {
  log "overhead: cordon vs ffmpeg vs plain gst-launch, $ROUNDS windows of $WIN s"
  report "### 1. Overhead: CPU seconds per stream-second, cordon vs ffmpeg vs plain gst-launch-1.0"
  report ""
  report "All three at once, pulling the same replay camera (pre-encoded ${BENCH_CODEC:-h264} clip, no re-encode), CPU (utime+stime from /proc) sampled over the same $ROUNDS windows of $WIN s, per stream-second: per $FPS pictures each contender put out in the window (so one that falls behind, or ffmpeg catching up on its start-up backlog, is charged for the pictures it made); median (min–max). ffmpeg: \`-rtsp_transport tcp -i … -an -fps_mode passthrough -c:v libx264 -preset P -tune zerolatency -b:v ${BITRATE}k -maxrate ${BITRATE}k -bufsize ${BITRATE}k -g $((FPS * 2)) -bf 0 -profile:v main -f null -\`. Plain: \`rtspsrc protocols=tcp latency=200 ! depay ! parse ! avdec ! queue (400 ms) ! videoconvert ! x264enc (cordon's settings) ! h264parse ! fakesink\`. One process per stream each. cordon: the whole daemon (RTSP server, status, firewall helper), no recorders attached, encoder-threads = auto. Rows \`encoder-threads 1\`: one x264 thread for all three (cordon's encoder-threads = 1; ffmpeg \`-x264-params threads=1:sliced-threads=0\`; plain \`x264enc threads=1 sliced-threads=false\`)."
  report ""
  report "| stream | preset | streams each | cordon CPU-s/stream-s | ffmpeg | plain | cordon/ffmpeg | cordon/plain | cordon dropped frames | ffmpeg fps | plain fps |"
  report "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  local p
  local c
  for c in m720 m1080; do
    for p in $PRESETS; do overhead_one $c 1 "$p"; done
    # The same camera with one x264 thread (what auto gives from as many
    # encoders as CPUs), for all three contenders alike.
    ENC_THREADS=1 overhead_one $c 1 "$PRESET" "encoder-threads 1"
    cam_stop $c
  done
  report ""
  report "Replay camera (not counted above): 720p ${CAMCPU[m720]:-?}, 1080p ${CAMCPU[m1080]:-?} CPU-s per second."
  report ""
}

# ---- phase: quality versus cost, per preset ----
# cordon's encoder settings on the first QUALITY_SECS s of the noisy 1080p
# clip, offline (gst-launch, one thread: CPU is user+sys of the encode, the
# decode measured alone and taken off), SSIM and PSNR against the decoded clip.
phase_quality() {
  log "quality: SSIM/PSNR and CPU per preset, ${QUALITY_SECS} s of two 1080p clips"
  report "### 0. Quality versus cost per x264 preset (cordon's encoder settings, ${BITRATE} kbit/s CBR, 1080p25 moving clips)"
  report ""
  report "The first $QUALITY_SECS s of two 1080p25 clips made like the replay camera's (testsrc2, moving and detailed, 6 Mbit/s): the replay camera's own, with strong temporal noise (\`noise=alls=12\`, a camera at night), and one with light noise (\`alls=4\`, daylight). Each decoded and encoded with x264enc as cordon configures it (tune zerolatency, CBR, 1 s VBV, GOP 2 s, no B-frames, Main, one thread), offline. CPU: user+sys of the gst-launch minus a decode-only run, per stream-second. SSIM (All) and PSNR (average) via ffmpeg against the decoded clip. Memory: x264's own, the anonymous memory of a live 1080p encode minus the same pipeline without the encoder."
  report ""
  report "| preset | encode CPU-s per stream-second (noisy clip) | SSIM noisy | PSNR noisy dB | SSIM light noise | PSNR light noise dB | x264 memory at 1080p, MiB |"
  report "| --- | --- | --- | --- | --- | --- | --- |"
  local enc="tune=zerolatency pass=cbr bitrate=$BITRATE vbv-buf-capacity=1000 key-int-max=$((FPS * 2)) bframes=0 b-adapt=false threads=1 sliced-threads=false"
  # anon_kib PIPELINE...: anonymous memory of a live 1080p25 gst-launch after 2.5 s.
  anon_kib() {
    gst-launch-1.0 -q videotestsrc pattern=smpte num-buffers=75 is-live=true \
      ! video/x-raw,width=1920,height=1080,format=I420,framerate=$FPS/1 "$@" ! fakesink &
    local pid=$! a
    sleep 2.5
    a=$(awk '/^Anonymous:/ {print $2}' /proc/$pid/smaps_rollup 2>/dev/null)
    wait $pid
    echo "${a:-0}"
  }
  local base=$(anon_kib) kind p
  declare -A SRC=() DEC=() FRAMES=()
  for kind in noisy light; do
    local f=$OUT/quality-src-$kind.h264
    ffmpeg -nostdin -v error -i "$(clip 1920x1080 h264 $CAM1080_KBIT "$([ $kind = noisy ] && echo 12 || echo 4)")" \
      -t "$QUALITY_SECS" -c copy -f h264 -y "$f"
    SRC[$kind]=$f
    FRAMES[$kind]=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$f")
    DEC[$kind]=$( { /usr/bin/time -f '%U %S' gst-launch-1.0 -q filesrc location="$f" ! h264parse ! avdec_h264 ! fakesink >/dev/null; } 2>&1 | tail -1)
  done
  for p in ultrafast superfast veryfast faster; do
    local row="| $p$([ $p = $PRESET ] && echo ' (default)')" cpu=""
    for kind in noisy light; do
      local src=${SRC[$kind]} out=$OUT/quality-$kind-$p.h264
      local t=$( { /usr/bin/time -f '%U %S' gst-launch-1.0 -q filesrc location="$src" ! h264parse ! avdec_h264 \
        ! x264enc speed-preset=$p $enc ! video/x-h264,profile=main,stream-format=byte-stream \
        ! filesink location="$out" >/dev/null; } 2>&1 | tail -1)
      [ $kind = noisy ] && cpu=$(calc "round((sum(map(float, '$t'.split())) - sum(map(float, '${DEC[$kind]}'.split()))) / (${FRAMES[$kind]} / $FPS), 3)")
      local q=$(ffmpeg -nostdin -i "$out" -i "$src" -lavfi "[0:v][1:v]ssim;[0:v][1:v]psnr" -f null - 2>&1)
      local ssim=$(sed -n 's/.*SSIM .* All:\([0-9.]*\).*/\1/p' <<<"$q" | tail -1)
      local psnr=$(sed -n 's/.*PSNR .* average:\([0-9.inf]*\).*/\1/p' <<<"$q" | tail -1)
      [ $kind = noisy ] && row="$row | $cpu"
      row="$row | ${ssim:-?} | ${psnr:-?}"
      FIG[quality_ssim_${kind}_$p]=$ssim
      echo "quality $kind $p cpu $cpu ssim $ssim psnr $psnr" >>"$OUT/quality.txt"
    done
    # word splitting of $enc is intended: one gst-launch argument per property.
    local mem=$(anon_kib ! x264enc speed-preset=$p $enc)
    FIG[x264_mib_$p]=$(calc "round(($mem - $base) / 1024, 1)")
    report "$row | ${FIG[x264_mib_$p]} |"
  done
  report ""
}

# cpu_rounds: cordon's CPU-s per second over ROUNDS windows of WIN s into
# CPU_STATS ("median min max"); also sets OUT_FPS (frames_out per second of the first
# camera over all the windows) and DROPS (frames_dropped added, all cameras).
cpu_rounds() {
  local xs=() r w0 w1 c0 c1 f0 f1 t0 t1
  f0=$(gwbench frames "$STATUS_URL"); t0=$(date +%s.%N)
  for r in $(seq 1 "$ROUNDS"); do
    w0=$(date +%s.%N); c0=$(cpu_ticks "$CORDON_PID"); sleep "$WIN"; w1=$(date +%s.%N); c1=$(cpu_ticks "$CORDON_PID")
    xs+=($(calc "($c1 - $c0) / $TICK / ($w1 - $w0)"))
  done
  f1=$(gwbench frames "$STATUS_URL"); t1=$(date +%s.%N)
  OUT_FPS=$(paste <(echo "$f0" | head -1) <(echo "$f1" | head -1) | awk -v s="$(calc "$t1 - $t0")" '{ printf "%.2f", ($9 - $4) / s }')
  DROPS=$(paste <(echo "$f0") <(echo "$f1") | awk '{ d += $10 - $5 } END { print d + 0 }')
  CPU_STATS=$(bench stats "${xs[@]}")
}

# ---- phase: sub stream against a second camera ----
phase_substream() {
  log "substream: one 1080p camera, with a 640x360 sub stream, and two cameras"
  report "### 7. Sub stream: one decode, two encodes, against a second camera"
  report ""
  report "One 1080p25 replay camera; cordon CPU (daemon and workers) over $ROUNDS windows of $WIN s, median (min–max), and PSS 8 s after live; no recorders. The sub stream is \`sub-stream = 640x360\` (\`sub-bitrate\` default 512 kbit/s) served at /NAME/sub."
  report ""
  report "| configuration | cordon CPU-s per second | added | PSS MiB | added | dropped |"
  report "| --- | --- | --- | --- | --- | --- |"
  cam_moving m1080
  local v conf=$WORK/sub.conf base="" pbase=""
  for v in one sub two; do
    conf_head >"$conf"
    conf_cam s1 m1080 >>"$conf"
    [ $v = sub ] && printf 'sub-stream = 640x360\n' >>"$conf"
    [ $v = two ] && conf_cam s2 m1080 >>"$conf"
    cordon_up "$conf" "$([ $v = two ] && echo 2 || echo 1)" || { cordon_down; continue; }
    sleep 5
    cpu_rounds
    local st=$CPU_STATS pss=$(pss_kib "$CORDON_PID")
    cordon_down
    set -- $st
    local add="–" padd="–" label
    [ $v = one ] && base=$1 pbase=$pss
    [ $v != one ] && [ -n "$base" ] && add=$(calc "round($1 - $base, 3)") padd=$(calc "round(($pss - $pbase) / 1024, 1)")
    case $v in one) label="1 camera" ;; sub) label="1 camera + 640x360 sub stream" ;; two) label="2 cameras" ;; esac
    FIG[substream_cpu_added_$v]=$add
    echo "substream $v cpu $st pss_kib $pss drops $DROPS" >>"$OUT/substream.txt"
    report "| $label | $1 ($2–$3) | $add | $(calc "round($pss / 1024, 1)") | $padd | $DROPS |"
  done
  cam_stop m1080
  report ""
}

# ---- phase: an offline camera's slate ----
phase_slate() {
  log "slate: one offline camera at 720p and 1080p"
  report "### 8. An offline camera: the slate"
  report ""
  report "One camera whose address answers nothing (cordon shows the slate), no recorders; cordon CPU over $ROUNDS windows of $WIN s after 6 s offline, median (min–max), and the slate's output rate from frames_out. For comparison: a live camera's CPU is in the overhead table."
  report ""
  report "| size | cordon CPU-s per second | output frames per second (configured $FPS) |"
  report "| --- | --- | --- |"
  local c conf=$WORK/slate.conf
  for c in m720 m1080; do
    # The replay camera's address with no camera started on it: refused at once.
    site_config off >"$conf"
    printf '\n[camera:off1]\nurl = %s\nsize = %s\nframerate = %s\n' "$(cam_url $c)" "$(size_of $c)" "$FPS" >>"$conf"
    start_cordon "$conf"
    sleep 6
    cpu_rounds
    local st=$CPU_STATS
    cordon_down
    set -- $st
    FIG[slate_cpu_$c]=$1
    echo "slate $c cpu $st fps $OUT_FPS" >>"$OUT/slate.txt"
    report "| $(size_of $c) | $1 ($2–$3) | $OUT_FPS |"
  done
  report ""
}

# ---- phase: fan-out, recorders on one camera ----
phase_fanout() {
  log "fanout: 0, 1, 10 recorders on one 720p camera"
  cam_moving m720
  local conf=$WORK/fanout.conf
  { conf_head; conf_cam f1 m720; } >"$conf"
  cordon_up "$conf" 1 || { cordon_down; return; }
  sleep 3
  report "### 3. Fan-out: cordon CPU with recorders on one 720p25 camera"
  report ""
  report "Recorders: \`ffmpeg -rtsp_transport tcp -i rtsp://…/f1 -c copy -f null -\` in the recorder namespace (their own CPU not counted). Median (min–max) of $ROUNDS windows of $WIN s."
  report ""
  report "| recorders | cordon CPU-s per second | encoders | added per recorder (vs none) |"
  report "| --- | --- | --- | --- |"
  local recs=() k base=""
  for k in 0 1 10; do
    while [ ${#recs[@]} -lt $k ]; do
      bg rec "$WORK/fan-${#recs[@]}.log" ffmpeg -nostdin -v error -rtsp_transport tcp -i "$(rec_url f1)" -c copy -f null -
      recs+=("$LAST_PID")
    done
    sleep 4
    cpu_rounds
    local s=$CPU_STATS enc=$(statusq camera f1 encoders) sess=$(statusq recorder nvr1 sessions 2>/dev/null)
    set -- $s
    local per="–"
    [ "$k" = 0 ] && base=$1
    [ "$k" -gt 0 ] && [ -n "$base" ] && per=$(calc "round(($1 - $base) / $k, 4)")
    [ "$k" = 10 ] && FIG[fanout_cpu_per_recorder]=$per
    report "| $k | $1 ($2–$3) | $enc | $per |"
    echo "fanout $k cpu $s encoders $enc sessions $sess" >>"$OUT/fanout.txt"
  done
  for k in "${recs[@]}"; do stop_pid "$k"; done
  cordon_down
  cam_stop m720
  report ""
}

# ---- phase: glass-to-glass latency ----
phase_latency() {
  log "latency: bar-coded capture time, direct vs through cordon, ${LAT_SECS} s"
  report "### 4. Added latency, glass to glass"
  report ""
  report "The test camera draws its capture time (CLOCK_REALTIME, ms) as a bar code into each picture before encoding; \`tests/bench/latency-probe\` (rtspsrc latency=0, avdec_h264 single-threaded, appsink sync=false) decodes it after decoding, same clock. Direct: from the gateway namespace to the camera; through cordon: from the recorder namespace. Both at once for $LAT_SECS s."
  report ""
  report "| stream | path | pictures | unreadable | median ms | p95 ms |"
  report "| --- | --- | --- | --- | --- | --- |"
  local c
  for c in ${BENCH_LAT_CAMS:-t720 t1080}; do
    cam_start $c --size "$(size_of $c)" --bitrate $([ $c = t720 ] && echo $CAM720_KBIT || echo $CAM1080_KBIT) --timestamp-overlay
    local conf=$WORK/latency.conf
    { conf_head; conf_cam lat $c; } >"$conf"
    cordon_up "$conf" 1 || { cordon_down; continue; }
    sleep 2
    nsx gw "$PROBE" "$(cam_url $c)" "$LAT_SECS" >"$OUT/latency-$c-direct.txt" 2>"$WORK/lat-direct.log" & local a=$!
    nsx rec "$PROBE" "$(rec_url lat)" "$LAT_SECS" >"$OUT/latency-$c-cordon.txt" 2>"$WORK/lat-cordon.log" & local b=$!
    wait $a $b
    cordon_down
    cam_stop $c
    local d=$(bench latency "$OUT/latency-$c-direct.txt") v=$(bench latency "$OUT/latency-$c-cordon.txt")
    set -- $d; local dm=$3 dp=$4
    report "| $(size_of $c)p$FPS | direct | $1 | $2 | $3 | $4 |"
    set -- $v; local vm=$3 vp=$4
    report "| $(size_of $c)p$FPS | through cordon | $1 | $2 | $3 | $4 |"
    FIG[latency_added_median_$c]=$(calc "$vm - $dm"); FIG[latency_added_p95_$c]=$(calc "$vp - $dp")
    report "| $(size_of $c)p$FPS | **added by cordon** | | | **${FIG[latency_added_median_$c]}** | **${FIG[latency_added_p95_$c]}** |"
  done
  report ""
}

# ---- phase: memory ----
# mem_of PID: "RSS PSS" in KiB (PSS shares the libraries' pages out among
# the processes that map them), over the daemon and all its descendants:
# firewall helper, launcher and every camera's ingest worker.
mem_of() {
  local rss=0 pss=0 pid
  for pid in $(tree "$1"); do
    set -- $(awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} END {print r + 0, p + 0}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0 0)
    rss=$((rss + $1)); pss=$((pss + $2))
  done
  echo "$rss $pss"
}
phase_memory() {
  log "memory: RSS and PSS with 1, 4, 16 720p cameras; 1 and 2 1080p cameras"
  # 16 cameras at 25 fps do not fit in real time on 2 cores; buffers are
  # counted in frames, not seconds, so 5 fps keeps every camera live with the
  # same per-camera allocations (decoder, scaler, x264 frames, RTSP buffers).
  local mfps=5 k
  cam_start f720 --size 1280x720 --bitrate $CAM720_KBIT --fps $mfps
  report "### 5. Memory of the cordon daemon (and its child processes), no recorders, measured 8 s after all cameras are live"
  report ""
  report "| cameras | RSS MiB | PSS MiB | RSS per camera above 1, MiB | PSS per camera above 1, MiB |"
  report "| --- | --- | --- | --- | --- |"
  mem_rows() { # LABEL CAMLABEL FPS PRESET COUNT...
    local label=$1 cam=$2 fps=$3 preset=$4 rss1="" pss1="" first=""; shift 4
    for k in "$@"; do
      local conf=$WORK/mem.conf i
      conf_head >"$conf"
      for i in $(seq 1 $k); do conf_cam "m$i" "$cam" "$preset" "$fps" >>"$conf"; done
      cordon_up "$conf" $k || { cordon_down; continue; }
      sleep 8
      set -- $(mem_of "$CORDON_PID"); local rss=$1 pss=$2
      local hwm=$(awk '/VmHWM/ {print $2}' "/proc/$CORDON_PID/status") q
      # Where it goes: every process's mappings, for docs/performance.md's breakdown.
      for q in $(tree "$CORDON_PID"); do
        { tr '\0' ' ' <"/proc/$q/cmdline"; echo; cat "/proc/$q/smaps"; } >"$OUT/smaps-$label-$k-$q.txt" 2>/dev/null
      done
      cordon_down
      local per="–" pper="–"
      [ -z "$first" ] && first=$k rss1=$rss pss1=$pss
      if [ "$k" != "$first" ]; then
        per=$(calc "round(($rss - $rss1) / 1024 / ($k - $first), 1)")
        pper=$(calc "round(($pss - $pss1) / 1024 / ($k - $first), 1)")
        FIG[memory_mib_per_camera_$label]=$per; FIG[memory_pss_mib_per_camera_$label]=$pper
      fi
      echo "memory $label $k rss_kib $rss pss_kib $pss hwm_kib $hwm" >>"$OUT/memory.txt"
      report "| $k × $label | $(calc "round($rss / 1024, 1)") | $(calc "round($pss / 1024, 1)") | $per | $pper |"
    done
  }
  mem_rows "720p$mfps" f720 $mfps "$PRESET" 1 4 16
  cam_stop f720
  cam_moving m1080
  mem_rows "1080p$FPS" m1080 $FPS "$PRESET" 1 2
  # x264's own frames differ by preset (half-pel planes from subme 1 up).
  mem_rows "1080p$FPS-ultrafast" m1080 $FPS ultrafast 1 2
  cam_stop m1080
  report ""
}

# pss_kib PID: PSS of PID and its descendants (shared pages counted once).
pss_kib() {
  local pid total=0 v
  for pid in $(tree "$1"); do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# ---- phase: the ingest-worker jail's cost ----
# One 720p25 camera, no recorder: cordon as built (daemon + launcher + one
# confined worker) against BENCH_INPROCESS (a cordon that decodes in its own
# process, e.g. a build of the commit before the workers), one after the
# other on the same camera; without BENCH_INPROCESS, against plain gst-launch.
phase_jail() {
  log "jail: worker layout vs in-process, one 720p camera, $ROUNDS windows of $WIN s"
  local conf=$WORK/jail.conf variant
  cam_moving m720
  conf_head >"$conf"
  conf_cam j1 m720 >>"$conf"
  report "### 9. The jail's cost: one 720p$FPS camera, no recorder"
  report ""
  report "CPU (utime+stime of every process of the variant), $ROUNDS windows of $WIN s, median (min–max); PSS summed over the processes 8 s after live; hand-over: worker sent → daemon has lent the slot to the encoder (moving average from /status). Load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
  report ""
  report "| variant | processes | CPU-s per second | PSS MiB | hand-over latency |"
  report "| --- | --- | --- | --- | --- |"
  local other=${BENCH_INPROCESS:-} variants="jail plain"
  [ -n "$other" ] && variants="jail inprocess"
  for variant in $variants; do
    local pid=""
    case $variant in
      jail) cordon_up "$conf" 1 || { cordon_down; continue; }; pid=$CORDON_PID ;;
      inprocess) CORDON=$other cordon_up "$conf" 1 || { cordon_down; continue; }; pid=$CORDON_PID ;;
      plain) plain_start m720 j; pid=$LAST_PID; sleep 3 ;;
    esac
    sleep 5
    local r c0 c1 w0 w1 cpu=()
    for r in $(seq 1 "$ROUNDS"); do
      w0=$(date +%s.%N); c0=$(cpu_ticks "$pid"); sleep "$WIN"; w1=$(date +%s.%N); c1=$(cpu_ticks "$pid")
      cpu+=($(calc "($c1 - $c0) / $TICK / ($w1 - $w0)"))
    done
    local pss=$(pss_kib "$pid") n=$(tree "$pid" | wc -l) lat="–"
    if [ $variant = jail ]; then
      lat=$(nsx gw /usr/bin/python3 -c 'import json,sys,urllib.request; d=json.load(urllib.request.urlopen(sys.argv[1])); print([c for c in d["cameras"] if c["name"]=="j1"][0].get("handover_us","?"))' "$STATUS_URL" 2>/dev/null)
      lat="${lat:-?} µs"
    fi
    [ $variant = plain ] && stop_pid "$pid" || cordon_down
    set -- $(bench stats "${cpu[@]}")
    FIG[jail_cpu_$variant]=$1
    echo "jail $variant cpu ${cpu[*]} pss_kib $pss processes $n handover $lat" >>"$OUT/jail.txt"
    report "| $variant | $n | $1 ($2–$3) | $(calc "round($pss / 1024, 1)") | $lat |"
  done
  cam_stop m720
  report ""
}

# ---- phase: capacity ----
# cap_probe CAMLABEL PRESET N: cordon with N cameras on one test camera for
# CAP_WIN s. Real time: every camera encoded >= FPS x window - 5 frames, took
# in as many, and its drop counter did not move.
CAP_LAST=""
cap_probe() {
  local cam=$1 p=$2 n=$3 conf=$WORK/cap.conf i
  conf_head >"$conf"
  for i in $(seq 1 "$n"); do conf_cam "k$i" "$cam" "$p" >>"$conf"; done
  if ! cordon_up "$conf" "$n"; then cordon_down; CAP_LAST="not all live"; return 1; fi
  sleep 3
  local w0=$(date +%s.%N) f0=$(gwbench frames "$STATUS_URL") c0=$(cpu_ticks "$CORDON_PID")
  sleep "$CAP_WIN"
  local w1=$(date +%s.%N) f1=$(gwbench frames "$STATUS_URL") c1=$(cpu_ticks "$CORDON_PID")
  cordon_down
  local secs=$(calc "$w1 - $w0")
  local want=$(calc "int($FPS * $secs) - 5")
  local verdict=$(paste <(echo "$f0") <(echo "$f1") | awk -v want="$want" '
    { din = $8 - $3; dout = $9 - $4; ddrop = $10 - $5
      if (dout < minout || NR == 1) minout = dout
      if (din < minin || NR == 1) minin = din
      drops += ddrop; if ($7 != "live") notlive++ }
    END { ok = (minout >= want && minin >= want && drops == 0 && notlive == 0)
          printf "%s min_in=%d min_out=%d want>=%d dropped=%d not_live=%d\n", ok ? "ok" : "behind", minin, minout, want, drops, notlive + 0 }')
  local cpu=$(calc "round(($c1 - $c0) / $TICK / $secs, 2)")
  CAP_LAST="$verdict cpu=$cpu"
  echo "capacity $cam $p n=$n $CAP_LAST" >>"$OUT/capacity.txt"
  log "capacity $(size_of "$cam") $p n=$n: $CAP_LAST"
  [ "${verdict%% *}" = ok ]
}
# cap_search CAMLABEL PRESET: estimate from CPU per stream, then probe.
cap_search() {
  local cam=$1 p=$2 per=${CPU_PER_STREAM["$(size_of "$1") $2"]:-}
  cam_moving "$cam"
  if [ -z "$per" ]; then
    # 1 camera for one window, to estimate.
    local conf=$WORK/cap.conf
    { conf_head; conf_cam k1 "$cam" "$p"; } >"$conf"
    if cordon_up "$conf" 1; then
      sleep 3
      local w0=$(date +%s.%N) c0=$(cpu_ticks "$CORDON_PID"); sleep "$WIN"
      local w1=$(date +%s.%N) c1=$(cpu_ticks "$CORDON_PID")
      per=$(calc "($c1 - $c0) / $TICK / ($w1 - $w0)")
    fi
    cordon_down
  fi
  local camcpu=${CAMCPU[$cam]:-0.2}
  local est=$(calc "max(1, int(($NPROC * 0.92 - $camcpu) / max($per, 0.01)))")
  log "capacity $(size_of "$cam") $p: ${per} CPU-s per stream-s, estimate $est"
  local best=0 worst="" n=$est probes=0 first_fail="" why="probe limit"
  while [ $probes -lt $CAP_MAX_PROBES ] && [ $n -ge 1 ]; do
    # Keep the whole run inside the budget: a probe takes the window + ~12 s.
    if [ $((SECONDS - START + CAP_WIN + 12)) -gt "$BUDGET" ]; then
      log "capacity $(size_of "$cam") $p: time budget reached, stopping at $probes probe(s)"
      why="time budget"
      break
    fi
    probes=$((probes + 1))
    if cap_probe "$cam" "$p" "$n"; then
      best=$n
      [ -n "$first_fail" ] && break
      n=$((n + 1))
    else
      first_fail=$n; worst="$CAP_LAST"
      [ $best -gt 0 ] && break
      # Down by one, or by as much as the probe fell short of real time.
      local got=$(echo "$CAP_LAST" | sed -n 's/.*min_in=\([0-9-]*\) min_out=\([0-9-]*\) want>=\([0-9]*\).*/\1 \2 \3/p')
      if [ -n "$got" ]; then
        set -- $got
        n=$(calc "max(1, min($n - 1, int($n * min($1, $2) / $3)))")
      else
        n=$((n - 1))
      fi
    fi
    # Stop once N passed and N+1 failed.
    [ -n "$first_fail" ] && [ $best -gt 0 ] && [ $first_fail -eq $((best + 1)) ] && break
  done
  local shown=$best note
  if [ "$probes" = 0 ]; then
    shown="not probed"; note="time budget reached before the first probe"
  elif [ "$best" = 0 ]; then
    shown="< ${first_fail}"; note="$first_fail fails ($worst)"
  elif [ "${first_fail:-}" = $((best + 1)) ]; then
    note="$best passes, $((best + 1)) fails ($worst)"
  else
    shown=">= $best"; note="$best passes, $((best + 1)) not probed ($why)"
  fi
  [ "$shown" = "$best" ] && FIG[capacity_${cam}_$p]=$best
  report "| $(size_of "$cam")p$FPS | $p | $(calc "round($per, 3)") | $est | **$shown** | $note |"
}
phase_capacity() {
  log "capacity: $CAP_WIN s probes"
  report "### 2. Capacity: cameras kept at real time for $CAP_WIN s (no frame dropped, every camera encoding $FPS fps)"
  report ""
  report "Each probe: N cordon cameras pulling one replay camera (no re-encode; its CPU is in the overhead section), no recorders, encoder-threads = auto (one x264 thread each from $NPROC cameras up); pass = for every camera, frames in and out over the window >= ${FPS} × window − 5, drop counter unchanged, state live. Estimate = (nproc × 0.92 − camera CPU) / cordon CPU per stream."
  report ""
  report "| stream | preset | cordon CPU-s/stream-s | estimate | capacity | probes |"
  report "| --- | --- | --- | --- | --- | --- |"
  local c p
  for c in m720 m1080; do
    for p in $PRESET ${CHEAP}; do cap_search $c $p; done
    cam_stop $c
  done
  report ""
  threading_check
}
# The threading auto picks from NPROC cameras up (one x264 thread each), against
# two frame threads per encoder (encoder-threads = 2), at the 720p capacity
# just found: the same probe, every camera alike.
threading_check() {
  local n=${FIG[capacity_m720_$PRESET]:-}
  [ -n "$n" ] && [ "$n" -ge "$NPROC" ] || { log "threading: no 720p capacity of $NPROC cameras or more to compare at"; return; }
  if [ $((SECONDS - START + 2 * (CAP_WIN + 12))) -gt "$BUDGET" ]; then log "threading: time budget reached"; return; fi
  report "### 2b. Threading at capacity: $n × 720p25 $PRESET, one probe each"
  report ""
  report "| encoder-threads | x264 threading per encoder | result |"
  report "| --- | --- | --- |"
  cam_moving m720
  local t
  for t in auto 2; do
    ENC_THREADS=$([ $t = auto ] || echo $t)
    cap_probe m720 "$PRESET" "$n"
    report "| $t | $([ $t = auto ] && echo 'one thread, no slices' || echo 'two frame threads') | $CAP_LAST |"
  done
  ENC_THREADS=""
  cam_stop m720
  report ""
}

# ---- phase (optional): where each contender's CPU goes ----
# cordon, plain gst-launch and ffmpeg side by side on one camera (as in the
# overhead phase), perf over each for the same window: CPU-s per second split
# into the two codecs, the kernel, libc and the GStreamer/GLib plumbing, and
# every contender against ffmpeg's total. PROFILE_CAM=m720|m1080,
# PROFILE_PRESET (default ultrafast, where the codecs are cheapest and the
# rest shows most).
phase_profile() {
  local cam=${PROFILE_CAM:-m720} p=${PROFILE_PRESET:-ultrafast} secs=$((WIN * 2)) w
  if ! command -v perf >/dev/null; then
    log "profile: no perf on this machine (Debian: linux-perf); skipped"
    return
  fi
  log "profile: perf over cordon, plain and ffmpeg, $(size_of $cam) $p, $secs s"
  cam_moving "$cam"
  local conf=$WORK/profile.conf
  { conf_head; conf_cam o1 "$cam" "$p"; } >"$conf"
  cordon_up "$conf" 1 || { cordon_down; cam_stop "$cam"; return; }
  plain_start "$cam" 1 "$p"; local plain=$LAST_PID
  ffmpeg_start "$cam" 1 "$p"; local ff=$LAST_PID
  sleep 12
  declare -A root=([cordon]=$CORDON_PID [plain]=$plain [ffmpeg]=$ff) t0=() t1=()
  local perfs=() n0="$(cordon_frames_out) $(plain_frames 1) $(ffmpeg_frames 1)"
  for w in cordon plain ffmpeg; do
    t0[$w]=$(cpu_ticks "${root[$w]}")
    perf record -q -F ${PROFILE_FREQ:-499} ${PROFILE_PERF_ARGS:-} -p "$(tree "${root[$w]}" | paste -sd,)" -o "$OUT/perf-$w.data" -- sleep "$secs" >/dev/null 2>&1 &
    perfs+=($!)
  done
  wait "${perfs[@]}"
  for w in cordon plain ffmpeg; do t1[$w]=$(cpu_ticks "${root[$w]}"); done
  # Pictures each put out over the window: CPU per stream-second as in table 1.
  set -- $n0 $(cordon_frames_out) $(plain_frames 1) $(ffmpeg_frames 1)
  declare -A pics=([cordon]=$(($4 - $1)) [plain]=$(($5 - $2)) [ffmpeg]=$(($6 - $3)))
  stop_pid "$plain"; stop_pid "$ff"
  cordon_down
  cam_stop "$cam"
  report "### Profile: where each contender's CPU goes ($(size_of $cam)p$FPS, $p, one stream each, all three at once, perf over $secs s)"
  report ""
  report "CPU-s per stream-second of each (per $FPS pictures it put out, as in table 1), split by the shares of perf's samples per library. cordon: daemon and worker; plain: gst-launch-1.0 as in table 1 (decoder slice threads, one picture copy out of libavcodec); ffmpeg: frame-threaded decoder, no copy. The last column is each total over ffmpeg's."
  report ""
  report "| contender | total | x264 | libavcodec (decode) | kernel | libc (memcpy, malloc) | GStreamer, GLib | other | / ffmpeg |"
  report "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  local ffcpu=$(calc "(${t1[ffmpeg]} - ${t0[ffmpeg]}) / $TICK / (max(${pics[ffmpeg]}, 1) / $FPS)")
  for w in cordon plain ffmpeg; do
    local cpu=$(calc "(${t1[$w]} - ${t0[$w]}) / $TICK / (max(${pics[$w]}, 1) / $FPS)")
    perf report -i "$OUT/perf-$w.data" --no-children --sort dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' >"$OUT/perf-$w-dso.txt"
    perf report -i "$OUT/perf-$w.data" --no-children --sort dso,sym --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' \
      | grep -v 'libx264\|libavcodec' | head -40 >"$OUT/perf-$w-sym.txt"
    set -- $(bench shares "$cpu" "$OUT/perf-$w-dso.txt")
    report "| $w | $(calc "round($cpu, 4)") | $1 | $2 | $3 | $4 | $5 | $6 | $(calc "round($cpu / max($ffcpu, 1e-9), 3)") |"
  done
  report ""
  report "Top symbols outside libx264/libavcodec: tests/bench/results/$STAMP/perf-*-sym.txt"
  report ""
}

for phase in $PHASES; do
  "phase_$phase"
done
log "done in $((SECONDS - START)) s"
# Repeated full runs: each appends its figures to results/history.tsv; the
# table gives median and spread over the runs on a machine like this one.
if [ "$QUICK" != 1 ] && [ ${#FIG[@]} -gt 0 ]; then
  { printf '%s\t%s\t%s\t' "$STAMP" "$NPROC" "$CPU_MODEL"
    for k in "${!FIG[@]}"; do printf '%s=%s;' "$k" "${FIG[$k]}"; done; echo; } >>"$RESULTS/history.tsv"
  report "### Across full runs on this machine (tests/bench/results/history.tsv)"
  report ""
  while IFS= read -r line; do report "$line"; done < <(bench history "$RESULTS/history.tsv" "$NPROC" "$CPU_MODEL")
  report ""
fi
report "Run time: $((SECONDS - START)) s (build included). Raw data: tests/bench/results/$STAMP/."
report ""
# The latest run replaces the part of docs/performance.md between the
# bench:begin and bench:end markers (BENCH_DOC=FILE for another file).
DOC=${BENCH_DOC:-$CORDON_SOURCE_DIR/docs/performance.md}
if [ -f "$DOC" ] && grep -q '<!-- bench:begin -->' "$DOC" && grep -q '<!-- bench:end -->' "$DOC"; then
  /usr/bin/python3 - "$DOC" "$REPORT" <<'PY'
import sys
doc, rep = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read()
head, rest = text.split("<!-- bench:begin -->", 1)
_, tail = rest.split("<!-- bench:end -->", 1)
open(doc, "w").write(head + "<!-- bench:begin -->\n" + rep + "<!-- bench:end -->" + tail)
PY
  echo "report written to $REPORT and into $DOC"
else
  cp "$REPORT" "$DOC"
  echo "report written to $REPORT and $DOC"
fi
