#!/bin/bash
# `cordon check`: exit 0 on the example configuration in docs/, exit 1 with
# every expected message on each bad fixture in tests/config/.
set -u
BUILD=${CORDON_BUILD_DIR:?}
SRC=${CORDON_SOURCE_DIR:?}
CORDON=$BUILD/proxy/cordon
WORK=$(mktemp -d /tmp/cordon-check-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The example refers to secrets next to it, as /etc/cordon/secrets/ would be.
mkdir -p "$WORK/example/secrets"
cp "$SRC/docs/cordon.conf.example" "$WORK/example/cordon.conf"
for s in lobby yard nvr1 nvr2; do (umask 077; echo "secret-$s" >"$WORK/example/secrets/$s"); done
if out=$("$CORDON" check --config "$WORK/example/cordon.conf" 2>&1); then
  echo "ok: docs/cordon.conf.example: $out"
else
  fail "docs/cordon.conf.example does not pass cordon check: $out"
fi

# Bad fixtures: private copies with the modes and owners their names give
# (git keeps neither; tests/unit/test-config.c does the same).
cp -r "$SRC/tests/config" "$WORK/config"
chmod 600 "$WORK"/config/secrets/* "$WORK"/config/open-dir/*
chmod 644 "$WORK"/config/secrets/*public*
chmod 620 "$WORK"/config/secrets/*group-writable*
chmod 777 "$WORK"/config/open-dir
[ "$(id -u)" = 0 ] && chown 65534:65534 "$WORK"/config/secrets/*nobody*
for conf in "$WORK"/config/bad-*.conf; do
  base=${conf%.conf}
  case $conf in *owner*) [ "$(id -u)" = 0 ] || continue ;; esac
  "$CORDON" check --config "$conf" >"$WORK/out" 2>&1
  rc=$?
  [ $rc = 1 ] || fail "$(basename "$conf"): exit $rc, want 1"
  if [ -f "$base.err" ]; then
    sed -e "s|$conf|FILE|g" -e "s|$WORK/config|DIR|g" "$WORK/out" >"$WORK/got"
    diff -u "$base.err" "$WORK/got" >/dev/null || fail "$(basename "$conf"): messages differ: $(diff -u "$base.err" "$WORK/got")"
  fi
done
# Valid but weak: a camera without mac = and a short recorder password are
# warned about, and check still passes.
mkdir -p "$WORK/weak"
(umask 077; echo short-pw >"$WORK/weak/nvr"; echo a-long-enough-password >"$WORK/weak/long")
cat >"$WORK/weak/cordon.conf" <<CONF
[firewall]
mode = host
camera-interface = cam0
[camera:lobby]
url = rtsp://198.18.1.10/
[camera:yard]
url = rtsp://198.18.1.11/
mac = 00:11:22:33:44:55
[recorder:nvr1]
address = 198.18.2.5
username = nvr1
password-file = nvr
cameras = *
[recorder:nvr2]
address = 198.18.2.6
username = nvr2
password-file = long
cameras = *
CONF
if out=$("$CORDON" check --config "$WORK/weak/cordon.conf" 2>&1); then
  grep -q "warning: .*\[camera:lobby\] mac: not set" <<<"$out" || fail "no warning for a camera without mac =: $out"
  grep -q "\[camera:yard\] mac" <<<"$out" && fail "a warning for a camera with mac =: $out"
  grep -q "warning: .*\[recorder:nvr1\] password-file: the password has 8 characters" <<<"$out" \
    || fail "no warning for a short recorder password: $out"
  grep -q "\[recorder:nvr2\]" <<<"$out" && fail "a warning for a long password: $out"
  grep -q "short-pw" <<<"$out" && fail "the password itself was printed"
  echo "ok: weak settings warned about"
else
  fail "a weak but valid configuration failed check: $out"
fi
"$CORDON" check --config "$WORK/none.conf" >/dev/null 2>&1 && fail "a missing file passed check"
"$CORDON" frobnicate >/dev/null 2>&1; [ $? = 2 ] || fail "an unknown command did not exit 2"
[ $failures = 0 ] && echo "all checks passed" || exit 1
