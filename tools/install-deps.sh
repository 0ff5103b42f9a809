#!/bin/sh
# Installs what cordon needs to build, test and run its demo on Debian 12.
# Idempotent: installs only what is missing. Run as root.
set -eu

PACKAGES="
meson ninja-build pkg-config gcc clang libclang-rt-14-dev llvm
libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
libgstreamer-plugins-bad1.0-dev libgstrtspserver-1.0-dev libavcodec-dev libavutil-dev
gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
gstreamer1.0-rtsp gstreamer1.0-x fonts-dejavu-core
libnftnl-dev libmnl-dev libcap-dev libseccomp-dev libsrtp2-dev libsoup-3.0-dev libxml2-dev libsystemd-dev
nftables iproute2 iputils-ping socat netcat-openbsd tcpdump ffmpeg openssl
python3 python3-prometheus-client python3-gi gir1.2-gst-rtsp-server-1.0 systemd gdb chromium curl
debhelper lintian mmdebstrap prometheus
"
# debhelper, lintian, mmdebstrap: the package suite (tests/package/package.sh).
# prometheus: its promtool checks monitoring/ (unit suite). On a host that
# starts services this also starts a Prometheus server; it is not needed.

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The ONVIF tests drive cordon with the npm `onvif` client: Node.js and npm
# from Debian unless the machine already has them.
command -v npm >/dev/null || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
  echo "install-deps: installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi
