#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `cloe backup` of a vserver against `tar | zstd` of the same layer, side by
# side in one run on the test bed's private libvirtd (tests/cloe/lib.sh, the
# cached template). One vserver gets CLOE_BENCH_RANDOM_MB (300) of random
# data and a copy of its template's /usr/lib (programs and Python: what a
# service's vserver holds); then
#   tar:    tar --xattrs --xattrs-include='*' -C UPPER -cf - . | zstd -T0 (what
#           TESTBED.md measured; the vserver idle, not frozen)
#   first:  cloe backup VSERVER (frozen, restic; the cluster's repository
#           made before by the backup of another vserver)
#   second: cloe backup VSERVER again, nothing changed
# and prints the speed ratio first/tar (the issue asks >= 0.8 of tar's
# speed, i.e. tar_s / first_s) and second/first (asks <= 10%), with the
# sizes; CLOE_BENCH_TRACE=1 shows a third backup's steps and restic's
# times (-vv). Needs root and the built cloe and vserver_probe (the newest
# build*/bin of the source tree, else PATH).
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export OE_SOURCE_DIR=${OE_SOURCE_DIR:-$src}
bin=
for d in "$OE_SOURCE_DIR"/build*/bin; do
  [[ -x $d/cloe ]] || continue
  [[ -z $bin || $d/cloe -nt $bin/cloe ]] && bin=$d
done
[[ -n $bin ]] && export PATH=$bin:$PATH
random_mb=${CLOE_BENCH_RANDOM_MB:-300}
source "$OE_SOURCE_DIR/tests/cloe/lib.sh"
cloe_template
cloe_vservers
bed_bridge bb
hostip=$BED_BRIDGE_BB_IP
R=$BED_DIR/root
mkdir -p "$R/var/lib/oe/cloe/templates"
ln -s "$CLOE_CACHE/var/lib/oe/cloe/templates/base" "$R/var/lib/oe/cloe/templates/base"
export OE_CLOE_LIBVIRT_URI=$BED_LIBVIRT_URI OE_CLOE_NETWORK_BRIDGE=$BED_BRIDGE_BB OE_CLOE_LOCKS_WAIT=0
C() { cloe --root "$R" "$@"; }
v=bench-${BED_ID,,} w=warm-${BED_ID,,}
cloe_vserver_name bench
cloe_vserver_name warm
_down() { C vserver destroy "$v" --force >/dev/null 2>&1 || true; C vserver destroy "$w" --force >/dev/null 2>&1 || true; }
bed_on_exit _down
C cluster init b --network "${hostip%.*}.0/24" --gateway "$hostip" >/dev/null
C @b node add n0 --local --address "${hostip%.*}.2" --storage "ssd=$CLOE_STORAGE" --memory 4G --cpus "$(nproc)" >/dev/null
C @b vserver create "$v" --memory 256M --disk 2G >/dev/null
# The cluster's repository on the node is made once (restic init: its key derivation
# is about 2 s): by the backup of another, empty vserver, as in a cluster in use.
C @b vserver create "$w" --memory 64M --disk 64M >/dev/null
C @b backup "$w" >/dev/null
E "$v" sh -c "mkdir -p /srv && head -c ${random_mb}M /dev/urandom > /srv/random && cp -a /usr/lib /srv/lib && sync"
upper=$CLOE_STORAGE/vservers/$v/layer/upper
layer_mb=$(du -sm "$upper" | cut -f1)

now() { date +%s.%N; }
sync
t0=$(now)
tar --xattrs --xattrs-include='*' -C "$upper" -cf - . | zstd -q -T0 -o "$BED_DIR/layer.tar.zst"
t1=$(now)
C @b backup "$v" >/dev/null
t2=$(now)
C @b backup "$v" >/dev/null
t3=$(now)
tar_s=$(echo "$t1 - $t0" | bc -l) first_s=$(echo "$t2 - $t1" | bc -l) second_s=$(echo "$t3 - $t2" | bc -l)
tar_mb=$(du -sm "$BED_DIR/layer.tar.zst" | cut -f1)
repo_mb=$(du -sm "$CLOE_STORAGE/backups/b" | cut -f1)
printf 'layer: %s MB (%s MB random, a copy of /usr/lib)\n' "$layer_mb" "$random_mb"
printf 'tar | zstd:          %6.2f s  %s MB\n' "$tar_s" "$tar_mb"
printf 'cloe backup, first:  %6.2f s  repository %s MB\n' "$first_s" "$repo_mb"
printf 'cloe backup, second: %6.2f s  (unchanged)\n' "$second_s"
printf 'speed of cloe backup / tar | zstd: %.2f (asked: >= 0.8)\n' "$(echo "$tar_s / $first_s" | bc -l)"
printf 'second / first: %.1f%% (asked: <= 10%%)\n' "$(echo "100 * $second_s / $first_s" | bc -l)"
if [[ -n ${CLOE_BENCH_TRACE:-} ]]; then C -vv @b backup "$v" 2>&1 >/dev/null | grep -E 'ran|exited|frozen|thawed|backup' || true; fi
