# SPDX-License-Identifier: GPL-3.0-or-later
# cloe update: the suite's oe-xoe of a flat repository upgraded in every
# running vserver of a cluster, node by node, stopping at the first failure.
# Vservers of the template `xoe` (the build's oe-xoe, as scenario.cloe_xoe
# makes it), one of template `base` (no xoe: skipped) and a stopped one
# (skipped); a newer package made from the build's (its version bumped with
# dpkg-deb); --dry-run changes nothing; the update brings both xoe vservers
# to it and xoe still answers inside; again: up to date; a package whose
# dependency no vserver can get fails in the first vserver, leaves its
# version as it was, and the next one is not reached (exit 1). Bad input:
# one line, the documented code.
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_cache
cloe_vservers
cloe_repo
bed_bridge vs
br=$BED_BRIDGE_VS hostip=$BED_BRIDGE_VS_IP
net=${hostip%.*}.0/24
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

R=$BED_DIR/root
mkdir -p "$R/var/lib/oe/cloe/templates"
(
  flock 9
  cloe --root "$CLOE_CACHE" template build base >/dev/null
  cloe --root "$CLOE_CACHE" template build xoe --repository "$CLOE_REPO" >/dev/null
) 9>"$CLOE_CACHE/.test-lock" || bed_fail "template build"
for t in base xoe; do ln -s "$CLOE_CACHE/var/lib/oe/cloe/templates/$t" "$R/var/lib/oe/cloe/templates/$t"; done

# A newer package: the build's, its version bumped; and one depending on what no vserver has.
bump() {  # bump VERSION DEPENDS-EXTRA OUTDIR
  local w=$BED_DIR/deb-$1
  rm -rf "$w"
  mkdir -p "$w"
  dpkg-deb -R "$CLOE_REPO"/oe-xoe_*.deb "$w/tree"
  sed -i "s/^Version: .*/Version: $1/" "$w/tree/DEBIAN/control"
  [[ -z $2 ]] || sed -i "s/^Depends: /Depends: $2, /" "$w/tree/DEBIAN/control"
  dpkg-deb --root-owner-group -b "$w/tree" "$w/oe-xoe_$1_amd64.deb" >/dev/null
  "$OE_SOURCE_DIR/packaging/oe-apt-repo" "$3" "$w/oe-xoe_$1_amd64.deb" >/dev/null
}
new=$CLOE_XOE_VERSION+u1
bump "$new" "" "$BED_DIR/repo-new"
bump "$new+u2" "oe-no-such-package" "$BED_DIR/repo-broken"

export OE_CLOE_LIBVIRT_URI=$BED_LIBVIRT_URI OE_CLOE_NETWORK_BRIDGE=$br OE_CLOE_LOCKS_WAIT=0
C() { cloe --root "$R" "$@"; }
id=${BED_ID,,}
x1=u1-$id x2=u2-$id b=ub-$id s=us-$id
for n in u1 u2 ub us; do cloe_vserver_name "$n"; done
_down() { local n; for n in "$x1" "$x2" "$b" "$s"; do C vserver destroy "$n" --force >/dev/null 2>&1 || true; done; }
bed_on_exit _down
C cluster init t --network "$net" --gateway "$hostip" >/dev/null
C @t node add n0 --local --address "${hostip%.*}.2" --storage "ssd=$CLOE_STORAGE" --memory 4G --cpus 2 >/dev/null
for v in "$x1" "$x2"; do C @t vserver create "$v" --template xoe --memory 256M --disk 256M >/dev/null; done
C @t vserver create "$b" --memory 128M --disk 96M >/dev/null
C @t vserver create "$s" --template xoe --memory 128M --disk 256M --no-start >/dev/null
version_in() { E "$1" dpkg-query -W -f='${Version}' oe-xoe; }
bed_assert_eq "$CLOE_XOE_VERSION" "$(version_in "$x1")" "oe-xoe in $x1 before"
ok "vservers $x1, $x2 (xoe $CLOE_XOE_VERSION), $b (base), $s (stopped); packages $new and $new+u2 (broken)"

outcome() { json '" ".join(e["vserver"]+"="+e["outcome"] for e in d["vservers"])'; }
db=$R/var/lib/oe/referee.db
before=$(sha256sum "$db")
out=$(C @t update --repository "$BED_DIR/repo-new" --dry-run --json)
bed_assert_eq "$x1=would-update $x2=would-update $b=skipped $s=skipped" "$(outcome <<<"$out")" "dry run"
bed_assert_eq "$CLOE_XOE_VERSION" "$(version_in "$x1")" "oe-xoe in $x1 after the dry run"
ok "update --dry-run: both would update, the base and the stopped vserver skipped, nothing changed"

out=$(C @t update --repository "$BED_DIR/repo-new" --json) || bed_fail "update exited $?"
bed_assert_eq "$x1=updated $x2=updated $b=skipped $s=skipped" "$(outcome <<<"$out")" "update"
for v in "$x1" "$x2"; do
  bed_assert_eq "$new" "$(version_in "$v")" "oe-xoe in $v after the update"
  bed_assert_eq "xoe $CLOE_XOE_VERSION" "$(C @t xoe "$v" -- --version)" "xoe inside $v answers"
  E "$v" test ! -e /var/cache/oe-update || bed_fail "the package was left in $v"
done
out=$(C @t update --repository "$BED_DIR/repo-new" --json)
bed_assert_eq "$x1=up-to-date $x2=up-to-date $b=skipped $s=skipped" "$(outcome <<<"$out")" "update again"
bed_assert_eq "$before" "$(sha256sum "$db")" "the inventory after the updates"
ok "update: $x1 and $x2 at $new, xoe answers inside; again: up to date"

rc=0; out=$(C @t update --repository "$BED_DIR/repo-broken" --json 2>"$BED_DIR/err") || rc=$?
bed_assert_eq 1 "$rc" "exit code of an update that fails"
bed_assert_eq "$x1=failed $x2=not-reached $b=not-reached $s=not-reached" "$(outcome <<<"$out")" "the failed update"
bed_assert_contains "$(cat "$BED_DIR/err")" "update stopped at vserver $x1" "the error names the vserver"
for v in "$x1" "$x2"; do bed_assert_eq "$new" "$(version_in "$v")" "oe-xoe in $v after the failed update"; done
ok "a package no vserver can install: failed in $x1 (unchanged), $x2 not reached, exit 1"

expect() {  # expect CODE CMD...
  local code=$1 rc=0 err; shift
  err=$(C "$@" 2>&1 >/dev/null) || rc=$?
  bed_assert_eq "$code" "$rc" "exit code of cloe $* ($err)"
  bed_assert_eq 1 "$(grep -c . <<<"$err")" "one line for cloe $*"
}
mkdir -p "$BED_DIR/empty"
expect 2 @t update --repository "$BED_DIR/empty"
expect 2 @t update
expect 3 @nosuch update --repository "$BED_DIR/repo-new"
bed_assert_eq "$before" "$(sha256sum "$db")" "the inventory after the bad input"
ok "bad input: no repository, no oe-xoe in it, an unknown cluster"
