#!/bin/bash
# package_builds_installs_and_checks_out: the Debian package as a site gets it.
#
# 1. A fresh Debian 12 build root (mmdebstrap, variant buildd) gets exactly the
#    Build-Depends of debian/control (apt-get build-dep) and builds the package
#    with `dpkg-buildpackage -us -uc -b`, as an unprivileged user, from a copy
#    of the tree (the build writes to the parent directory: never into /work).
# 2. lintian on the result: no errors.
# 3. A second fresh root (variant apt) installs the .deb with apt, which pulls
#    its run-time dependencies; in it (in-root.sh): the cordon user, the modes
#    of /etc/cordon, the conffile, units neither enabled nor started,
#    `cordon check` refusing the unedited example and accepting it with test
#    secrets, `systemd-analyze verify` on the units, purge.
#
# Packages come from the host's apt sources; downloaded .debs are kept in
# $CORDON_APT_CACHE (default /var/cache/cordon-package-test) for the next run.
# Needs root. Suite `package` (not in the default run: see README.md).
set -euo pipefail

SRC=${CORDON_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CACHE=${CORDON_APT_CACHE:-/var/cache/cordon-package-test}
SUITE=bookworm
[ "$(id -u)" = 0 ] || { echo "package test: needs root (mmdebstrap, chroot)"; exit 77; }
for tool in mmdebstrap lintian; do
  command -v "$tool" >/dev/null || { echo "package test: $tool missing (tools/install-deps.sh)"; exit 1; }
done

sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -s "$f" ] && grep -q "$SUITE" "$f" && sources+=("$f")
done
[ ${#sources[@]} -gt 0 ] || { echo "package test: no apt source for $SUITE on this host"; exit 1; }

tmp=$(mktemp -d /tmp/cordon-package.XXXXXX)
cleanup () {
  # Our cache bind mount must be gone before anything is deleted.
  for r in "$tmp/build-root" "$tmp/install-root"; do
    if mountpoint -q "$r/var/cache/apt/archives" 2>/dev/null; then umount "$r/var/cache/apt/archives"; fi
  done
  if grep -q " $tmp/" /proc/mounts; then
    echo "package test: mounts left under $tmp; not deleting it"
    return
  fi
  rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

# Seed the cache with hard links to what the host's apt already downloaded.
mkdir -p "$CACHE/partial"
if [ -d /var/cache/apt/archives ]; then
  cp -ln /var/cache/apt/archives/*.deb "$CACHE/" 2>/dev/null || true
fi

t0=$(date +%s)
phase () { echo "== $(( $(date +%s) - t0 )) s: $*"; }

# The tree as it is (tracked and new files, nothing ignored), without build dirs.
mkdir -p "$tmp/src/cordon" "$tmp/out"
git -C "$SRC" ls-files -z -co --exclude-standard | (cd "$SRC" && tar --null -cf - -T - 2>/dev/null) \
  | tar -xf - -C "$tmp/src/cordon"
version=$(dpkg-parsechangelog -l "$tmp/src/cordon/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
deb=cordon_${version}_${arch}.deb

# Options shared by both roots: the persistent cache bound in for the whole
# run, no apt sandbox user (the cache is root's), unbound before cleanup; no
# fsync per file (a throw-away root).
cache_opts=(
  --skip=essential/unlink --skip=cleanup/apt/cache --dpkgopt=force-unsafe-io
  --aptopt='APT::Sandbox::User "root"'
  --setup-hook="mkdir -p \"\$1/var/cache/apt/archives\" && mount --bind '$CACHE' \"\$1/var/cache/apt/archives\""
)
unbind_cache='umount "$1/var/cache/apt/archives"'

phase "build root ($SUITE, buildd) + Build-Depends, dpkg-buildpackage"
mmdebstrap --variant=buildd --mode=root "${cache_opts[@]}" \
  --customize-hook='mkdir -p "$1/build"' \
  --customize-hook="copy-in '$tmp/src/cordon' /build" \
  --customize-hook='chroot "$1" apt-get build-dep -y -q --no-install-recommends /build/cordon >/dev/null' \
  --customize-hook='chroot "$1" useradd --create-home builder' \
  --customize-hook='chroot "$1" chown -R builder: /build' \
  --customize-hook='chroot "$1" runuser -u builder -- sh -c "cd /build/cordon && dpkg-buildpackage -us -uc -b" >"$1/build/build.log" 2>&1 || { tail -n 60 "$1/build/build.log"; exit 1; }' \
  --customize-hook="$unbind_cache" \
  $SUITE "$tmp/build-root" "${sources[@]}" 2>"$tmp/mmdebstrap-build.log" \
  || { tail -n 80 "$tmp/mmdebstrap-build.log"; exit 1; }
cp "$tmp/build-root/build/"*.deb "$tmp/build-root/build/"*.changes "$tmp/build-root/build/"*.buildinfo "$tmp/out/"
tail -n 3 "$tmp/build-root/build/build.log"
rm -rf --one-file-system "$tmp/build-root"
[ -f "$tmp/out/$deb" ] || { echo "FAIL: no $deb built"; ls "$tmp/out"; exit 1; }

phase "lintian"
# Warnings are shown (docs/deployment.md lists the overridden ones); an error,
# or lintian itself failing, fails the test.
lintian --pedantic --allow-root --fail-on error "$tmp/out/"*.changes || {
  echo "FAIL: lintian reports errors (exit $?)"; exit 1; }

phase "install root ($SUITE, apt) + apt install ./$deb, checks"
mmdebstrap --variant=apt --mode=root --include=man-db "${cache_opts[@]}" \
  --customize-hook="copy-in '$tmp/out/$deb' '$SRC/tests/package/in-root.sh' /tmp" \
  --customize-hook="chroot \"\$1\" apt-get install -y -q --no-install-recommends /tmp/$deb >\"\$1/tmp/install.log\" 2>&1 || { tail -n 40 \"\$1/tmp/install.log\"; exit 1; }" \
  --customize-hook='grep -A3 "^Setting up cordon" "$1/tmp/install.log"' \
  --customize-hook='chroot "$1" bash /tmp/in-root.sh >"$1/root/in-root.log" 2>&1; rc=$?; cat "$1/root/in-root.log"; exit $rc' \
  --customize-hook="$unbind_cache" \
  $SUITE "$tmp/install-root" "${sources[@]}" 2>"$tmp/mmdebstrap-install.log" \
  || { grep -v '^I: ' "$tmp/mmdebstrap-install.log" | tail -n 80; exit 1; }
cat "$tmp/install-root/root/in-root.log"
grep -q '^in-root: all checks passed' "$tmp/install-root/root/in-root.log" || {
  echo "FAIL: the checks in the installed root did not finish"; exit 1; }
phase "done"
