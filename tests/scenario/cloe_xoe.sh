# SPDX-License-Identifier: GPL-3.0-or-later
# xoe inside vservers, through cloe: the suite's oe-xoe package (CPack, from
# the build under test) in a flat repository (oe-apt-repo), a template built
# with it (template build --repository: its stage, the tree before oe-xoe,
# is kept in the test cache, so only the package is installed per run), a
# vserver of that template on the referee's own node; `cloe xoe VSERVER --
# ARGS` runs the xoe inside (its output and exit code), `cloe service list`
# and `cloe locate` ask it through libxoe's typed client (xoe::Client over
# command_client) and name the vserver's address; xoe's errors come back
# with their kind and exit code. Bad input: one line, the documented exit
# code, nothing changed.
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_template
cloe_vservers
bed_bridge vs
br=$BED_BRIDGE_VS hostip=$BED_BRIDGE_VS_IP
net=${hostip%.*}.0/24
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# ---------------------------------------------------------------- the package and its repository
cloe_repo
repo=$CLOE_REPO version=$CLOE_XOE_VERSION
ok "oe-xoe $version in a flat repository"

# ---------------------------------------------------------------- the template with xoe
R=$BED_DIR/root
mkdir -p "$R/var/lib/oe/cloe/templates"
ln -s "$CLOE_CACHE/var/lib/oe/cloe/templates/base" "$R/var/lib/oe/cloe/templates/base"
# The template `xoe` is built in the cache (its stage is kept there, keyed by its inputs), one build at a time.
exec 9>"$CLOE_CACHE/.test-lock"
flock 9
t0=$SECONDS
out=$(cloe --root "$CLOE_CACHE" template build xoe --repository "$repo" --json) || bed_fail "template build xoe"
flock -u 9
bed_assert_eq "$version" "$(json 'd["template"]["xoe"]' <<<"$out")" "the oe-xoe version in the template"
bed_log "template xoe: built=$(json 'd["built"]' <<<"$out") in $((SECONDS - t0)) s"
troot=$(json 'd["template"]["root"]' <<<"$out")
[[ -x $troot/usr/bin/xoe && -x $troot/usr/bin/poe ]] || bed_fail "no xoe or poe in the template"
[[ ! -e $troot/etc/apt/sources.list.d/oe-repo.list && ! -e $troot/var/cache/oe-repo && ! -e $troot/usr/sbin/policy-rc.d ]] \
  || bed_fail "the build left its repository, its source or its policy-rc.d in the tree"
ok "template xoe: oe-xoe $version inside, nothing of the build left"
# The same repository again: unchanged.
bed_assert_eq False "$(cloe --root "$CLOE_CACHE" template build xoe --repository "$repo" --json | json 'd["built"]')" "built again"
ln -s "$CLOE_CACHE/var/lib/oe/cloe/templates/xoe" "$R/var/lib/oe/cloe/templates/xoe"

export OE_CLOE_LIBVIRT_URI=$BED_LIBVIRT_URI OE_CLOE_NETWORK_BRIDGE=$br OE_CLOE_LOCKS_WAIT=0
C() { cloe --root "$R" "$@"; }
id=${BED_ID,,}
x=x-$id b=b-$id
for n in x b; do cloe_vserver_name "$n"; done
_down() { local n; for n in "$x" "$b"; do C vserver destroy "$n" --force >/dev/null 2>&1 || true; done; }
bed_on_exit _down
C cluster init t --network "$net" --gateway "$hostip" >/dev/null
C @t node add n0 --local --address "${hostip%.*}.2" --storage "ssd=$CLOE_STORAGE" --memory 2G --cpus 2 >/dev/null
C @t vserver create "$x" --template xoe --memory 512M --disk 256M --group erp >/dev/null
C @t vserver create "$b" --memory 128M --disk 96M --group plain >/dev/null
xip=$(C @t vserver show "$x" --json | json 'd["vserver"]["ip"]')
ok "vserver $x of template xoe at $xip, $b of template base"

