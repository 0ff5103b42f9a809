#!/bin/bash
# /status and /metrics bound off loopback are behind HTTP basic credentials:
# no or wrong credentials get 401, the configured ones get the document.
source "$(dirname "$0")/../media/lib.sh"
require_root
media_topology
write_recorder_secret
secret "$WORK/status.secret" status-secret-pass
{ printf '[proxy]\nlisten = 0.0.0.0:554\nuser = nobody\nstatus = %s:9554\n' "$GW_CORE_IP"
  printf 'status-username = prometheus\nstatus-password-file = status.secret\n\n[firewall]\nmode = off\n'
  printf '\n[recorder:nvr1]\naddress = %s\nusername = nvr1\npassword-file = nvr1.secret\ncameras = *\n' "$REC_IP"
  camera_config lobby "rtsp://$CAM_IP/test" 320x240 10; } >"$WORK/cordon.conf"
bg gw "$WORK/cordon.log" "$CORDON" run --config "$WORK/cordon.conf"
CORDON_PID=$LAST_PID
U="http://$GW_CORE_IP:9554"
code() { nsx rec curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
wait_until 20 sh -c "[ \"\$(ip netns exec ${NS[rec]} curl -s -o /dev/null -w '%{http_code}' $U/status)\" = 401 ]" \
  || die "status never answered: $(tail -5 "$WORK/cordon.log")"
for path in /status /metrics; do
  [ "$(code "$U$path")" = 401 ] && pass "$path without credentials: 401" || fail "$path without credentials answered"
  [ "$(code -u prometheus:wrong "$U$path")" = 401 ] && pass "$path with a wrong password: 401" \
    || fail "$path with a wrong password answered"
  [ "$(code -u prometheus:status-secret-pass "$U$path")" = 200 ] && pass "$path with the credentials: 200" \
    || fail "$path refused the configured credentials"
done
grep -q status-secret-pass "$WORK/cordon.log" && fail "the status password is in the log" || pass "no password in the log"
finish
