#!/bin/bash
# The operator page's assets keep to what the Content-Security-Policy and the
# text-only rule promise: no inline script, style or event handler in the
# HTML, no HTML sink or eval in the script, nothing loaded from elsewhere.
set -u
UI=${CORDON_SOURCE_DIR:?}/proxy/ui
failures=0
refuse() { # DESCRIPTION REGEX FILE...
  local what=$1 re=$2; shift 2
  if grep -nE "$re" "$@"; then echo "FAIL: $what"; failures=$((failures + 1)); else echo "ok: $what"; fi
}
refuse "no inline <script> body or style block" '<script>|<script[^>]*>[^<]|<style' "$UI/index.html"
refuse "no style attribute or on* handler in the HTML" '\sstyle=|\son[a-z]+=' "$UI/index.html"
refuse "no javascript: URL" 'javascript:' "$UI"/*.html "$UI"/*.js
refuse "no HTML sink, eval or string timer in the script" \
  'innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function|setTimeout\(['"'"'"`]|setAttribute\(.style' "$UI/app.js"
refuse "nothing fetched from another origin" 'https?://' "$UI"/*.html "$UI"/*.css \
  <(grep -v "http://www.w3.org/2000/svg" "$UI/app.js")
for f in "$UI"/*.html "$UI"/*.js "$UI"/*.css "$UI"/*.svg; do
  grep -q "<file>$(basename "$f")</file>" "$UI/cordon-ui.gresource.xml" \
    && echo "ok: $(basename "$f") is in the resource bundle" \
    || { echo "FAIL: $(basename "$f") missing from cordon-ui.gresource.xml"; failures=$((failures + 1)); }
done
[ $failures = 0 ]
