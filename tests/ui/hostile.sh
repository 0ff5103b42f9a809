#!/bin/bash
# Hostile text on the operator page: a /status and site.json whose every
# string (camera, recorder and zone names, errors, DNS names, addresses,
# dates, unknown fields) is HTML or script. Chromium must show each as text:
# no element, attribute or script comes from the data, and the page still
# draws. The documents are fixtures served with the page's real assets by a
# small server on loopback in the test's own namespace.
source "$(dirname "$0")/../lib/netns.sh"
require_root
source "$(dirname "$0")/lib.sh"
HERE=$SRC/tests/ui

netns_add page
bg page "$WORK/server.log" "$PY" "$HERE/fakestatus.py" 9554 "$SRC/proxy/ui" "$HERE/hostile-status.json" "$HERE/hostile-site.json"
wait_until 10 nsx page curl -sSf -o /dev/null http://127.0.0.1:9554/status || die "fixture server did not start: $(cat "$WORK/server.log")"
browser page --window-size=1280,1700 --dump-dom http://127.0.0.1:9554/ui/ >"$WORK/dom.html" 2>"$WORK/chromium.log" \
  || fail "chromium --dump-dom failed: $(tail -5 "$WORK/chromium.log")"
cp "$WORK/dom.html" "$LOGDIR/operator-page-hostile.html"
grep -iE "Uncaught" "$WORK/chromium.log" && fail "a script error while drawing hostile data"

"$PY" "$HERE/checkhostile.py" "$WORK/dom.html" || fail "hostile text became markup or was not shown"
finish
