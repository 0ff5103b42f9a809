#!/bin/bash
# build_depends_cover_meson_dependencies: every pkg-config dependency() in the
# meson files comes from a package that debian/control's Build-Depends names,
# so `dpkg-buildpackage` keeps working on a fresh Debian 12 when someone adds
# a library (the package suite proves it end to end, but only when asked).
set -euo pipefail
SRC=${CORDON_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

declared=$(sed -n '/^Build-Depends:/,/^[A-Z][A-Za-z-]*:/p' "$SRC/debian/control" \
  | sed '$d; s/^Build-Depends://' | tr ',' '\n' | sed 's/[[(<].*//; s/[[:space:]]//g' | sed '/^$/d' | sort -u)
[ -n "$declared" ] || { echo "FAIL: no Build-Depends in debian/control"; exit 1; }

mapfile -t names < <(find "$SRC" -name meson.build -not -path "$SRC/build*" -not -path "$SRC/obj-*" -print0 \
  | xargs -0 grep -ho "dependency *( *'[^']*'" | sed "s/.*'\([^']*\)'/\1/" | sort -u)
[ ${#names[@]} -gt 0 ] || { echo "FAIL: found no dependency() in the meson files"; exit 1; }

status=0
for n in "${names[@]}"; do
  dir=$(pkg-config --variable=pcfiledir "$n" 2>/dev/null) || { echo "FAIL: pkg-config knows no $n"; status=1; continue; }
  pkg=$(dpkg-query -S "$dir/$n.pc" 2>/dev/null | head -n 1 | cut -d: -f1) \
    || { echo "FAIL: no Debian package owns $dir/$n.pc"; status=1; continue; }
  if grep -qx "$pkg" <<<"$declared"; then
    echo "ok: $n from $pkg"
  else
    echo "FAIL: meson needs $n ($pkg), which debian/control's Build-Depends does not name"
    status=1
  fi
done
exit $status
