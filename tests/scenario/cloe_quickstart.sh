# SPDX-License-Identifier: GPL-3.0-or-later
# The README's main job through cloe (scripts/cloe-demo, which
# scripts/quickstart runs on embedded defaults): this host as a one-node
# cluster, `cloe node install-host` making the node ready (here: the bridge,
# created with the node's address, and the storage folder; the packages and
# libvirtd are there), the template with oe-xoe and Tryton 7.0, a vserver,
# and the VDS profile applied inside it through xoe: three services whose
# URLs are at the vserver's address and whose printed passwords log in over
# JSON-RPC from the referee. Run again, it changes nothing and says so.
# Then install-host's bad input: an unknown node, a bridge name taken by
# something that is not a bridge.
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_cache
cloe_vservers
cloe_repo
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# The template in the test cache (as scenario.cloe_tryton builds it), seen from this root.
R=$BED_DIR/root
mkdir -p "$R/var/lib/oe/cloe/templates"
(
  flock 9
  cloe --root "$CLOE_CACHE" --set "template.deb_cache=${OE_TEST_CACHE:-/var/cache/oe-test}/debs" \
    template build tryton --repository "$CLOE_REPO" --software tryton/7.0 --packages postgresql >/dev/null
) 9>"$CLOE_CACHE/.test-lock" || bed_fail "template build tryton"
for t in tryton tryton.stage; do ln -s "$CLOE_CACHE/var/lib/oe/cloe/templates/$t" "$R/var/lib/oe/cloe/templates/$t"; done

# A network and a bridge name of this bed's own; install-host makes the bridge.
net=$(_bed_locked _bed_pick_subnet)
net=${net%.*}.0/24
br=oeq${BED_ID,,}
bed_on_exit ip link del "$br"
cloe_vserver_name q
name=q-${BED_ID,,}
export OE_CLOE_LIBVIRT_URI=$BED_LIBVIRT_URI OE_CLOE_NETWORK_BRIDGE=$br OE_CLOE_LOCKS_WAIT=0
export OE_DEMO_ROOT=$R OE_DEMO_NETWORK=$net OE_DEMO_STORAGE=$CLOE_STORAGE OE_QUICKSTART_NAME=$name
C() { cloe --root "$R" "$@"; }  # cluster.name is "local", the demo's
_down() { C vserver destroy "$name" --force >/dev/null 2>&1 || true; }
bed_on_exit _down

t0=$SECONDS
rc=0
"$OE_SOURCE_DIR/scripts/cloe-demo" "$CLOE_REPO" >"$BED_DIR/demo.out" 2>"$BED_DIR/demo.err" || rc=$?
((rc == 0)) || { cat "$BED_DIR/demo.out" "$BED_DIR/demo.err" >&2; bed_fail "cloe-demo exited $rc"; }
bed_log "cloe-demo took $((SECONDS - t0)) s"
cat "$BED_DIR/demo.out" >&2
address=${net%.*}.2
ip -4 -o addr show dev "$br" | grep -q " $address/24 " || bed_fail "install-host did not give $br the node's address"
[[ $(ip -o link show dev "$br") == *"state UP"* || $(ip -o link show dev "$br") == *",UP"* ]] || bed_fail "$br is not up"
xip=$(C vserver show "$name" --json | json 'd["vserver"]["ip"]')
ok "cloe-demo: cluster, node ready (bridge $br with $address), vserver $name at $xip"

# "NAME tryton 7.0 at URL login LOGIN password PASSWORD", one line per service.
n=0
for role in production training test; do
  line=$(grep "^$name-$role tryton 7.0 at " "$BED_DIR/demo.out") || bed_fail "no line for $name-$role"
  read -r svc _ _ _ url _ login _ pw <<<"$line"
  [[ $url == "http://$xip:"* ]] || bed_fail "$svc: URL $url is not at the vserver's address $xip"
  OE_PW=$pw tryton_login "$url" "$svc" "$login" >/dev/null || bed_fail "login to $svc at $url"
  ((++n))
done
bed_assert_eq 3 "$n" "services of the VDS profile"
ok "the VDS profile inside $name: three services, each logs in from the referee at $xip"

# Again: nothing changes, and it says so.
before=$(sha256sum "$R/var/lib/oe/referee.db")
rc=0
"$OE_SOURCE_DIR/scripts/cloe-demo" "$CLOE_REPO" >"$BED_DIR/demo2.out" 2>"$BED_DIR/demo2.err" || rc=$?
((rc == 0)) || { cat "$BED_DIR/demo2.out" "$BED_DIR/demo2.err" >&2; bed_fail "cloe-demo again exited $rc"; }
out=$(cat "$BED_DIR/demo2.out")
bed_assert_contains "$out" "ready, nothing changed" "install-host again"
bed_assert_contains "$out" "template tryton unchanged" "template build again"
bed_assert_contains "$out" "$name-production tryton 7.0 at http://$xip:" "the production service again"
bed_assert_contains "$out" "password (unchanged)" "no new password"
grep -q "password [A-Za-z0-9]" <<<"$(grep -v '(unchanged)' <<<"$out" | grep ' password ')" \
  && bed_fail "a password was printed again"
bed_assert_eq "$before" "$(sha256sum "$R/var/lib/oe/referee.db")" "the inventory after the second run"
ok "cloe-demo again: nothing changed, no password shown again"

# install-host's bad input: one line, the documented exit code, nothing changed.
expect() {  # expect CODE CMD...
  local code=$1 rc=0 err; shift
  err=$(C "$@" 2>&1 >/dev/null) || rc=$?
  bed_assert_eq "$code" "$rc" "exit code of cloe $* ($err)"
  bed_assert_eq 1 "$(grep -c . <<<"$err")" "one line for cloe $*"
}
expect 3 node install-host nosuch
expect 2 node install-host 'a;b'
expect 3 @nosuch node install-host referee
dummy=oed${BED_ID,,}
bed_on_exit ip link del "$dummy"
ip link add "$dummy" type veth peer name "${dummy}p"
OE_CLOE_NETWORK_BRIDGE=$dummy expect 4 node install-host referee
ip -4 -o addr show dev "$dummy" | grep -q inet && bed_fail "install-host gave an address to $dummy"
bed_assert_eq "$before" "$(sha256sum "$R/var/lib/oe/referee.db")" "the inventory after the bad input"
# --dry-run on a node whose bridge is gone plans it and makes nothing.
ip link del "$br"
out=$(C node install-host referee --dry-run --json)
bed_assert_eq "True" "$(json 'd["changed"]' <<<"$out")" "dry run plans a change"
ip link show dev "$br" >/dev/null 2>&1 && bed_fail "--dry-run made the bridge"
ok "install-host: unknown node or cluster, bad name, a non-bridge in the way, --dry-run: nothing changed"
