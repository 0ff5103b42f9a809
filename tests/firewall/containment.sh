#!/bin/bash
# Containment that does not hang on the interface name, in every mode:
#  - host mode on a host with forwarding on: a camera that routes through the
#    host reaches nothing, and nothing is routed to it;
#  - the camera NIC renamed under the table: the camera is still contained by
#    its addresses, cordon's RTSP connection still works, and `cordon check`
#    says the camera interface is missing; a camera address arriving on the
#    core interface is not routed either, and counts as that camera;
#  - a related ICMP error from one camera about cordon's connection to another
#    camera is refused; the same error from the camera itself passes;
#  - a camera flooding the log next to one making a single attempt: the
#    report shows both (per-camera log budget);
#  - as cordon's [proxy] user on the cordon host, TCP and DNS to core and
#    internet hosts fail and are counted; only the cameras' RTSP ports open.
. "$(dirname "$0")/lib.sh"

netns_add cam
netns_add gw
netns_add core
netns_add inet

netns_link cam eth0 "198.18.1.10/24 198.18.1.11/24 fd00:1::12/64" gw cam0 "198.18.1.1/24 fd00:1::1/64"
netns_link core eth0 "198.18.2.10/24 fd00:2::10/64" gw core0 "198.18.2.1/24 fd00:2::1/64"
netns_link inet eth0 "198.18.3.100/24 fd00:3::100/64" gw inet0 "198.18.3.1/24 fd00:3::1/64"
for n in cam core inet; do
  last=$(case $n in cam) echo 1;; core) echo 2;; inet) echo 3;; esac)
  nsx $n ip route add default via 198.18.$last.1
  nsx $n ip -6 route add default via fd00:$last::1
done
nsx gw sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

write_config() {   # write_config FILE MODE
  {
    printf '[proxy]\nlisten = 0.0.0.0:8554\nuser = nobody\n\n[firewall]\nmode = %s\ncamera-interface = cam0\n' "$2"
    [ "$2" = gateway ] && printf 'core-interface = core0\n'
    printf 'nflog-group = 78\n\n'
    printf '[camera:lobby]\nurl = rtsp://198.18.1.10:554/stream\n\n'
    printf '[camera:yard]\nurl = rtsp://198.18.1.11:554/stream\n\n'
    printf '[camera:dome]\nurl = rtsp://[fd00:1::12]:554/stream\n\n'
    printf '[recorder:nvr1]\naddress = 198.18.2.10, fd00:2::10\nusername = nvr1\n'
    printf 'password-file = %s\ncameras = *\n' "$WORK/recorder.secret"
  } >"$1"
}
HOST=$WORK/host.conf
GATEWAY=$WORK/gateway.conf
write_config "$HOST" host
write_config "$GATEWAY" gateway

for port in 80 53; do
  bg core "$WORK/core$port.log" socat TCP6-LISTEN:$port,fork,reuseaddr SYSTEM:'echo hi'
  bg inet "$WORK/inet$port.log" socat TCP6-LISTEN:$port,fork,reuseaddr SYSTEM:'echo hi'
done
bg cam "$WORK/rtsp.log" socat TCP6-LISTEN:554,fork,reuseaddr SYSTEM:'echo rtsp; sleep 30'
bg gw "$WORK/gw22.log" socat TCP6-LISTEN:22,fork,reuseaddr SYSTEM:'echo ssh'
bg cam "$WORK/cam80.log" socat TCP6-LISTEN:80,fork,reuseaddr SYSTEM:'echo cam'
for n in core inet; do
  bg $n "$WORK/$n-u53.log" socat -u UDP4-RECV:53 OPEN:"$WORK/udp-$n-53",creat,append
done
bg core "$WORK/core-u5000.log" socat -u UDP4-RECV:5000 OPEN:"$WORK/udp-core-5000",creat,append
sleep 0.5

tcp_ok() {   # tcp_ok NS ADDR PORT [BIND]
  local bindopt=""
  [ -n "${4:-}" ] && bindopt=",bind=$4"
  nsx "$1" timeout 4 socat -u "TCP:$2:$3,connect-timeout=1.5$bindopt" - 2>/dev/null | grep -q .
}
expect() {   # expect ok|blocked DESCRIPTION CMD...
  local want=$1 what=$2; shift 2
  if "$@"; then
    [ "$want" = ok ] && pass "$what" || fail "$what: got through"
  else
    [ "$want" = blocked ] && pass "$what" || fail "$what: blocked"
  fi
}
counter_of() { nsx gw "$FW" counters "$1" 2>/dev/null | awk -v n="$2" '$1 == n { print $2 }'; }

say "host mode, forwarding on, camera routes through the host"
nsx gw "$FW" apply "$HOST" 2>"$WORK/apply-host.err" || fail "apply host mode: $(cat "$WORK/apply-host.err")"
grep -q "forwarding is on" "$WORK/apply-host.err" && pass "apply warns that forwarding is on in host mode" \
  || fail "no forwarding warning: $(cat "$WORK/apply-host.err")"
