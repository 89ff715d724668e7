# SPDX-License-Identifier: GPL-3.0-or-later
# cloe doctor against a real libvirtd (the bed's private one): it reaches it,
# starts and destroys a real container, and exits 0; against a libvirtd that
# does not answer it says so, says how to fix it, and exits 6.
source "$OE_SOURCE_DIR/tests/bed/bed.sh"
bed_init
bed_libvirtd
root="$BED_DIR/root"
mkdir -p "$root"

json=$(cloe --root "$root" --set "libvirt.uri=$BED_LIBVIRT_URI" doctor --json) || bed_fail "doctor exited $? on a usable host: $json"
status() { /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print([c["status"] for c in d["checks"] if c["name"]==sys.argv[1]][0])' "$1" <<<"$json"; }
bed_assert_eq ok "$(status libvirtd)" "libvirtd check"
bed_assert_eq ok "$(status 'LXC container start')" "container start check"
bed_assert_eq True "$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["ok"])' <<<"$json")" "ok"
# Nothing left behind on that libvirtd.
bed_assert_eq "" "$(virsh -c "$BED_LIBVIRT_URI" list --all --name | grep oe-doctor || true)" "leftover doctor domains"

rc=0
out=$(cloe --root "$root" --set "libvirt.uri=lxc:///system?socket=$BED_DIR/no-such-sock" doctor) || rc=$?
bed_assert_eq 6 "$rc" "exit code of doctor on a host without libvirtd"
grep -Eq '^libvirtd +fail ' <<<"$out" || bed_fail "no failed libvirtd line in: $out"
bed_assert_contains "$out" "start libvirtd" "fix hint"
bed_assert_contains "$out" "This host is not ready" "verdict"
# The seed's form gives the same answer.
rc=0
cloe --root "$root" --set "libvirt.uri=$BED_LIBVIRT_URI" @local --doctor >/dev/null || rc=$?
bed_assert_eq 0 "$rc" "cloe @local --doctor"
bed_log "cloe doctor: ok"
