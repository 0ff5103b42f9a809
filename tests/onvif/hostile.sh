#!/bin/bash
# Hostile ONVIF clients on the core network (cordon in gateway mode):
#   garbage bytes, an XXE document, entity expansion, a deep document, an
#   envelope over the size bound (with Content-Length and chunked), a header
#   flood; UsernameTokens that are replayed (same nonce), stale or from the
#   future (Created outside the window), or PasswordText; an HTTP digest
#   Authorization header sent again; snapshots faster than the rate limit;
#   password guessing (the address is blocked, the log stays short); more
#   connections than allowed per address, idle and dribbling connections.
# Asserted: each gets a SOAP fault, 401, 413 or 429 (never file contents, never
# a hang); a fresh token still works; the stream still plays afterwards and
# cordon is still running.
source "$(dirname "$0")/../media/lib.sh"
require_root
SOAP=$SRC/tests/onvif/soap.py
media_topology
write_recorder_secret
start_testcam cam $CAM_IP --size 320x240 --fps 10 --bitrate 400
# 198.18.2.30: a second address of the recorder host, for the per-address
# connection limit (the firewall lets only recorder addresses reach ONVIF).
REC_EXTRA_ADDRESSES=198.18.2.30
{ site_config gateway; camera_config lobby "rtsp://$CAM_IP/test" 320x240 10 400
  printf '\n[onvif]\nlisten = 0.0.0.0:8000\n'; } >"$WORK/cordon.conf"
start_cordon "$WORK/cordon.conf"
statusq wait lobby state live 20 || die "lobby never live: $(tail -5 "$WORK/cordon.log")"
G=$GW_CORE_IP
DEV=http://$G:8000/onvif/device_service
A=(--user "$REC_USER" --password "$REC_PASS")

expect() { # WANT LABEL ARGS...
  local want=$1 label=$2; shift 2
  got=$(nsx rec timeout 20 "$PY" "$SOAP" "$@" 2>&1)
  [ "$got" = "$want" ] && pass "$label: $got" || fail "$label: got '$got', want '$want'"
}

head -c 3000 /dev/urandom >"$WORK/garbage.bin"
expect "400 InvalidArgVal" "binary garbage" "$DEV" X --raw "$WORK/garbage.bin"
expect "400 InvalidArgVal" "XXE (external entity)" "$DEV" X --raw "$SRC/tests/onvif/xxe.xml"
cat >"$WORK/laughs.xml" <<'XML'
<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetProfile><ProfileToken>&d;&d;&d;</ProfileToken></GetProfile></s:Body></s:Envelope>
XML
expect "400 InvalidArgVal" "entity expansion" "$DEV" X --raw "$WORK/laughs.xml"
"$PY" -c 'import sys; sys.stdout.write("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><A>" + "<d>" * 5000 + "</d>" * 5000 + "</A></s:Body></s:Envelope>")' >"$WORK/deep.xml"
expect "400 InvalidArgVal" "5000 nested elements" "$DEV" X --raw "$WORK/deep.xml"
expect "413 -" "envelope over 64 KiB" "$DEV" GetDeviceInformation --pad 70000 "${A[@]}"
nsx rec "$PY" - "$G" <<'PY' && pass "chunked and 16 MiB bodies refused unread (413)" || fail "big bodies not refused"
import socket, sys
for head, body in ((b"Transfer-Encoding: chunked\r\n", b"10000\r\n" + b"x" * 65536 + b"\r\n"),
                   (b"Content-Length: 16777216\r\n", b"x" * 65536)):
    s = socket.create_connection((sys.argv[1], 8000), timeout=5)
    s.sendall(b"POST /onvif/device_service HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n")
    try:
        s.sendall(body)
    except OSError:
        pass
    reply = s.recv(100)
    if not reply.startswith(b"HTTP/1.1 413"):
        print(head, reply, file=sys.stderr); sys.exit(1)
PY
nsx rec "$PY" - "$G" <<'PY' && pass "header flood: answered with an error or closed" || fail "header flood: connection kept reading"
import socket, sys
s = socket.create_connection((sys.argv[1], 8000), timeout=15)
try:
    s.sendall(b"POST /onvif/device_service HTTP/1.1\r\nHost: x\r\n")
    for _ in range(4096):
        s.sendall(b"X-Flood: " + b"y" * 1000 + b"\r\n")
    reply = s.recv(100)
    sys.exit(0 if reply == b"" or reply[9:10] == b"4" else 1)
except (ConnectionResetError, BrokenPipeError):
    sys.exit(0)
except socket.timeout:
    sys.exit(1)
PY

NONCE=$(head -c 16 /dev/urandom | base64)
expect "200 GetDeviceInformationResponse" "fresh UsernameToken" "$DEV" GetDeviceInformation "${A[@]}" --nonce "$NONCE"
expect "400 NotAuthorized" "the same token nonce again (replay)" "$DEV" GetDeviceInformation "${A[@]}" --nonce "$NONCE"
expect "400 NotAuthorized" "Created 10 minutes ago (stale)" "$DEV" GetDeviceInformation "${A[@]}" --created-offset -600
expect "400 NotAuthorized" "Created 10 minutes ahead" "$DEV" GetDeviceInformation "${A[@]}" --created-offset 600
cat >"$WORK/text.xml" <<XML
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken><Username>$REC_USER</Username><Password>$REC_PASS</Password></UsernameToken></Security></s:Header><s:Body><GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>
XML
expect "400 NotAuthorized" "PasswordText token" "$DEV" X --raw "$WORK/text.xml"
expect "200 GetDeviceInformationResponse" "a new token after all that" "$DEV" GetDeviceInformation "${A[@]}"

