#!/bin/bash
# The privilege model, proven per thread from /proc:
#   media_process_threads_have_no_privileges: after the drop every thread of
#     the probe (GStreamer's included) has non-root uids, empty CapEff, CapPrm,
#     CapInh, CapAmb and CapBnd, and NoNewPrivs 1;
#   fw_helper_keeps_only_net_admin: the helper has CAP_NET_ADMIN only;
#   unprivileged_process_applies_through_helper: the probe, no longer root,
#     cannot apply rules itself but has the helper apply what is on disk;
#   helper_refuses_other_commands, drop_refuses_root, drop_refuses_threads,
#   helper_dies_with_parent.
# Usage: privileges.sh PATH/TO/priv-probe  (root; builds its own namespaces)
. "$(dirname "$0")/../lib/netns.sh"
require_root
PROBE=${1:?usage: privileges.sh priv-probe}
USER_NAME=nobody
id -u "$USER_NAME" >/dev/null 2>&1 || { echo "SKIP: no user $USER_NAME"; exit 77; }

netns_add gw
netns_add cam
netns_add core
netns_link gw cam0 "198.18.1.1/24" cam eth0 "198.18.1.10/24"
netns_link gw eth0 "198.18.0.1/24" core eth0 "198.18.0.5/24"

mkdir -p "$WORK/secrets"
chmod 700 "$WORK/secrets"
secret "$WORK/secrets/cam" camera-secret
secret "$WORK/secrets/nvr" recorder-secret
cat >"$WORK/cordon.conf" <<CONF
[proxy]
listen = 0.0.0.0:8554
user = $USER_NAME
status = off

[firewall]
mode = gateway
camera-interface = cam0
core-interface = eth0

[camera:lobby]
url = rtsp://198.18.1.10/Streaming/Channels/101
username = admin
password-file = secrets/cam

[recorder:nvr1]
address = 198.18.0.5
username = nvr1
password-file = secrets/nvr
cameras = lobby
CONF

# field FILE NAME: the value of "NAME:" in a /proc status file, tabs as spaces.
field() { sed -n "s/^$2:[[:space:]]*//p" "$1" | tr '\t' ' '; }

alive() {
  [ -r "/proc/$1/status" ] && [ "$(field "/proc/$1/status" State | cut -c1)" != Z ]
}

if nsx gw nft list table inet cordon >/dev/null 2>&1; then
  fail "table inet cordon exists before the test applied anything"
fi

bg gw "$WORK/probe.log" "$PROBE" run "$WORK/cordon.conf" "$USER_NAME"
PROBE_PID=$LAST_PID
if ! wait_until 30 grep -q '^READY ' "$WORK/probe.log"; then
  cat "$WORK/probe.log" >&2
  die "probe did not get ready"
fi
cat "$WORK/probe.log" >&2
read -r _ pid helper < <(grep '^READY ' "$WORK/probe.log")
[ "$pid" = "$PROBE_PID" ] || fail "probe reports pid $pid, started $PROBE_PID"

