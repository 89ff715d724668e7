# SPDX-License-Identifier: GPL-3.0-or-later
# A Tryton service inside a vserver, through cloe, reached from the referee:
# a template with the suite's oe-xoe package (the build under test, in a flat
# repository), PostgreSQL, and Tryton 7.0's code fetched inside at build time (template
# build --software tryton/7.0: xoe software deps + fetch in the tree, the
# .deb cache the referee's), so that the vserver, which has no route to any
# mirror, creates services on its own; `cloe service create` makes one
# through libxoe's typed client, on the PostgreSQL cluster xoe runs inside,
# it runs under the vserver's runit, listens
# on the vserver's address, and answers a JSON-RPC login from the referee
# at the URL cloe gives, with the password cloe printed once. Then stop,
# start, and the vserver restarted: the service comes back by itself.
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_cache
cloe_vservers
bed_bridge vs
br=$BED_BRIDGE_VS hostip=$BED_BRIDGE_VS_IP
net=${hostip%.*}.0/24
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# ---------------------------------------------------------------- the template: xoe and Tryton 7.0 inside
cloe_repo
R=$BED_DIR/root
mkdir -p "$R/var/lib/oe/cloe/templates"
exec 9>"$CLOE_CACHE/.test-lock"
flock 9
t0=$SECONDS
out=$(cloe --root "$CLOE_CACHE" --set "template.deb_cache=${OE_TEST_CACHE:-/var/cache/oe-test}/debs" \
  template build tryton --repository "$CLOE_REPO" --software tryton/7.0 --packages postgresql --json) || bed_fail "template build tryton"
flock -u 9
bed_log "template tryton: built=$(json 'd["built"]' <<<"$out") in $((SECONDS - t0)) s"
bed_assert_eq "tryton/7.0" "$(json '",".join(d["template"]["software"])' <<<"$out")" "the software of the template"
troot=$(json 'd["template"]["root"]' <<<"$out")
[[ -d $troot/var/lib/oe/xoe/software/tryton/7.0 ]] || bed_fail "no Tryton 7.0 code in the template"
[[ ! -e $troot/var/cache/oe/debs && ! -e $troot/usr/sbin/policy-rc.d ]] \
  || bed_fail "the build left xoe's .deb cache or its policy-rc.d in the tree"
grep -qx 'listen = "0.0.0.0"' "$troot/etc/oe/xoe.toml" || bed_fail "xoe.toml inside does not listen on the vserver"
grep -q '^backend' "$troot/etc/oe/xoe.toml" && bed_fail "xoe.toml inside sets a backend although PostgreSQL is in the template"
ln -s "$CLOE_CACHE/var/lib/oe/cloe/templates/tryton" "$R/var/lib/oe/cloe/templates/tryton"
ok "template tryton: oe-xoe $CLOE_XOE_VERSION and Tryton 7.0's code inside, nothing of the build left"

# ---------------------------------------------------------------- a vserver and a service in it
export OE_CLOE_LIBVIRT_URI=$BED_LIBVIRT_URI OE_CLOE_NETWORK_BRIDGE=$br OE_CLOE_LOCKS_WAIT=0
C() { cloe --root "$R" "$@"; }
cloe_vserver_name t
x=t-${BED_ID,,}
_down() { C vserver destroy "$x" --force >/dev/null 2>&1 || true; }
bed_on_exit _down
C cluster init t --network "$net" --gateway "$hostip" >/dev/null
C @t node add n0 --local --address "${hostip%.*}.2" --storage "ssd=$CLOE_STORAGE" --memory 4G --cpus 2 >/dev/null
C @t vserver create "$x" --template tryton --memory 1G --disk 1G >/dev/null
xip=$(C @t vserver show "$x" --json | json 'd["vserver"]["ip"]')
ok "vserver $x of template tryton at $xip"

t0=$SECONDS
out=$(C @t service create "$x" shop --software tryton --version 7.0 --json) || bed_fail "service create exited $?"
bed_log "service create in the vserver took $((SECONDS - t0)) s"
url=$(json 'd["services"][0]["url"]' <<<"$out")
login=$(json 'd["services"][0]["admin_login"]' <<<"$out")
OE_PW=$(json 'd["services"][0]["admin_password"]' <<<"$out")
export OE_PW
[[ $url == "http://$xip:"* ]] || bed_fail "the service's URL $url is not at the vserver's address $xip"
bed_assert_eq "run" "$(C @t service show "$x" shop --json | json 'd["service"]["state"]')" "state of shop"
port=$(json 'd["services"][0]["port"]' <<<"$out")
# On PostgreSQL: the cluster xoe runs itself inside the vserver.
C @t xoe "$x" -- service show shop | grep -q '(postgresql)' || bed_fail "shop is not on PostgreSQL"
ok "service shop in $x: $url"

