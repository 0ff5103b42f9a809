# The set-up the firewall netns tests share (bash; source it): the netns
# helpers, root, socat and nft (to inspect), fw-tool as $FW, and the fixture
# recorder secret in $WORK with the mode the loader wants.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/netns.sh"
require_root
command -v socat >/dev/null || { echo "SKIP: socat missing"; exit 77; }
command -v nft >/dev/null || { echo "SKIP: nft missing (used only to inspect)"; exit 77; }

FW=$BUILD/tests/firewall/fw-tool
[ -x "$FW" ] || die "fw-tool not built: $FW"
cp "$SRC/tests/firewall/secrets/recorder" "$WORK/recorder.secret"
chmod 600 "$WORK/recorder.secret"
