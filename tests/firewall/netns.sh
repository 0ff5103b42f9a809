#!/bin/bash
# Firewall in network namespaces: cam — gw — core, gw — inet. gw routes and
# holds table inet cordon (applied by fw-tool through libnftnl). Proves that
# without the table the camera reaches everything, and with it nothing but
# the RTSP connection gw opens, on IPv4 and IPv6; that recorders alone reach
# the listen port; that the table outlives its process, re-applies without
# change, follows config edits, matches `plan`; and that the phone-home report
# names what the camera tried.
. "$(dirname "$0")/lib.sh"

netns_add cam
netns_add gw
netns_add core
netns_add inet
netns_add plan

netns_link cam eth0 "198.18.1.10/24 fd00:1::10/64" gw cam0 "198.18.1.1/24 fd00:1::1/64"
netns_link core eth0 "198.18.2.10/24 198.18.2.20/24 fd00:2::10/64 fd00:2::20/64" gw core0 "198.18.2.1/24 fd00:2::1/64"
netns_link inet eth0 "198.18.3.100/24 fd00:3::100/64" gw inet0 "198.18.3.1/24 fd00:3::1/64"
nsx cam ip link set eth0 address 02:00:00:00:01:10
# Spare addresses for spoofing, never picked as a source unless bound to.
nsx cam ip addr add 198.18.1.99/24 dev eth0
nsx cam ip addr add fd00:1::99/64 dev eth0 nodad preferred_lft 0
for n in cam core inet; do
  last=$(case $n in cam) echo 1;; core) echo 2;; inet) echo 3;; esac)
  nsx $n ip route add default via 198.18.$last.1
  nsx $n ip -6 route add default via fd00:$last::1
done
nsx gw sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

write_config() {   # write_config FILE with-yard(0/1)
  {
    printf '[proxy]\nlisten = 0.0.0.0:8554\nuser = nobody\n\n[firewall]\nmode = gateway\ncamera-interface = cam0\n'
    printf 'core-interface = core0\nnflog-group = 77\n\n'
    printf '[camera:lobby]\nurl = rtsp://198.18.1.10:554/stream\nmac = 02:00:00:00:01:10\n\n'
    [ "$2" = 1 ] && printf '[camera:yard]\nurl = rtsp://[fd00:1::10]:554/stream\n\n'
    printf '[recorder:nvr1]\naddress = 198.18.2.10, fd00:2::10\nusername = nvr1\n'
    printf 'password-file = %s\ncameras = *\n' "$WORK/recorder.secret"
  } >"$1"
}
CONF=$WORK/cordon.conf
write_config "$CONF" 1
write_config "$WORK/lobby-only.conf" 0

# Listeners: TCP answers "hi"; UDP writes what it gets to a file.
for port in 80 554; do
  bg core "$WORK/core$port.log" socat TCP6-LISTEN:$port,fork,reuseaddr SYSTEM:'echo hi'
done
bg cam "$WORK/rtsp.log" socat TCP6-LISTEN:554,fork,reuseaddr SYSTEM:'echo rtsp'
bg gw "$WORK/listen.log" socat TCP6-LISTEN:8554,fork,reuseaddr SYSTEM:'echo cordon'
for port in 53 123; do
  bg inet "$WORK/u4-$port.log" socat -u UDP4-RECV:$port OPEN:"$WORK/udp4-$port",creat,append
  bg inet "$WORK/u6-$port.log" socat -u UDP6-RECV:$port,ipv6only=1 OPEN:"$WORK/udp6-$port",creat,append
done
sleep 0.5

# tcp_ok NS ADDR PORT [BIND]: a TCP connection gets the listener's greeting.
tcp_ok() {
  local bindopt=""
  [ -n "${4:-}" ] && bindopt=",bind=$4"
  local as=()
  [ -n "${AS_UID:-}" ] && as=(setpriv --reuid="$AS_UID" --regid="$AS_UID" --clear-groups)
  nsx "$1" timeout 4 "${as[@]}" socat -u "TCP:$2:$3,connect-timeout=1.5$bindopt" - 2>/dev/null | grep -q .
}
# as_uid UID CMD...: CMD's socat runs as UID (setpriv), as a worker would.
as_uid() { local uid=$1; shift; AS_UID=$uid "$@"; }
# udp_ok NS FAMILY ADDR PORT [BIND]: a datagram with a fresh token arrives.
udp_ok() {
  local token="t$RANDOM$RANDOM" bindopt=""
  [ -n "${5:-}" ] && bindopt=",bind=$5"
  echo "$token" | nsx "$1" socat -u - "UDP$2:$3:$4$bindopt" 2>/dev/null
  wait_until 2 grep -q "$token" "$WORK/udp$2-$4"
}
expect() {   # expect ok|blocked DESCRIPTION CMD...
  local want=$1 what=$2; shift 2
  if "$@"; then
    [ "$want" = ok ] && pass "$what" || fail "$what: got through"
  else
    [ "$want" = blocked ] && pass "$what" || fail "$what: blocked"
  fi
}
camera_attempts() {   # camera_attempts ok|blocked
  expect "$1" "camera → core tcp/80 v4 ($1)" tcp_ok cam 198.18.2.10 80
  expect "$1" "camera → core tcp/554 v6 ($1)" tcp_ok cam "[fd00:2::10]" 554
  expect "$1" "camera → inet udp/53 v4 ($1)" udp_ok cam 4 198.18.3.100 53
  expect "$1" "camera → inet udp/123 v6 ($1)" udp_ok cam 6 "[fd00:3::100]" 123
}
counter_of() { nsx gw "$FW" counters "$CONF" 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }'; }
ruleset_shape() { nsx gw nft list table inet cordon | sed -E 's/packets [0-9]+ bytes [0-9]+/packets N bytes N/'; }