# A JSON-RPC login from the referee (this host) at the vserver's address.
uid=$(tryton_login "$url" shop "$login") || bed_fail "JSON-RPC login at $url"
[[ $uid =~ ^[0-9]+$ ]] || bed_fail "login gave $uid"
OE_PW=wrong-password
tryton_login "$url" shop "$login" >/dev/null 2>&1 && bed_fail "a wrong password logged in"
OE_PW=$(json 'd["services"][0]["admin_password"]' <<<"$out")
ok "JSON-RPC login from the referee at $url: user $uid; a wrong password refused"

# Stop and start through cloe; then the vserver restarted: runit brings the service back.
bed_assert_eq "down" "$(C @t service stop "$x" shop --json | json 'd["service"]["state"]')" "state after stop"
/usr/bin/python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)' \
  "$xip" "$port" 2>/dev/null && bed_fail "the stopped service still answers"
C @t service start "$x" shop >/dev/null
tryton_login "$url" shop "$login" >/dev/null || bed_fail "login after service start"
C @t vserver restart "$x" >/dev/null
tryton_login "$url" shop "$login" >/dev/null || bed_fail "login after the vserver's restart"
ok "service stop, start, and back after the vserver's restart"

# The same service again: refused by xoe (conflict, 4), one line, nothing changed.
rc=0; err=$(C @t service create "$x" shop --software tryton --version 7.0 2>&1 >/dev/null) || rc=$?
bed_assert_eq 4 "$rc" "exit code of a second service create of shop ($err)"
bed_assert_eq 1 "$(grep -c . <<<"$err")" "one line"
# A version whose code is not in the template: xoe cannot fetch it without a mirror.
rc=0; err=$(C @t service create "$x" old --software tryton --version 6.0 2>&1 >/dev/null) || rc=$?
[[ $rc -ne 0 ]] || bed_fail "service create of a version without its code succeeded"
bed_assert_eq 1 "$(grep -c . <<<"$err")" "one line ($err)"
ok "bad input inside: one line each ($rc for a version not fetched)"

# ---------------------------------------------------------------- monitor, backup, remove with its final archive
out=$(C @t service monitor "$x" --json) || bed_fail "service monitor exited $?"
bed_assert_eq "shop True" "$(json '" ".join([d["services"][0]["name"], str(d["services"][0]["up"])])' <<<"$out")" \
  "monitor: shop up"
users=$(json 'd["services"][0]["users"]' <<<"$out")
[[ $users =~ ^[0-9]+$ && $users -ge 1 ]] || bed_fail "monitor: users $users"
[[ $(json 'd["services"][0]["last_login"]' <<<"$out") == 20* ]] || bed_fail "monitor: no last login after the logins"
out=$(C @t service backup "$x" shop --json) || bed_fail "service backup exited $?"
[[ $(json 'd["archive"]' <<<"$out") == *.tar.zst ]] || bed_fail "backup: $(json 'd["archive"]' <<<"$out")"
ok "service monitor (up, $users users, a last login) and backup inside $x"

adir=$BED_DIR/archives
out=$(C @t service remove "$x" shop --archive-dir "$adir" --json) || bed_fail "service remove exited $?"
archive=$(json 'd["archive"]' <<<"$out")
[[ $archive == "$adir/t/$x/"*.tar.zst && -f $archive ]] || bed_fail "no final archive on the referee: $archive"
bed_assert_eq "$(json 'd["sha256"]' <<<"$out")" "$(sha256sum "$archive" | cut -d' ' -f1)" "the archive's SHA-256"
tar --zstd -tf "$archive" >"$BED_DIR/archive.list" || bed_fail "the final archive does not read"
[[ -s $BED_DIR/archive.list ]] || bed_fail "the final archive is empty"
rc=0; C @t service show "$x" shop >/dev/null 2>&1 || rc=$?
bed_assert_eq 3 "$rc" "service show after remove"
ls "$adir/t/$x" | grep -q partial && bed_fail "a partial copy was left"
rc=0; err=$(C @t service remove "$x" shop --archive-dir "$adir" 2>&1 >/dev/null) || rc=$?
bed_assert_eq 3 "$rc" "remove of a removed service ($err)"
ok "service remove: the final archive copied to the referee and checked, then the service gone"
