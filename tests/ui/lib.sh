# Helpers for the operator page's browser tests (bash; source it after
# tests/media/lib.sh or tests/lib/netns.sh).
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || { echo "SKIP: chromium not installed (tools/install-deps.sh)"; exit 77; }
LOGDIR=$BUILD/meson-logs
mkdir -p "$LOGDIR"

# browser NS ARGS...: one headless Chromium run in namespace NS with a fresh
# profile, in another time zone than any site's, console to stderr.
browser() {
  local n=$1 profile; shift
  profile=$(mktemp -d "$WORK/chromium-XXXXXX")
  nsx "$n" env TZ=America/Los_Angeles timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
    --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --disable-extensions --user-data-dir="$profile" --enable-logging=stderr --v=0 --virtual-time-budget=12000 "$@"
}