say "control: no table"
camera_attempts ok
expect ok "camera → core tcp/554 v4 (no table)" tcp_ok cam 198.18.2.10 554
expect ok "camera → inet udp/53 v6 (no table)" udp_ok cam 6 "[fd00:3::100]" 53

say "apply"
nsx gw "$FW" apply "$CONF" || fail "fw-tool apply failed"
if nsx gw nft list table inet cordon >/dev/null 2>&1; then
  pass "table persists after the applying process exited"
else
  fail "table inet cordon missing after apply"
fi
nsx gw nft -j list table inet cordon | grep -q '"flags": *\[\?"owner' && fail "table is owner-bound"

bg gw "$WORK/phonehome.json" "$FW" listen "$CONF" 60
PHONEHOME_PID=$LAST_PID
wait_until 5 grep -q "fw-tool: listening" "$WORK/phonehome.json" || fail "phone-home listener did not start"

camera_attempts blocked
expect blocked "camera → inet udp/123 v4" udp_ok cam 4 198.18.3.100 123
expect blocked "camera → core tcp/80 v6" tcp_ok cam "[fd00:2::10]" 80
expect blocked "spoofed source 198.18.1.99 → inet udp/53" udp_ok cam 4 198.18.3.100 53 198.18.1.99
expect blocked "spoofed source fd00:1::99 → inet udp/53" udp_ok cam 6 "[fd00:3::100]" 53 "[fd00:1::99]"
expect blocked "camera → gw itself tcp/22 v4" tcp_ok cam 198.18.1.1 22
# A real DNS query from the camera, for the report's name.
nsx cam "$PY" - <<'EOF'
import socket, struct
def query(name):
    q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(query("vendor.example"), ("198.18.3.100", 53))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.sendto(query("p2p.cloud.example"), ("fd00:3::100", 53))
EOF

# Each camera's connection is its own ingest worker's: [proxy] worker-uid-base
# (61000) + the camera's place in the file. Not root's, not the other worker's.
expect ok "lobby's worker (uid 61000) → lobby RTSP tcp/554 v4" as_uid 61000 tcp_ok gw 198.18.1.10 554
expect ok "yard's worker (uid 61001) → yard RTSP tcp/554 v6" as_uid 61001 tcp_ok gw "[fd00:1::10]" 554
expect blocked "lobby's worker (uid 61000) → yard RTSP tcp/554 v6" as_uid 61000 tcp_ok gw "[fd00:1::10]" 554
expect blocked "daemon user nobody → lobby RTSP tcp/554 v4" as_uid 65534 tcp_ok gw 198.18.1.10 554
expect ok "root on gw → core host tcp/80" tcp_ok gw 198.18.2.10 80
expect blocked "lobby's worker (uid 61000) → core host tcp/80" as_uid 61000 tcp_ok gw 198.18.2.10 80
expect blocked "yard's worker (uid 61001) → core host tcp/554 v6" as_uid 61001 tcp_ok gw "[fd00:2::10]" 554
expect blocked "lobby's worker (uid 61000) → this host's RTSP port" as_uid 61000 tcp_ok gw 198.18.2.1 8554
expect ok "approved recorder 198.18.2.10 → gw:8554" tcp_ok core 198.18.2.1 8554 198.18.2.10
expect blocked "other core host 198.18.2.20 → gw:8554" tcp_ok core 198.18.2.1 8554 198.18.2.20
expect ok "approved recorder fd00:2::10 → gw:8554" tcp_ok core "[fd00:2::1]" 8554 "[fd00:2::10]"
expect blocked "other core host fd00:2::20 → gw:8554" tcp_ok core "[fd00:2::1]" 8554 "[fd00:2::20]"
expect ok "gw's own traffic to core is untouched" tcp_ok gw 198.18.2.10 80

lobby=$(counter_of lobby); yard=$(counter_of yard); unknown=$(counter_of '(unknown)')
say "counters: lobby=${lobby:-?} yard=${yard:-?} unknown=${unknown:-?}"
[ "${lobby:-0}" -ge 3 ] && pass "lobby's IPv4 attempts counted" || fail "lobby counter ${lobby:-missing}"
[ "${yard:-0}" -ge 3 ] && pass "yard's IPv6 attempts counted" || fail "yard counter ${yard:-missing}"
[ "${unknown:-0}" -ge 2 ] && pass "spoofed sources counted as unknown" || fail "unknown counter ${unknown:-missing}"

