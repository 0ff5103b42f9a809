#!/bin/bash
# Installs the npm `onvif` client exactly as tests/onvif/npm/package-lock.json
# pins it, into a cache folder outside the repository (never node_modules in
# the tree), and prints the node_modules path.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${CORDON_NPM_CACHE:-/var/cache/cordon-test/npm-onvif}
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIP: node/npm missing (tools/install-deps.sh installs them)" >&2
  exit 77
fi
if ! cmp -s "$HERE/npm/package-lock.json" "$CACHE/package-lock.json" || [ ! -d "$CACHE/node_modules/onvif" ]; then
  rm -rf "$CACHE"
  mkdir -p "$CACHE"
  cp "$HERE/npm/package.json" "$HERE/npm/package-lock.json" "$CACHE/"
  (cd "$CACHE" && npm ci --silent --no-audit --no-fund >&2)
  cp "$HERE/npm/package-lock.json" "$CACHE/package-lock.json"
fi
echo "$CACHE/node_modules"
