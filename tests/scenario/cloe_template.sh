# SPDX-License-Identifier: GPL-3.0-or-later
# cloe template build: a real debootstrap of Debian 12 with runit as init,
# from this host's apt mirror, into a cloe root kept in the test cache
# (OE_TEST_CACHE, default /var/cache/oe-test: built once per machine, about
# 1-5 minutes, keyed by its inputs; a second build of the same inputs is
# "unchanged" and changes nothing). The tree boots as a vserver's: runit-init
# as /sbin/init, no getty, no sysv scripts, a ctrlaltdel that does not sleep.
# show --verify finds a changed tree (exit 1), the next build makes it
# again. Bad input: exit 2, nothing made.
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
py=/usr/bin/python3
j() { $py -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
cloe_cache
cache=$CLOE_CACHE
C() { cloe --root "$cache" "$@"; }

# One build at a time on this machine (other tests use the same template).
exec 9>"$cache/.test-lock"
flock 9
out=$(C template build base --json) || bed_fail "template build exited $?"
bed_log "template build: built=$(j 'd["built"]' <<<"$out") in $(j 'round(d["seconds"], 1)' <<<"$out") s"
root=$(j 'd["template"]["root"]' <<<"$out")
sum=$(j 'd["template"]["checksum"]' <<<"$out")
[[ $(readlink -f "$root/sbin/init") == */runit-init ]] || bed_fail "/sbin/init is $(readlink -f "$root/sbin/init")"
[[ -x $root/usr/bin/runsvdir && -x $root/sbin/ip && -x $root/bin/ps ]] || bed_fail "runit, iproute2 or procps missing"
[[ -z $(ls "$root/etc/runit/runsvdir/default" | grep getty || true) ]] || bed_fail "getty services left"
[[ -e $root/etc/runit/no.emulate.sysv && -e $root/etc/runit/native.boot.run ]] || bed_fail "sysv emulation is on"
grep -q sleep "$root/etc/runit/ctrlaltdel" && bed_fail "ctrlaltdel sleeps"
mirror=$(j 'd["template"]["mirror"]' <<<"$out")
[[ $mirror == */debian || $mirror == */debian/ ]] || bed_fail "mirror $mirror is not a Debian archive"
grep -rqsF -- "$mirror" /etc/apt/sources.list /etc/apt/sources.list.d || bed_fail "mirror $mirror is not in this host's apt sources"
ok "template base: runit-init, no getty, no sysv, ctrlaltdel at once ($(j 'd["template"]["bytes"] >> 20' <<<"$out") MB)"

# The same inputs: nothing built, nothing changed.
again=$(C template build base --json)
bed_assert_eq False "$(j 'd["built"]' <<<"$again")" "built on a second run"
bed_assert_eq "$sum" "$(j 'd["template"]["checksum"]' <<<"$again")" "the checksum"
list=$(C template list --json)
bed_assert_contains "$(j '[t["name"] for t in d["templates"]]' <<<"$list")" "'base'" "template list"
ok "a second build of the same inputs: unchanged"

# A changed tree: show --verify exits 1, the next build makes it again.
echo tampered >"$root/etc/oe-tampered"
rc=0
C template show base --verify >/dev/null 2>&1 || rc=$?
bed_assert_eq 1 "$rc" "exit code of show --verify on a changed tree"
rm "$root/etc/oe-tampered"
C template show base --verify >/dev/null || bed_fail "show --verify on the tree as built"
ok "show --verify: a changed tree exits 1, the tree as built exits 0"

# Bad input: exit 2, one line, nothing made.
before=$(ls -A "$cache/var/lib/oe/cloe/templates")
for args in "Bad_Name" "a;b" "x --suite book-worm" "x --packages a;b" "x --packages ../x" "x --mirror ftp://h/debian" \
  "x --mirror http://h/debian'x"; do
  rc=0
  # shellcheck disable=SC2086
  err=$(C template build $args 2>&1 >/dev/null) || rc=$?
  bed_assert_eq 2 "$rc" "exit code of template build $args ($err)"
  bed_assert_eq 1 "$(grep -c . <<<"$err")" "one line for template build $args"
done
rc=0
C template show nosuch >/dev/null 2>&1 || rc=$?
bed_assert_eq 3 "$rc" "exit code of template show of an unknown template"
bed_assert_eq "$before" "$(ls -A "$cache/var/lib/oe/cloe/templates")" "templates after the bad input"
ok "bad input: exit 2 (3 for an unknown template), nothing made"
bed_log "all ok"
