#!/bin/bash
# Runs inside the fresh root the package was just installed into (package.sh).
# Every check prints "ok: ..." or "FAIL: ..."; the first failure ends the run.
set -euo pipefail

ok () { echo "ok: $*"; }
fail () { echo "FAIL: $*"; exit 1; }
expect_stat () {  # path owner:group mode
  local got
  got=$(stat -c '%U:%G %a' "$1")
  [ "$got" = "$2 $3" ] || fail "$1 is $got, expected $2 $3"
  ok "$1 is $2 $3"
}

# The system user, from sysusers.d.
pw=$(getent passwd cordon) || fail "no user cordon"
uid=$(echo "$pw" | cut -d: -f3)
shell=$(echo "$pw" | cut -d: -f7)
[ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] || fail "user cordon has uid $uid, not a system uid"
case "$shell" in */nologin|/bin/false) ;; *) fail "user cordon has a login shell: $shell" ;; esac
getent group cordon >/dev/null || fail "no group cordon"
ok "system user cordon (uid $uid, shell $shell) and its group"

# Folders and the configuration: root owns them, group cordon reads them.
expect_stat /etc/cordon root:cordon 750
expect_stat /etc/cordon/secrets root:cordon 750
expect_stat /etc/cordon/cordon.conf root:cordon 640
dpkg-query -W -f='${Conffiles}\n' cordon | grep -q '^ /etc/cordon/cordon.conf ' \
  || fail "/etc/cordon/cordon.conf is not a conffile"
ok "/etc/cordon/cordon.conf is a conffile"
cmp -s /etc/cordon/cordon.conf /usr/share/doc/cordon/cordon.conf.example \
  || fail "/etc/cordon/cordon.conf is not the example"
ok "/etc/cordon/cordon.conf is the documented example"
[ -z "$(ls -A /etc/cordon/secrets)" ] || fail "the package put files in /etc/cordon/secrets"
for f in cordon.rules.yml cordon-dashboard.json; do
  [ -s "/usr/share/cordon/monitoring/$f" ] || fail "no /usr/share/cordon/monitoring/$f"
done
ok "monitoring files in /usr/share/cordon/monitoring"
[ -s /usr/share/man/man8/cordon.8.gz ] && [ -s /usr/share/man/man5/cordon.conf.5.gz ] || fail "man pages missing"
ok "man pages"

# Units installed, neither enabled nor started.
for u in cordon.service cordon-firewall.service; do
  [ -f "/lib/systemd/system/$u" ] || fail "no /lib/systemd/system/$u"
  if find /etc/systemd/system -name "$u" | grep -q .; then fail "$u is enabled"; fi
  state=$(systemctl is-enabled "$u" 2>/dev/null || true)
  [ "$state" = disabled ] || fail "systemctl is-enabled $u says '$state'"
done
ok "units installed and disabled"
systemd-analyze verify /lib/systemd/system/cordon-firewall.service /lib/systemd/system/cordon.service \
  || fail "systemd-analyze verify"
ok "systemd-analyze verify on both units"

# The unedited example must not start the daemon: the unit's ExecStartPre
# (cordon check) refuses it, naming the missing secrets.
set +e
out=$(cordon check --config /etc/cordon/cordon.conf 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "cordon check accepts the unedited example"
echo "$out" | grep -q 'secrets/lobby' || fail "cordon check on the unedited example does not name secrets/lobby: $out"
ok "cordon check refuses the unedited example (exit $rc): $(echo "$out" | head -n 1)"

# With the secrets an admin writes (root:cordon 0640, docs/privileges.md) it
# passes, as root (start-up) and as the cordon user (reload).
for s in lobby yard nvr1 nvr2; do
  (umask 077 && printf '%s\n' "test-secret-$s" >"/etc/cordon/secrets/$s")
  chown root:cordon "/etc/cordon/secrets/$s"
  chmod 0640 "/etc/cordon/secrets/$s"
done
cordon check --config /etc/cordon/cordon.conf || fail "cordon check on the example with secrets"
ok "cordon check accepts the example with test secrets"
runuser -u cordon -- cordon check --config /etc/cordon/cordon.conf \
  || fail "the cordon user cannot read the configuration and secrets (reload)"
ok "the cordon user can read them for a reload"
if runuser -u cordon -- sh -c 'echo x >>/etc/cordon/cordon.conf' 2>/dev/null \
   || runuser -u cordon -- touch /etc/cordon/secrets/new 2>/dev/null; then
  fail "the cordon user can write in /etc/cordon"
fi
ok "the cordon user cannot change the configuration or the secrets"

# Removal and purge never lift the isolation: nothing calls `cordon firewall
# remove` (or any cordon command). A stand-in records every call.
mv /usr/bin/cordon /usr/bin/cordon.real
printf '#!/bin/sh\necho "$*" >>/root/cordon-calls\n' >/usr/bin/cordon
chmod 755 /usr/bin/cordon
apt-get purge -y -q cordon >/root/purge.log 2>&1 || { cat /root/purge.log; fail "apt-get purge cordon"; }
grep -q "stays in the kernel" /root/purge.log || fail "removal does not say the firewall table stays"
[ ! -s /root/cordon-calls ] || fail "removal or purge ran cordon: $(cat /root/cordon-calls)"
ok "removal and purge ran no cordon command and said the table stays"
[ ! -e /etc/cordon ] || fail "purge left /etc/cordon: $(find /etc/cordon)"
ok "purge removed /etc/cordon and the secrets in it"
echo "in-root: all checks passed"
