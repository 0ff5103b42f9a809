# Shared helpers for cordon's network-namespace tests (bash; source it).
#
# Every namespace is named cordon-<run id>-<name>, joined only to other
# namespaces of the same run by veth pairs (never to the root namespace), and
# removed by the EXIT trap, also when a test fails. Only processes started here
# (by PID) are stopped. Addresses: 198.18.0.0/15 and fd00::/8.

set -u
declare -A NS=()
CORDON_PIDS=()
RUN_ID="$$-$RANDOM"
BUILD=${CORDON_BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
SRC=${CORDON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CORDON=$BUILD/proxy/cordon
TESTCAM=$BUILD/tests/testcam/cordon-testcam
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/cordon-test-XXXXXX)
chmod 755 "$WORK"
FAILURES=0

say() { printf '# %s\n' "$*" >&2; }
fail() { printf 'FAIL: %s\n' "$*" >&2; FAILURES=$((FAILURES + 1)); }
pass() { printf 'ok: %s\n' "$*" >&2; }
die() { printf 'FATAL: %s\n' "$*" >&2; exit 1; }

netns_cleanup() {
  local pid ns
  for pid in "${CORDON_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${CORDON_PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for ns in "${NS[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  if [ "${KEEP_WORK:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap netns_cleanup EXIT
trap 'exit 130' INT TERM

require_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root for network namespaces"
    exit 77
  fi
}

# netns_add NAME: a fresh namespace with loopback up.
netns_add() {
  local full="cordon-$RUN_ID-$1"
  ip netns add "$full" || die "cannot create namespace $full"
  NS[$1]=$full
  ip -n "$full" link set lo up
  ip netns exec "$full" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 >/dev/null
}

# nsx NAME CMD...: run CMD inside namespace NAME.
nsx() {
  local n=$1; shift
  ip netns exec "${NS[$n]}" "$@"
}

# netns_link A IFA "ADDR..." B IFB "ADDR...": a veth pair between two namespaces.
netns_link() {
  local a=$1 ifa=$2 addra=$3 b=$4 ifb=$5 addrb=$6 addr
  local tmpa="ca$$$RANDOM" tmpb="cb$$$RANDOM"
  tmpa=${tmpa:0:15}; tmpb=${tmpb:0:15}
  ip link add "$tmpa" netns "${NS[$a]}" type veth peer name "$tmpb" netns "${NS[$b]}" || die "veth $a-$b"
  ip -n "${NS[$a]}" link set "$tmpa" name "$ifa"
  ip -n "${NS[$b]}" link set "$tmpb" name "$ifb"
  for addr in $addra; do ip -n "${NS[$a]}" addr add "$addr" dev "$ifa" nodad 2>/dev/null || ip -n "${NS[$a]}" addr add "$addr" dev "$ifa"; done
  for addr in $addrb; do ip -n "${NS[$b]}" addr add "$addr" dev "$ifb" nodad 2>/dev/null || ip -n "${NS[$b]}" addr add "$addr" dev "$ifb"; done
  ip -n "${NS[$a]}" link set "$ifa" up
  ip -n "${NS[$b]}" link set "$ifb" up
  wait_until 5 sh -c "ip -n ${NS[$a]} link show $ifa | grep -q 'state UP'" || true
}

# bg NAME LOG CMD...: start CMD in namespace NAME (or "-" for this one) in the
# background, output to LOG; sets LAST_PID.
bg() {
  local n=$1 log=$2; shift 2
  if [ "$n" = - ]; then
    "$@" >"$log" 2>&1 &
  else
    ip netns exec "${NS[$n]}" "$@" >"$log" 2>&1 &
  fi
  LAST_PID=$!
  CORDON_PIDS+=("$LAST_PID")
}

# stop_pid PID [SIGNAL]: stop one process this test started.
stop_pid() {
  kill "-${2:-TERM}" "$1" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# wait_until SECONDS CMD...: poll CMD until it succeeds; fails after SECONDS.
wait_until() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  while [ $SECONDS -lt $end ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# secret FILE TEXT: a password file as a site would keep it: root-owned,
# readable by the group cordon drops to (here nogroup, with user = nobody),
# since reload re-reads secrets after privileges are dropped.
secret() {
  (umask 077; printf '%s\n' "$2" >"$1")
  chgrp nogroup "$1" && chmod 640 "$1"
}

# finish: exit status for meson from the recorded failures.
finish() {
  if [ "$FAILURES" -gt 0 ]; then
    echo "$FAILURES check(s) failed"
    exit 1
  fi
  echo "all checks passed"
  exit 0
}
