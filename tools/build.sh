#!/bin/sh
# Configures (once) and builds cordon in ./build (or $CORDON_BUILD_DIR).
set -eu
cd "$(dirname "$0")/.."
dir=${CORDON_BUILD_DIR:-build}
if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "$dir" "$@" >/dev/null
else
  meson setup "$dir" "$@" >/dev/null
fi
ninja -C "$dir"
