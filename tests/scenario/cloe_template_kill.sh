# SPDX-License-Identifier: GPL-3.0-or-later
# cloe template build killed at each of its steps (OE_CRASH_AT=
# cloe.template.build:STEP, SIGKILL): before the tree, before oe-xoe, before
# runit's set-up (the software step is between those two), before and between the two renames
# that replace an existing template. Each time: no mount and no process of
# the build left; the next build converges (a tree with its checksum, nothing
# of the killed build: no NAME.partial, NAME.old or NAME.stage.partial), and
# a template killed between its renames is the complete new one or the old
# one, never none. Built from a copy of the cached stage of the template
# `xoe` (same inputs), so each build is a copy and one package.
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_cache
cloe_vservers
cloe_repo
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
(
  flock 9
  cloe --root "$CLOE_CACHE" template build xoe --repository "$CLOE_REPO" >/dev/null
) 9>"$CLOE_CACHE/.test-lock" || bed_fail "template build xoe"
R=$BED_DIR/root
T=$R/var/lib/oe/cloe/templates
mkdir -p "$T"
cp -a --reflink=auto "$CLOE_CACHE/var/lib/oe/cloe/templates/xoe.stage" "$T/kk.stage"
C() { cloe --root "$R" "$@"; }
build() { C template build kk --repository "$CLOE_REPO" "$@"; }
clean() {  # nothing of a killed build
  [[ -z $(findmnt -rn -o TARGET | grep -F "$R/" || true) ]] || bed_fail "mounts left: $(findmnt -rn -o TARGET | grep -F "$R/")"
  [[ -z $(pgrep -f "$T/kk.partial" || true) ]] || bed_fail "processes of the build left"
}
converged() {  # the template is whole, nothing else is there
  C template show kk --verify >/dev/null || bed_fail "template kk does not verify ($1)"
  local left
  for left in kk.partial kk.old kk.stage.partial; do [[ ! -e $T/$left ]] || bed_fail "$left left ($1)"; done
  [[ ! -e $T/kk/rootfs/usr/sbin/policy-rc.d ]] || bed_fail "policy-rc.d left in the tree ($1)"
}
for step in tree xoe runit; do
  rc=0
  OE_CRASH_AT=cloe.template.build:$step build >/dev/null 2>&1 || rc=$?
  bed_assert_eq 137 "$rc" "build killed at $step"
  clean
  build >/dev/null || bed_fail "the build after a kill at $step"
  converged "$step"
  C template remove kk >/dev/null
  [[ ! -e $T/kk && ! -e $T/kk.stage ]] || bed_fail "template remove left kk or its stage"
  cp -a --reflink=auto "$CLOE_CACHE/var/lib/oe/cloe/templates/xoe.stage" "$T/kk.stage"
done
ok "a first build killed at each step: nothing left, the next build converges"

build >/dev/null
first=$(C template show kk --json | json 'd["template"]["built_at"]')
sleep 1
for step in replace replace:after; do
  rc=0
  OE_CRASH_AT=cloe.template.build:$step build --force >/dev/null 2>&1 || rc=$?
  bed_assert_eq 137 "$rc" "a rebuild killed at $step"
  clean
  # The same inputs: the next build keeps what it finds (the new tree once it was complete).
  out=$(build --json) || bed_fail "the build after a rebuild killed at $step"
  converged "$step"
  bed_log "after a kill at $step: built=$(json 'd["built"]' <<<"$out"), built_at $(json 'd["template"]["built_at"]' <<<"$out") (first $first)"
done
ok "a rebuild killed before or between its renames: the template is whole, old or new, never missing"

# A rebuild while a vserver runs on the template: its tree stays until the vserver is gone.
bed_bridge vs
export OE_CLOE_LIBVIRT_URI=$BED_LIBVIRT_URI OE_CLOE_NETWORK_BRIDGE=$BED_BRIDGE_VS OE_CLOE_LOCKS_WAIT=0
hostip=$BED_BRIDGE_VS_IP
cloe_vserver_name kv
v=kv-${BED_ID,,}
_down() { C vserver destroy "$v" --force >/dev/null 2>&1 || true; }
bed_on_exit _down
C cluster init t --network "${hostip%.*}.0/24" --gateway "$hostip" >/dev/null
C @t node add n0 --local --address "${hostip%.*}.2" --storage "ssd=$CLOE_STORAGE" --memory 2G --cpus 2 >/dev/null
C @t vserver create "$v" --template kk --memory 256M --disk 128M >/dev/null
build --force >/dev/null
retired=$(find "$T" -maxdepth 1 -name 'kk.retired-*' | wc -l)
bed_assert_eq 1 "$retired" "trees kept while $v runs on the replaced one"
bed_assert_eq "xoe $CLOE_XOE_VERSION" "$(E "$v" xoe --version)" "xoe of the replaced tree, inside $v"
E "$v" test -s /etc/debian_version || bed_fail "the replaced tree is gone from under $v"
build >/dev/null  # unchanged: the tree is still in use
bed_assert_eq 1 "$(find "$T" -maxdepth 1 -name 'kk.retired-*' | wc -l)" "the kept tree while $v runs"
C @t vserver destroy "$v" --force >/dev/null
build >/dev/null
bed_assert_eq 0 "$(find "$T" -maxdepth 1 -name 'kk.retired-*' | wc -l)" "kept trees once $v is gone"
ok "a rebuild under a running vserver: the old tree kept while it runs, gone after"