expect blocked "host mode: camera → core tcp/80 v4 (routed)" tcp_ok cam 198.18.2.10 80 198.18.1.10
expect blocked "host mode: camera → inet tcp/53 v6 (routed)" tcp_ok cam "[fd00:3::100]" 53 "[fd00:1::12]"
expect blocked "host mode: core → camera tcp/80 (routed)" tcp_ok core 198.18.1.10 80
expect blocked "host mode: core → camera v6 tcp/80 (routed)" tcp_ok core "[fd00:1::12]" 80
expect ok "host mode: gw → camera RTSP" tcp_ok gw 198.18.1.10 554
expect ok "host mode: core ↔ inet still routed" tcp_ok core 198.18.3.100 80

say "gateway mode, camera NIC renamed under the table"
nsx gw sysctl -qw net.ipv6.conf.cam0.keep_addr_on_down=1
nsx gw "$FW" apply "$GATEWAY" || fail "apply gateway mode"
expect blocked "camera → core tcp/80 (before rename)" tcp_ok cam 198.18.2.10 80 198.18.1.10
nsx gw ip link set cam0 down
nsx gw ip link set cam0 name camnew
nsx gw ip link set camnew up
nsx cam ip route replace default via 198.18.1.1
nsx cam ip -6 route replace default via fd00:1::1
sleep 0.5
expect blocked "renamed NIC: camera → core tcp/80 v4" tcp_ok cam 198.18.2.10 80 198.18.1.10
expect blocked "renamed NIC: camera → inet tcp/53 v6" tcp_ok cam "[fd00:3::100]" 53 "[fd00:1::12]"
expect blocked "renamed NIC: camera → gw tcp/22" tcp_ok cam 198.18.1.1 22 198.18.1.11
expect blocked "renamed NIC: core → camera tcp/80" tcp_ok core 198.18.1.10 80
expect blocked "renamed NIC: gw → camera tcp/80 (not its RTSP port)" tcp_ok gw 198.18.1.10 80
expect ok "renamed NIC: gw → camera RTSP still works" tcp_ok gw 198.18.1.10 554
expect ok "renamed NIC: gw → v6 camera RTSP still works" tcp_ok gw "[fd00:1::12]" 554
if [ -x "$CORDON" ]; then
  nsx gw "$CORDON" check --config "$GATEWAY" >"$WORK/check.out" 2>&1
  grep -q 'camera-interface "cam0" is not present' "$WORK/check.out" \
    && pass "cordon check reports the missing camera interface" || fail "check: $(cat "$WORK/check.out")"
fi
nsx gw "$FW" apply "$GATEWAY" 2>"$WORK/apply-missing.err"
grep -q 'camera-interface "cam0" is not present' "$WORK/apply-missing.err" \
  && pass "apply reports the missing camera interface" || fail "apply: $(cat "$WORK/apply-missing.err")"
nsx gw ip link set camnew down
nsx gw ip link set camnew name cam0
nsx gw ip link set cam0 up
nsx cam ip route replace default via 198.18.1.1
nsx cam ip -6 route replace default via fd00:1::1
sleep 0.5

say "a camera address arriving on another interface"
bg inet "$WORK/inet-u9.log" socat -u UDP4-RECV:9 OPEN:"$WORK/udp-inet-9",creat,append
nsx core ip addr add 198.18.1.10/32 dev eth0
sleep 0.3
lobby0=$(counter_of "$GATEWAY" lobby)
echo spoof | nsx core socat -u - UDP4:198.18.3.100:9,bind=198.18.1.10 2>/dev/null
sleep 0.5
[ -s "$WORK/udp-inet-9" ] && fail "camera address from the core side was routed" \
  || pass "camera address from the core side is not routed"
[ "$(counter_of "$GATEWAY" lobby)" -gt "$lobby0" ] && pass "and is counted as that camera" || fail "not counted"
nsx core ip addr del 198.18.1.10/32 dev eth0

say "related ICMP only for the camera's own connections"
bg gw "$WORK/hold.log" socat -u TCP:198.18.1.11:554,bind=198.18.1.1:40011 -
sleep 0.5
# icmp_error FROM: an ICMP port-unreachable from FROM quoting gw's TCP
# segment 198.18.1.1:40011 → yard 198.18.1.11:554 (conntrack: related).
icmp_error() {
  nsx cam "$PY" - "$1" <<'EOF'
import socket, struct, sys
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
src, dst = socket.inet_aton("198.18.1.1"), socket.inet_aton("198.18.1.11")
inner = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0, src, dst)
inner = inner[:10] + struct.pack("!H", csum(inner)) + inner[12:]
inner += struct.pack("!HHI", 40011, 554, 1)
msg = struct.pack("!BBHI", 3, 3, 0, 0) + inner
msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.bind((sys.argv[1], 0))
s.sendto(msg, ("198.18.1.1", 0))
EOF
}
lobby0=$(counter_of "$GATEWAY" lobby); yard0=$(counter_of "$GATEWAY" yard)
icmp_error 198.18.1.10
icmp_error 198.18.1.11
sleep 0.3
lobby1=$(counter_of "$GATEWAY" lobby); yard1=$(counter_of "$GATEWAY" yard)
[ "$((lobby1 - lobby0))" -ge 1 ] && pass "lobby's ICMP error about yard's connection refused ($lobby0 → $lobby1)" \
  || fail "lobby's ICMP error about yard's connection accepted ($lobby0 → $lobby1)"
