#!/bin/bash
# Builds the libFuzzer targets with clang (in build-fuzz/, beside build/) and
# runs each for a bounded time on a copy of its seed corpus. Any crash, leak or
# sanitizer report fails the test. FUZZ_SECONDS sets the time per target.
set -u
SRC=${CORDON_SOURCE_DIR:?}
SECS=${FUZZ_SECONDS:-20}
OUT=$SRC/build-fuzz
if ! command -v clang >/dev/null; then echo "SKIP: clang missing"; exit 77; fi
if [ ! -f "$OUT/build.ninja" ]; then
  CC=clang meson setup "$OUT" "$SRC" -Dfuzz=true -Dbuildtype=debugoptimized >/dev/null || exit 1
fi
work=$(mktemp -d /tmp/cordon-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
# Full stacks for every allocation: GLib is built without frame pointers, so
# the fast unwinder stops at g_malloc and the suppressions could not match.
export LSAN_OPTIONS="suppressions=$SRC/tests/fuzz/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="fast_unwind_on_malloc=0"
status=0
for spec in "tests/fuzz/fuzz-config:tests/fuzz/corpus-config" "tests/fuzz/fuzz-rtsp:tests/fuzz/corpus-rtsp" \
    "tests/fuzz/fuzz-camera-checks:tests/fuzz/corpus-camera-checks" \
    "tests/fuzz/fuzz-nalfilter:tests/fuzz/corpus-nalfilter" "tests/fuzz/fuzz-skipframe:tests/fuzz/corpus-skipframe" \
    "tests/firewall/fuzz-nflog:tests/firewall/corpus" "tests/fuzz/fuzz-onvif-soap:tests/fuzz/corpus-onvif" \
    "tests/fuzz/fuzz-ring:tests/fuzz/corpus-ring"; do
  target=${spec%%:*} corpus=${spec#*:}
  [ -d "$SRC/$corpus" ] || continue
  ninja -C "$OUT" "$target" >/dev/null || { echo "FAIL: cannot build $target"; status=1; continue; }
  mkdir -p "$work/$target"
  cp -r "$SRC/$corpus"/. "$work/$target/"
  if "$OUT/$target" -max_total_time="$SECS" -timeout=5 -rss_limit_mb=1024 -artifact_prefix="$work/" \
      "$work/$target" >"$work/log" 2>&1; then
    echo "ok: $target: $(grep -o 'Done [0-9]* runs' "$work/log" | tail -1) in ${SECS}s, no findings"
  else
    echo "FAIL: $target found a problem:"; tail -40 "$work/log"; status=1
  fi
done
exit $status