# ---------------------------------------------------------------- cloe xoe: pass-through
bed_assert_eq "xoe $version" "$(C @t xoe "$x" -- --version)" "xoe --version inside"
out=$(C @t xoe "$x" -- --json service list)
bed_assert_eq 0 "$(json 'len(d["services"])' <<<"$out")" "no service yet"
rc=0; err=$(C @t xoe "$x" -- service show nope 2>&1 >/dev/null) || rc=$?
bed_assert_eq 3 "$rc" "xoe's exit code for an unknown service, through cloe xoe"
bed_assert_contains "$err" "nope" "xoe's error, through cloe xoe"
# It runs as the vserver's root, in the vserver (its hostname, its uid 0).
doc=$(C @t xoe "$x" -- doctor 2>&1 || true)
bed_assert_contains "$doc" "xoe" "xoe doctor inside answers"
ok "cloe xoe $x -- ARGS: xoe's output and exit code"

# ---------------------------------------------------------------- the typed client: list, show, locate
rc=0; out=$(C @t service list --json) || rc=$?
bed_assert_eq 1 "$rc" "exit code of service list with a vserver that cannot answer"
bed_assert_eq 0 "$(json 'len(d["services"])' <<<"$out")" "services in the cluster"
# The vserver of template base has no xoe: a problem of the list, exit 1, named.
bed_assert_eq "$b precondition" "$(json '" ".join(p["vserver"]+" "+p["kind"] for p in d["problems"])' <<<"$out")" \
  "the vserver without xoe, as a problem of the list"
out=$(C @t service list --group erp --json) || bed_fail "service list --group erp exited $?"
bed_assert_eq 0 "$(json 'len(d["problems"])' <<<"$out")" "problems in group erp"
rc=0; err=$(C @t service show "$x" nope 2>&1 >/dev/null) || rc=$?
bed_assert_eq 3 "$rc" "exit code of service show of an unknown service (xoe's not_found through the typed client)"
bed_assert_eq 1 "$(grep -c . <<<"$err")" "one line ($err)"
bed_assert_contains "$err" "nope" "the error names the service"
out=$(C @t locate "$x" --json)
bed_assert_eq "vserver n0 $xip" "$(json 'd["found"][0]["kind"]+" "+d["found"][0]["node"]+" "+d["found"][0]["ip"]' <<<"$out")" "locate a vserver"
ok "service list (the vserver without xoe named), show, locate, through xoe::Client"

# ---------------------------------------------------------------- bad input
db=$R/var/lib/oe/referee.db
before=$(sha256sum "$db")
expect() {  # expect CODE CMD...
  local code=$1 rc=0 err; shift
  err=$(C "$@" 2>&1 >/dev/null) || rc=$?
  bed_assert_eq "$code" "$rc" "exit code of cloe $* ($err)"
  bed_assert_eq 1 "$(grep -c . <<<"$err")" "one line for cloe $*"
}
expect 6 @t xoe "$b" -- --version             # no xoe in a vserver of template base
expect 3 @t xoe nosuch -- --version           # unknown vserver
expect 3 @nosuch xoe "$x" -- --version        # unknown cluster
expect 2 @t xoe 'a;b' -- --version            # not a label
expect 3 @t service list --group nosuch       # a group that matches nothing
expect 2 @t service list "$x" --group erp     # both
expect 3 @t service list nosuch               # unknown vserver
C @t vserver stop "$b" >/dev/null
before=$(sha256sum "$db")
expect 6 @t xoe "$b" -- --version             # a stopped vserver
expect 6 @t service show "$b" x               # a stopped vserver
bed_assert_eq "$before" "$(sha256sum "$db")" "the inventory after the bad input"
# locate: while a vserver cannot be asked, "not found" is not known (exit 1, the vserver named);
# once every vserver answers, it is (exit 3).
rc=0; err=$(C @t locate nosuch 2>&1 >/dev/null) || rc=$?
bed_assert_eq 1 "$rc" "exit code of locate while $b cannot answer ($err)"
bed_assert_contains "$err" "cloe: vserver $b does not run" "locate names the vserver it could not ask"
C @t vserver destroy "$b" >/dev/null
expect 3 @t locate nosuch
ok "bad input: one line, the documented exit code, the inventory unchanged"