# HTTP digest: a captured Authorization header is worth nothing a second time.
SNAP=http://$G:8000/onvif/snapshot/lobby
nsx rec curl -sv --digest -u "$REC_USER:$REC_PASS" -o "$WORK/snap.jpg" "$SNAP" 2>"$WORK/curl.log"
auth=$(grep -a '^> Authorization: Digest' "$WORK/curl.log" | tail -1 | sed 's/^> Authorization: //; s/\r$//')
[ -n "$auth" ] && [ -s "$WORK/snap.jpg" ] && pass "snapshot with HTTP digest" || fail "digest snapshot: $(tail -5 "$WORK/curl.log")"
code=$(nsx rec curl -s -o /dev/null -w '%{http_code}' -H "Authorization: $auth" "$SNAP")
[ "$code" = 401 ] && pass "the same digest header again: 401" || fail "digest replay: HTTP $code"

# Snapshots faster than the limit (burst 4, then 2/s): some get 429.
codes=$(for i in $(seq 1 12); do nsx rec curl -s -o /dev/null -w '%{http_code}\n' --digest -u "$REC_USER:$REC_PASS" "$SNAP"; done | sort | uniq -c | tr '\n' ' ')
case $codes in *429*) pass "snapshot rate limit: $codes" ;; *) fail "no rate limit: $codes" ;; esac

# Connections: 8 per address; one still open 10 s after it was accepted
# (idle, or dribbling its headers) is shut down, and frees its place.
nsx rec ip addr add 198.18.2.30/24 dev eth0
nsx rec "$PY" - "$G" 198.18.2.30 <<'PY' && pass "connections: 8 of 12 admitted per address; idle and dribbling ones cut within 16 s; places freed" || fail "connection limits"
import socket, sys, time
host, src = sys.argv[1], sys.argv[2]
REQ = (b'POST /onvif/device_service HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml\r\nContent-Length: %d\r\n\r\n')
BODY = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
        b'<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>')
def conn():
    s = socket.socket(); s.bind((src, 0)); s.connect((host, 8000)); return s
def ask(s):
    s.sendall(REQ % len(BODY) + BODY)
    s.settimeout(10)
    data = b""
    while b"</s:Envelope>" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return False
        data += chunk
    return data.startswith(b"HTTP/1.1 200")
socks = [conn() for _ in range(12)]
time.sleep(0.5)
admitted = []
for s in socks:
    s.settimeout(0.3)
    try:
        if s.recv(1) != b"":
            sys.exit(1)
    except socket.timeout:
        admitted.append(s)
if len(admitted) != 8:
    print("admitted:", len(admitted), file=sys.stderr); sys.exit(1)
for s in admitted[:4]:
    s.sendall(b"POST /onvif/device_service HTTP/1.1\r\nHo")   # a header never finished
deadline = time.time() + 16
for s in admitted:
    s.settimeout(max(0.1, deadline - time.time()))
    try:
        if s.recv(1) != b"":
            sys.exit(1)
    except socket.timeout:
        print("connection not cut", file=sys.stderr); sys.exit(1)
time.sleep(2.5)  # one sweep releases the places
sys.exit(0 if all(ask(conn()) for _ in range(8)) else 1)
PY

# Password guessing: after 10 failures in a minute the address is blocked,
# even for the right password, and the log holds a few lines, not one each.
before=$(grep -c "ONVIF GetDeviceInformation refused" "$WORK/cordon.log")
for i in $(seq 1 30); do nsx rec "$PY" "$SOAP" "$DEV" GetDeviceInformation --user "$REC_USER" --password "guess$i" >/dev/null; done
expect "400 NotAuthorized" "the right password from a guessing address" "$DEV" GetDeviceInformation "${A[@]}"
lines=$(( $(grep -c "ONVIF GetDeviceInformation refused" "$WORK/cordon.log") - before ))
grep -q "address blocked for 60 s" "$WORK/cordon.log" && [ "$lines" -le 3 ] \
  && pass "30 wrong passwords: address blocked, $lines log lines" || fail "guessing brake: $lines log lines, $(grep -c blocked "$WORK/cordon.log") blocks"

size=$(nsx rec timeout 20 ffprobe -v error -rtsp_transport tcp -select_streams v:0 -show_entries stream=width,height \
  -of csv=p=0:s=x "$(rec_url lobby)" 2>&1 | head -1)
[ "$size" = 320x240 ] && pass "the stream still plays" || fail "stream after the hostile clients: $size"
grep -q "$REC_PASS" "$WORK/cordon.log" && fail "the password appears in the log" || pass "no password in the log"
kill -0 "$CORDON_PID" && pass "cordon still running" || fail "cordon died: $(tail -5 "$WORK/cordon.log")"
finish