[ "$yard1" = "$yard0" ] && pass "yard's ICMP error about its own connection accepted" \
  || fail "yard's own ICMP error refused ($yard0 → $yard1)"

say "one camera floods the log, another makes a single attempt"
bg gw "$WORK/report.json" "$FW" listen "$GATEWAY" 60
REPORT_PID=$LAST_PID
wait_until 5 grep -q "fw-tool: listening" "$WORK/report.json" || fail "report listener did not start"
nsx cam "$PY" - <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.1.10", 0))
for i in range(3000):
    s.sendto(b"x", ("198.18.3.100", 1000 + i % 500))
y = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
y.bind(("198.18.1.11", 0))
y.sendto(b"y", ("198.18.3.100", 4444))
EOF
sleep 0.5
stop_pid "$REPORT_PID"
grep -q '"camera": "lobby"' "$WORK/report.json" && pass "report shows the flooding camera" \
  || fail "flooding camera missing from the report"
grep -q '"camera": "yard", "protocol": "udp", "destination": "198.18.3.100", "port": 4444' "$WORK/report.json" \
  && pass "report shows the single attempt next to the flood" || fail "single attempt hidden by the flood"

say "cordon's own egress: [proxy] user reaches no camera; each ingest worker only its camera's RTSP port"
as_user() { nsx gw setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
dns_query() {   # dns_query ADDR: one DNS query to ADDR:53 as cordon's user
  as_user "$PY" -c '
import socket, struct, sys
q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\x06exfilt\x07example\x00" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(q, (sys.argv[1], 53))
except OSError:
    pass' "$1"
}
tcp_as_user() { as_user timeout 4 socat -u "TCP:$1:$2,connect-timeout=1.5" - 2>/dev/null | grep -q .; }
egress0=$(counter_of "$GATEWAY" '(egress)')
expect blocked "cordon's user → core tcp/80" tcp_as_user 198.18.2.10 80
expect blocked "cordon's user → internet tcp/80" tcp_as_user 198.18.3.100 80
expect blocked "cordon's user → core tcp/80 v6" tcp_as_user "[fd00:2::10]" 80
expect blocked "cordon's user → camera tcp/80 (not its RTSP port)" tcp_as_user 198.18.1.10 80
dns_query 198.18.2.10
dns_query 198.18.3.100
sleep 0.5
[ -s "$WORK/udp-core-53" ] && fail "cordon's user: DNS query reached the core host" || pass "cordon's user: DNS to core refused"
[ -s "$WORK/udp-inet-53" ] && fail "cordon's user: DNS query reached the internet host" || pass "cordon's user: DNS to internet refused"
rtp_to_recorder() {
  as_user "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"rtp", ("198.18.2.10", 5000))'
  wait_until 2 test -s "$WORK/udp-core-5000"
}
expect ok "cordon's user → recorder udp/5000 (RTP over UDP)" rtp_to_recorder
# Cameras are pulled by their ingest workers (uid worker-uid-base + index):
# the daemon's user reaches none, each worker only its own camera.
expect blocked "cordon's user → camera RTSP (the workers pull the cameras)" tcp_as_user 198.18.1.10 554
tcp_as_uid() { nsx gw setpriv --reuid="$1" --regid="$1" --clear-groups timeout 4 socat -u "TCP:$2:$3,connect-timeout=1.5" - 2>/dev/null | grep -q .; }
expect ok "lobby's worker (uid 61000) → lobby RTSP" tcp_as_uid 61000 198.18.1.10 554
expect ok "dome's worker (uid 61002) → v6 dome RTSP" tcp_as_uid 61002 "[fd00:1::12]" 554
expect blocked "lobby's worker (uid 61000) → yard RTSP" tcp_as_uid 61000 198.18.1.11 554
expect blocked "lobby's worker (uid 61000) → core tcp/80" tcp_as_uid 61000 198.18.2.10 80
expect ok "root on the cordon host → core tcp/80 (only cordon's user is confined)" tcp_ok gw 198.18.2.10 80
egress1=$(counter_of "$GATEWAY" '(egress)')
[ -n "$egress1" ] && [ "$((egress1 - ${egress0:-0}))" -ge 5 ] \
  && pass "cordon's refused egress counted (${egress0:-?} → $egress1)" || fail "egress counter ${egress0:-?} → ${egress1:-missing}"

nsx gw "$FW" remove "$GATEWAY" || fail "remove"
finish