say "phone-home report"
sleep 0.5
stop_pid "$PHONEHOME_PID"
report=$WORK/phonehome.json
grep '^{' "$report" >&2 || true
check_report() {   # check_report DESCRIPTION PATTERN
  if grep '^{' "$report" | grep -q -- "$2"; then pass "report: $1"; else fail "report: $1 missing"; fi
}
check_report "lobby udp 198.18.3.100:53 with its DNS name" '"camera": "lobby", "protocol": "udp", "destination": "198.18.3.100", "port": 53, "dns": "vendor.example"'
check_report "yard udp [fd00:3::100]:53 with its DNS name" '"camera": "yard", "protocol": "udp", "destination": "fd00:3::100", "port": 53, "dns": "p2p.cloud.example"'
check_report "lobby tcp 198.18.2.10:80" '"camera": "lobby", "protocol": "tcp", "destination": "198.18.2.10", "port": 80'
check_report "yard udp [fd00:3::100]:123" '"camera": "yard", "protocol": "udp", "destination": "fd00:3::100", "port": 123'
check_report "spoofed source under no camera" '"camera": null, "protocol": "udp", "destination": "198.18.3.100", "port": 53'

say "re-apply the same configuration"
before=$(ruleset_shape); lobby_before=$(counter_of lobby)
nsx gw "$FW" apply "$CONF" || fail "re-apply failed"
after=$(ruleset_shape); lobby_after=$(counter_of lobby)
[ "$before" = "$after" ] && pass "re-apply leaves the ruleset identical" || { fail "re-apply changed the ruleset"; diff <(echo "$before") <(echo "$after") >&2; }
[ -n "$lobby_before" ] && [ "$lobby_before" = "$lobby_after" ] && pass "re-apply keeps the counters ($lobby_after)" || fail "counter lobby $lobby_before → $lobby_after"

say "plan matches what apply loaded"
nsx gw "$FW" plan "$CONF" >"$WORK/plan.nft" || fail "plan failed"
nsx plan nft -f "$WORK/plan.nft" || fail "nft -f plan refused the plan"
normalise() {
  "$PY" -c '
import json, sys
out = []
for o in json.load(sys.stdin)["nftables"]:
    if "metainfo" in o:
        continue
    for kind, v in o.items():
        v.pop("handle", None)
        if kind == "counter":
            v["packets"] = v["bytes"] = 0
        for e in v.get("expr", []):
            if isinstance(e.get("counter"), dict):
                e["counter"] = {"packets": 0, "bytes": 0}
    out.append(json.dumps(o, sort_keys=True))
print("\n".join(out))'
}
nsx gw nft -j list table inet cordon | normalise >"$WORK/applied.json"
nsx plan nft -j list table inet cordon | normalise >"$WORK/planned.json"
if [ -s "$WORK/applied.json" ] && cmp -s "$WORK/applied.json" "$WORK/planned.json"; then
  pass "plan and applied table are the same ($(grep -c '"rule"' "$WORK/applied.json") rules)"
else
  fail "plan and applied table differ"; diff "$WORK/applied.json" "$WORK/planned.json" >&2 | head -20
fi

say "drop camera yard from the configuration"
nsx gw "$FW" apply "$WORK/lobby-only.conf" || fail "apply without yard failed"
list=$(nsx gw nft list table inet cordon)
echo "$list" | grep -q 'counter camera_yard' && fail "yard's counter still there" || pass "yard's counter deleted"
echo "$list" | grep -q 'fd00:1::10' && fail "yard's address still there" || pass "yard's address gone"
echo "$list" | grep -q 'counter camera_lobby' && pass "lobby's counter still there" || fail "lobby's counter gone"
[ "$(counter_of lobby)" = "$lobby_after" ] && pass "lobby's counter value kept" || fail "lobby's counter reset"
expect blocked "camera → core tcp/80 v4 (lobby only)" tcp_ok cam 198.18.2.10 80

say "a refused batch leaves the table untouched"
before=$(ruleset_shape)
nsx gw "$FW" apply-broken "$CONF" 2>"$WORK/bad.err" && fail "a rule jumping to no chain was accepted"
say "$(cat "$WORK/bad.err")"
grep -q "No such file or directory" "$WORK/bad.err" && pass "the error keeps errno's text" || fail "error text: $(cat "$WORK/bad.err")"
[ "$before" = "$(ruleset_shape)" ] && pass "failed apply changed nothing" || fail "failed apply changed the table"

say "remove"
nsx gw "$FW" remove "$CONF" || fail "remove failed"
nsx gw nft list table inet cordon >/dev/null 2>&1 && fail "table still there after remove" || pass "table removed"
nsx gw "$FW" remove "$CONF" && pass "remove without a table succeeds" || fail "second remove failed"
camera_attempts ok

finish