# media_process_threads_have_no_privileges
threads=0
zero=0000000000000000
for status in /proc/"$pid"/task/*/status; do
  tid=${status#/proc/$pid/task/}; tid=${tid%/status}
  name=$(field "$status" Name)
  threads=$((threads + 1))
  for u in $(field "$status" Uid) $(field "$status" Gid); do
    [ "$u" != 0 ] || fail "thread $tid ($name): Uid/Gid contains 0: $(field "$status" Uid) / $(field "$status" Gid)"
  done
  for cap in CapInh CapPrm CapEff CapAmb CapBnd; do
    v=$(field "$status" $cap)
    [ "$v" = $zero ] || fail "thread $tid ($name): $cap = $v"
  done
  [ "$(field "$status" NoNewPrivs)" = 1 ] || fail "thread $tid ($name): NoNewPrivs = $(field "$status" NoNewPrivs)"
done
say "probe threads: $threads"
[ "$threads" -ge 4 ] || fail "expected the probe to run at least 4 threads after the drop, found $threads"
[ "$FAILURES" = 0 ] && pass "media_process_threads_have_no_privileges ($threads threads)"

# fw_helper_keeps_only_net_admin
before=$FAILURES
hs=/proc/$helper/status
[ -r "$hs" ] || fail "helper $helper not running"
[ "$(field "$hs" PPid)" = "$pid" ] || fail "helper's parent is $(field "$hs" PPid), not the probe"
[ "$(cat /proc/"$helper"/comm)" = cordon-fwhelper ] || fail "helper is named $(cat /proc/"$helper"/comm)"
[ "$(ls /proc/"$helper"/task | wc -l)" = 1 ] || fail "helper has more than one thread"
for cap in CapPrm CapEff CapBnd; do
  [ "$(field "$hs" $cap)" = 0000000000001000 ] || fail "helper $cap = $(field "$hs" $cap), want CAP_NET_ADMIN only"
done
for cap in CapInh CapAmb; do
  [ "$(field "$hs" $cap)" = $zero ] || fail "helper $cap = $(field "$hs" $cap)"
done
[ "$(field "$hs" NoNewPrivs)" = 1 ] || fail "helper NoNewPrivs = $(field "$hs" NoNewPrivs)"
# Only the command socket and stdio: no inherited root-opened descriptors.
fds=$(ls /proc/"$helper"/fd | sort -n | tr '\n' ' ')
[ "$fds" = "0 1 2 3 " ] || fail "helper has descriptors: $fds"
[ "$FAILURES" = "$before" ] && pass "fw_helper_keeps_only_net_admin"

# helper_refuses_other_commands
before=$FAILURES
grep -qx 'UNKNOWN error: unknown command' "$WORK/probe.log" || fail "helper accepted or mis-answered a rule"
grep -qx 'OVERSIZE error: unknown command' "$WORK/probe.log" || fail "helper mis-answered an oversized command"
grep -q '^COUNTERS.* lobby=[0-9]' "$WORK/probe.log" || fail "counters through the helper: $(grep '^COUNTERS' "$WORK/probe.log")"
grep -qx 'APPLY ok' "$WORK/probe.log" || fail "apply through the helper: $(grep '^APPLY' "$WORK/probe.log")"
[ "$FAILURES" = "$before" ] && pass "helper_refuses_other_commands (and answers apply, counters)"

# unprivileged_process_applies_through_helper
before=$FAILURES
grep -q '^DIRECT error: ' "$WORK/probe.log" || fail "the unprivileged probe applied rules by itself: $(grep '^DIRECT' "$WORK/probe.log")"
nsx gw nft list table inet cordon >"$WORK/table.nft" 2>&1 || fail "no table inet cordon after apply through the helper"
[ "$FAILURES" = "$before" ] && pass "unprivileged_process_applies_through_helper"

# drop_refuses_root, drop_refuses_threads, unprivileged (developer) path
if nsx gw "$PROBE" refuse-root >"$WORK/root.log" 2>&1; then pass "drop_refuses_root"; else cat "$WORK/root.log" >&2; fail "drop_refuses_root"; fi
if nsx gw "$PROBE" refuse-threaded "$USER_NAME" >"$WORK/thr.log" 2>&1; then pass "drop_refuses_threads"; else cat "$WORK/thr.log" >&2; fail "drop_refuses_threads"; fi
if nsx gw setpriv --reuid="$USER_NAME" --regid="$(id -g "$USER_NAME")" --clear-groups "$PROBE" dev "$USER_NAME" >"$WORK/dev.log" 2>&1 \
   && grep -q '^DEV ok' "$WORK/dev.log" && grep -q 'CapEff=0000000000000000.*NoNewPrivs=1' "$WORK/dev.log"; then
  pass "unprivileged_start_only_clears"
else
  cat "$WORK/dev.log" >&2; fail "unprivileged_start_only_clears"
fi

# helper_dies_with_parent
stop_pid "$PROBE_PID" TERM
if wait_until 5 sh -c "! { [ -r /proc/$helper/status ] && ! grep -q '^State:.*Z' /proc/$helper/status; }"; then
  pass "helper_dies_with_parent"
else
  fail "helper $helper still running after its parent stopped"
  kill -KILL "$helper" 2>/dev/null || true
fi

finish
