#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `cloe vserver create` against the raw steps, side by side in one run, on the
# test bed's private libvirtd (tests/cloe/lib.sh, the cached template `base`):
#   cloe: `cloe vserver create NAME` (check, placement, address and id range
#         from the inventory, the journaled job: layers, domain, start, until
#         a command answers inside), then `cloe vserver destroy --force`
#   raw:  the same mechanics by hand, without cloe's inventory and journal:
#         `vserver_probe up` (the ext4 image, the idmapped template and the
#         overlay mounted, then virsh-equivalent define + start of the same
#         kind of XML through libvirt's API), then `cloe __enter ... true`
#         until it answers; `vserver_probe down` after
# CLOE_BENCH_ROUNDS rounds (5), alternating; prints each side's median and
# the ratio cloe/raw (the issue's goal: <= 1.2). Needs root and the built
# cloe and vserver_probe (the newest build*/bin of the source tree, else PATH).
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export OE_SOURCE_DIR=${OE_SOURCE_DIR:-$src}
bin=
for d in "$OE_SOURCE_DIR"/build*/bin; do
  [[ -x $d/cloe ]] || continue
  [[ -z $bin || $d/cloe -nt $bin/cloe ]] && bin=$d
done
[[ -n $bin ]] && export PATH=$bin:$PATH
rounds=${CLOE_BENCH_ROUNDS:-5}
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_template
cloe_vservers
bed_bridge cc
hostip=$BED_BRIDGE_CC_IP
R=$BED_DIR/root
mkdir -p "$R/var/lib/oe/cloe/templates"
ln -s "$CLOE_CACHE/var/lib/oe/cloe/templates/base" "$R/var/lib/oe/cloe/templates/base"
export OE_CLOE_LIBVIRT_URI=$BED_LIBVIRT_URI OE_CLOE_NETWORK_BRIDGE=$BED_BRIDGE_CC OE_CLOE_LOCKS_WAIT=0
C() { cloe --root "$R" "$@"; }
v=bc-${BED_ID,,} r=br-${BED_ID,,}
cloe_vserver_name bc
cloe_vserver_name br
_down() { C vserver destroy "$v" --force >/dev/null 2>&1 || true; }
bed_on_exit _down
C cluster init b --network "${hostip%.*}.0/24" --gateway "$hostip" >/dev/null
C @b node add n0 --local --address "${hostip%.*}.2" --storage "ssd=$CLOE_STORAGE" --memory 4G --cpus "$(nproc)" >/dev/null
rip=${hostip%.*}.20  # outside the pool (its upper half)
# The raw side's id range: far above the referee's allocations.
base=$((100000 + 900 * 65536))

now() { date +%s%N; }
cloe_once() {
  local t0 t1
  t0=$(now)
  C @b vserver create "$v" --memory 256M --disk 128M >/dev/null
  t1=$(now)
  C @b vserver destroy "$v" --force >/dev/null
  echo $(((t1 - t0) / 1000))
}
raw_once() {
  local t0 t1 i
  t0=$(now)
  vserver_probe up "$BED_LIBVIRT_URI" "$CLOE_STORAGE" "$CLOE_TEMPLATE" "$r" "$base" 128 mem=256 \
    "net=$BED_BRIDGE_CC,$rip,24,$hostip" >/dev/null 2>&1
  for ((i = 0; i < 500; i++)); do
    cloe __enter "$BED_LIBVIRT_URI" "$r" true 2>/dev/null && break
    sleep 0.01
  done
  t1=$(now)
  ((i < 500)) || bed_fail "the raw vserver $r never answered"

  vserver_probe down "$BED_LIBVIRT_URI" "$CLOE_STORAGE" "$r" >/dev/null 2>&1
  echo $(((t1 - t0) / 1000))
}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
cloe_once >/dev/null  # warm: the first start of libvirtd's LXC driver
raw_once >/dev/null
c=() w=()
for ((k = 0; k < rounds; k++)); do
  c+=("$(cloe_once)")
  w+=("$(raw_once)")
done
cm=$(printf '%s\n' "${c[@]}" | median)
wm=$(printf '%s\n' "${w[@]}" | median)
printf 'vserver create until a command answers inside, %d rounds (microseconds):\n' "$rounds"
printf '  cloe vserver create: %s (median %s)\n' "${c[*]}" "$cm"
printf '  raw steps:           %s (median %s)\n' "${w[*]}" "$wm"
printf '  ratio cloe/raw: %.2f (goal <= 1.2)\n' "$(echo "$cm / $wm" | bc -l)"
